package store

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"
)

// AttemptOutcome is one finished attempt and what it means for its delivery.
type AttemptOutcome struct {
	Attempt Attempt
	// Status is pending (try again at NextAttemptAt), succeeded or failed (no attempts left).
	Status        DeliveryStatus
	NextAttemptAt *time.Time
	// DisableReason, when set, switches the webhook off: its attempts are exhausted, or the
	// receiver answered 410 Gone.
	DisableReason string
	// Created is when the event was published, for the end-to-end latency of successes.
	Created time.Time
	// Cancel, when set, records no attempt: the pending delivery becomes cancelled with this
	// reason (its webhook was switched off, deleted, or no longer receives the event).
	Cancel string
	// Requeue, when set, records no attempt either: the delivery goes back to the queue, due
	// at NextAttemptAt (it could not be sent, for a reason that was not the receiver's).
	Requeue bool
	// LeaseOwner is the lease the attempt was made under (Delivery.LeaseOwner): when the
	// delivery is held under another lease now (its shard moved to another node), the
	// outcome keeps its attempt in the history and changes nothing else.
	LeaseOwner string
}

// fenced is the condition under which an outcome may change its delivery: it was made under
// the lease the delivery is held with (or the caller names none). Two parameters: the
// outcome's LeaseOwner, twice.
const fenced = `(? = '' OR lease_owner IS NULL OR lease_owner = ?)`

// RecordAttempts writes a batch of outcomes in one transaction: the attempts, their
// deliveries, the webhooks' health counters and hourly figures, and any switch-offs (which
// cancel the webhook's other pending deliveries and leave its owner a notice). It returns the
// ids of the webhooks it switched off. An outcome for a delivery that is no longer pending
// (cancelled meanwhile) keeps its attempt and changes nothing else.
func (s *Store) RecordAttempts(ctx context.Context, outs []AttemptOutcome) ([]string, error) {
	// Webhook by webhook (keeping each one's order): concurrent batches lock rows in one order.
	outs = slices.Clone(outs)
	slices.SortStableFunc(outs, func(a, b AttemptOutcome) int { return strings.Compare(a.Attempt.WebhookID, b.Attempt.WebhookID) })
	var disabled []string
	err := s.withTx(ctx, true, func(tx *Tx) error {
		disabled = disabled[:0]
		ins, err := tx.PrepareContext(ctx, `INSERT INTO attempts (delivery_id, webhook_id, number, started_at, duration_us,
			request_headers, status_code, response_headers, response_body, truncated, error, ok, headers_truncated, request_body)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		upd, err := tx.PrepareContext(ctx, `UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?,
			lease_until = NULL, lease_owner = NULL, last_status_code = ?, last_error = ?, updated_at = ?
			WHERE id = ? AND status = 'pending' AND `+fenced)
		if err != nil {
			return err
		}
		defer upd.Close()
		now := s.nowMS()
		hours := map[[2]string]*HourStats{}
		for _, o := range outs {
			a := o.Attempt
			if o.Cancel != "" {
				if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL,
					lease_until = NULL, lease_owner = NULL, last_error = ?, updated_at = ?
					WHERE id = ? AND status = 'pending' AND `+fenced,
					o.Cancel, now, a.DeliveryID, o.LeaseOwner, o.LeaseOwner); err != nil {
					return err
				}
				continue
			}
			if o.Requeue {
				if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET next_attempt_at = ?, lease_until = NULL,
					lease_owner = NULL WHERE id = ? AND status = 'pending' AND `+fenced,
					msPtr(o.NextAttemptAt), a.DeliveryID, o.LeaseOwner, o.LeaseOwner); err != nil {
					return err
				}
				continue
			}
			res, err := upd.ExecContext(ctx, o.Status, a.Number, msPtr(o.NextAttemptAt), a.StatusCode, a.Error, now, a.DeliveryID, o.LeaseOwner, o.LeaseOwner)
			if err != nil {
				return err
			}
			pending, _ := res.RowsAffected()
			if pending == 0 {
				// Cancelled while the attempt was in flight: keep the attempt and its count;
				// or deleted with its webhook: nothing to keep.
				res, err := tx.ExecContext(ctx, `UPDATE deliveries SET attempts = CASE WHEN attempts > ? THEN attempts ELSE ? END WHERE id = ?`, a.Number, a.Number, a.DeliveryID)
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n == 0 {
					continue
				}
			}
			reqH, _ := json.Marshal(a.RequestHeaders)
			respH, _ := json.Marshal(a.ResponseHeaders)
			if a.ResponseHeaders == nil {
				respH = []byte("{}")
			}
			if _, err := ins.ExecContext(ctx, a.DeliveryID, a.WebhookID, a.Number, ms(a.StartedAt), a.Duration.Microseconds(),
				string(reqH), a.StatusCode, string(respH), []byte(a.ResponseBody), a.Truncated, a.Error, a.OK, a.HeadersTruncated,
				a.RequestBody); err != nil {
				return err
			}
			if pending == 0 {
				continue
			}
			if a.OK {
				_, err = tx.ExecContext(ctx, `UPDATE webhooks SET consecutive_failures = 0, last_success_at = ? WHERE id = ?`,
					ms(a.StartedAt), a.WebhookID)
			} else {
				_, err = tx.ExecContext(ctx, `UPDATE webhooks SET consecutive_failures = consecutive_failures + 1,
					last_failure_at = ?, last_error = ? WHERE id = ?`, ms(a.StartedAt), a.Error, a.WebhookID)
			}
			if err != nil {
				return err
			}
			hour := a.StartedAt.UTC().Truncate(time.Hour)
			key := [2]string{a.WebhookID, hour.Format(time.RFC3339)}
			h := hours[key]
			if h == nil {
				h = &HourStats{Hour: hour, Latency: newHistogram()}
				hours[key] = h
			}
			h.Attempts++
			h.Latency.Add(a.Duration)
			if !a.OK {
				h.Failures++
			}
			switch o.Status {
			case DeliverySucceeded:
				h.Succeeded++
			case DeliveryFailed:
				h.Failed++
			}
			if o.DisableReason != "" {
				off, err := s.switchOff(ctx, tx, a.WebhookID, StatusUnhealthy, o.DisableReason, now)
				if err != nil {
					return err
				}
				if off {
					disabled = append(disabled, a.WebhookID)
				}
			}
		}
		// In key order: two batches touching the same webhooks (on PostgreSQL, while a shard
		// changes hands) then lock their rows in the same order and cannot deadlock.
		for _, key := range slices.SortedFunc(maps.Keys(hours), func(a, b [2]string) int {
			return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]))
		}) {
			if err := addHour(ctx, tx, key[0], *hours[key]); err != nil {
				return err
			}
		}
		return nil
	})
	for _, id := range disabled {
		s.changedWebhook(id)
	}
	return disabled, err
}

// switchOff disables an enabled webhook, cancels its pending deliveries and, when it was
// failing, tells its owner. It reports whether the webhook was on.
func (s *Store) switchOff(ctx context.Context, tx *Tx, id string, status WebhookStatus, reason string, now int64) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE webhooks SET enabled = 0, status = ?, disabled_reason = ?,
		disabled_at = ?, last_disabled_at = ?, updated_at = ? WHERE id = ? AND enabled = 1`, status, reason, now, now, now, id)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if err := keepHeldBackAsMissed(ctx, tx, id, now); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, lease_until = NULL,
		last_error = 'Cancelled: the webhook was switched off.', updated_at = ? WHERE webhook_id = ? AND status = 'pending'`, now, id); err != nil {
		return false, err
	}
	if status == StatusUnhealthy {
		if _, err := tx.ExecContext(ctx, `INSERT INTO notifications (id, user_id, webhook_id, text, created_at)
			SELECT ?, owner_id, id, 'Your webhook “' || name || '” was switched off: ' || CAST(? AS TEXT), CAST(? AS BIGINT) FROM webhooks WHERE id = ?`,
			s.newID("ntf", now), reason, now, id); err != nil {
			return false, err
		}
	}
	return true, nil
}

// keepHeldBackAsMissed turns the deliveries an ordered webhook (SPEC §9) was holding back
// behind an earlier one into missed events as it is switched off, so that "replay missed"
// sends them again in publish order; deliveries already tried (or being tried) are
// cancelled like any other's.
func keepHeldBackAsMissed(ctx context.Context, tx *Tx, webhookID string, now int64) error {
	const heldBack = `FROM deliveries d WHERE d.webhook_id = ? AND d.status = 'pending' AND d.attempts = 0
		AND d.lease_until IS NULL AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.webhook_id AND w.ordered = 1)`
	if _, err := tx.ExecContext(ctx, `INSERT INTO missed_events (webhook_id, event_id, created_at)
		SELECT d.webhook_id, d.event_id, CAST(? AS BIGINT) `+heldBack+` ON CONFLICT DO NOTHING`, now, webhookID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE id IN (SELECT d.id `+heldBack+`)`, webhookID)
	return err
}
