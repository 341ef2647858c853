package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"
)

// The queue operations. A pending delivery is either queued (no lease: it waits in the
// database until it is due and the sender has room for it) or held (leased by the sender,
// which will attempt it and then record the outcome, clearing the lease). See the drawing
// in package delivery.

// QueueItem is a held delivery as the sender needs it: no payload, which is loaded only when
// the request is about to be sent.
type QueueItem struct {
	DeliveryID string
	WebhookID  string
	EventID    string
	MessageID  string // webhook-id: the same on every attempt, resend and replay
	Attempts   int    // attempts already made
	Due        time.Time
}

// Claim asks for up to Limit due deliveries of one webhook, to hold under the lease Owner
// ("node#epoch"). An Ordered claim (SPEC §9) takes only the webhook's oldest pending
// delivery by id, and only when it is due and not held: a delivery waiting for its retry
// holds back the later ones.
type Claim struct {
	WebhookID string
	Limit     int
	Owner     string
	Ordered   bool
}

// Claimed is what one Claim got: the deliveries, oldest due first, and when the webhook's
// next queued delivery is due (nil when none is left queued; for an ordered claim, when its
// oldest pending delivery is due, nil when that one is held or was just claimed).
type Claimed struct {
	WebhookID string
	Items     []QueueItem
	NextDue   *time.Time
}

// ClaimDue leases, in one transaction, the oldest due queued deliveries of each webhook asked
// for, until leaseUntil, and reports when each webhook's next queued delivery is due.
func (s *Store) ClaimDue(ctx context.Context, now, leaseUntil time.Time, claims []Claim) ([]Claimed, error) {
	out := make([]Claimed, 0, len(claims))
	err := s.withTx(ctx, true, func(tx *Tx) error {
		out = out[:0]
		claim, err := tx.PrepareContext(ctx, `UPDATE deliveries SET lease_until = ?, lease_owner = ? WHERE id IN (
			SELECT id FROM deliveries WHERE webhook_id = ? AND status = 'pending' AND lease_until IS NULL
			AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`+tx.d.skipLocked+`)
			RETURNING id, webhook_id, event_id, message_id, attempts, next_attempt_at`)
		if err != nil {
			return err
		}
		defer claim.Close()
		next, err := tx.PrepareContext(ctx, `SELECT MIN(next_attempt_at) FROM deliveries
			WHERE webhook_id = ? AND status = 'pending' AND lease_until IS NULL`)
		if err != nil {
			return err
		}
		defer next.Close()
		for _, c := range claims {
			if c.Ordered {
				got, err := claimHead(ctx, tx, c, now, leaseUntil)
				if err != nil {
					return err
				}
				out = append(out, got)
				continue
			}
			got := Claimed{WebhookID: c.WebhookID}
			if c.Limit > 0 {
				rows, err := claim.QueryContext(ctx, ms(leaseUntil), nullString(c.Owner), c.WebhookID, ms(now), c.Limit)
				items, err := collect(rows, err, scanQueueItem)
				if err != nil {
					return err
				}
				sortQueueItems(items)
				got.Items = items
			}
			var due nullMS
			if err := next.QueryRowContext(ctx, c.WebhookID).Scan(&due); err != nil {
				return err
			}
			got.NextDue = due.time()
			out = append(out, got)
		}
		return nil
	})
	return out, err
}

// claimHead is an ordered Claim: the webhook's oldest pending delivery, when it is due and
// not held.
func claimHead(ctx context.Context, tx *Tx, c Claim, now, leaseUntil time.Time) (Claimed, error) {
	got := Claimed{WebhookID: c.WebhookID}
	var id string
	var lease, due nullMS
	err := tx.QueryRowContext(ctx, `SELECT id, lease_until, next_attempt_at FROM deliveries
		WHERE webhook_id = ? AND status = 'pending' ORDER BY id LIMIT 1`, c.WebhookID).Scan(&id, &lease, &due)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return got, nil
	case err != nil:
		return got, err
	case lease.time() != nil:
		return got, nil // held already: its outcome comes first
	}
	at := due.time()
	if at == nil || at.After(now) || c.Limit <= 0 {
		got.NextDue = at
		return got, nil
	}
	rows, err := tx.QueryContext(ctx, `UPDATE deliveries SET lease_until = ?, lease_owner = ?
		WHERE id = ? AND status = 'pending' AND lease_until IS NULL
		RETURNING id, webhook_id, event_id, message_id, attempts, next_attempt_at`, ms(leaseUntil), nullString(c.Owner), id)
	got.Items, err = collect(rows, err, scanQueueItem)
	return got, err
}

func scanQueueItem(row scanner) (QueueItem, error) {
	var it QueueItem
	var due nullMS
	err := row.Scan(&it.DeliveryID, &it.WebhookID, &it.EventID, &it.MessageID, &it.Attempts, &due)
	if t := due.time(); t != nil {
		it.Due = *t
	}
	return it, err
}

// sortQueueItems puts claimed items in due order (RETURNING gives no order guarantee).
func sortQueueItems(items []QueueItem) {
	slices.SortFunc(items, func(a, b QueueItem) int {
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		return strings.Compare(a.DeliveryID, b.DeliveryID)
	})
}

// QueuedWebhooks reports, for every webhook with queued deliveries, when its first is due.
// The sender reads it once at start, so a restart does not load the backlog itself.
func (s *Store) QueuedWebhooks(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT webhook_id, MIN(next_attempt_at) FROM deliveries
		WHERE status = 'pending' AND lease_until IS NULL GROUP BY webhook_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var due nullMS
		if err := rows.Scan(&id, &due); err != nil {
			return nil, err
		}
		if t := due.time(); t != nil {
			out[id] = *t
		}
	}
	return out, rows.Err()
}

// ReleaseHeld puts held deliveries back in the queue (the sender stopped before sending them).
func (s *Store) ReleaseHeld(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE deliveries SET lease_until = NULL, lease_owner = NULL WHERE id = ? AND status = 'pending'`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, id := range ids {
			if _, err := stmt.ExecContext(ctx, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// EventsByID loads the events with the given ids (for payloads about to be sent).
func (s *Store) EventsByID(ctx context.Context, ids []string) (map[string]Event, error) {
	out := make(map[string]Event, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), 200)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		rows, err := s.read.QueryContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id IN (`+placeholders(n)+`)`, args...)
		evs, err := collect(rows, err, scanEvent)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			out[e.ID] = e
		}
		ids = ids[n:]
	}
	return out, nil
}
