package store

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

const (
	DeliveryPending   DeliveryStatus = "pending"   // waiting for its next attempt
	DeliverySucceeded DeliveryStatus = "succeeded" // a 2xx arrived
	DeliveryFailed    DeliveryStatus = "failed"    // attempts exhausted
	DeliveryCancelled DeliveryStatus = "cancelled" // its webhook was switched off or deleted first
)

// Delivery is one event for one webhook.
type Delivery struct {
	ID             string         `json:"id"`
	EventID        string         `json:"eventId"`
	WebhookID      string         `json:"webhookId"`
	EventType      string         `json:"event"`
	Status         DeliveryStatus `json:"status"`
	Attempts       int            `json:"attempts"`
	NextAttemptAt  *time.Time     `json:"nextAttemptAt"`
	LastStatusCode int            `json:"lastStatusCode"`
	LastError      string         `json:"lastError"`
	ResendOf       string         `json:"resendOf,omitempty"`
	// MessageID is the webhook-id the delivery is signed with: the same for every attempt,
	// resend and replay of one event to one webhook (the first delivery's id).
	MessageID  string     `json:"messageId"`
	CreatedAt  time.Time  `json:"createdAt"`
	UpdatedAt  time.Time  `json:"updatedAt"`
	LeaseUntil *time.Time `json:"-"`
	// LeaseOwner is the node and shard-lease epoch holding it ("node#epoch"): an outcome
	// written under another holder's lease changes nothing but the history.
	LeaseOwner string `json:"-"`
}

// Attempt is one HTTP try of a delivery.
type Attempt struct {
	ID              int64         `json:"-"`
	DeliveryID      string        `json:"deliveryId"`
	WebhookID       string        `json:"-"`
	Number          int           `json:"number"`
	StartedAt       time.Time     `json:"startedAt"`
	Duration        time.Duration `json:"-"`
	DurationMs      float64       `json:"durationMs"`
	RequestHeaders  http.Header   `json:"requestHeaders"`
	StatusCode      int           `json:"responseStatus"`
	ResponseHeaders http.Header   `json:"responseHeaders"`
	ResponseBody    string        `json:"responseBody"`
	Truncated       bool          `json:"responseTruncated"`
	Error           string        `json:"error"`
	OK              bool          `json:"ok"`
	// HeadersTruncated: the request or response headers were cut to the 16 KiB kept.
	HeadersTruncated bool `json:"headersTruncated"`
	// RequestBody is the body the attempt sent, byte for byte; nil for attempts made before
	// Hookyard kept it.
	RequestBody []byte `json:"-"`
}

// deliveryColumnsOf lists the delivery columns, qualified by a table alias ("" for none).
func deliveryColumnsOf(a string) string {
	return a + `id, ` + a + `event_id, ` + a + `webhook_id, ` + a + `event_type, ` + a + `status, ` + a + `attempts, ` +
		a + `next_attempt_at, ` + a + `lease_until, ` + a + `last_status_code, ` + a + `last_error, COALESCE(` +
		a + `resend_of, ''), ` + a + `message_id, ` + a + `created_at, ` + a + `updated_at`
}

var deliveryColumns = deliveryColumnsOf("")

func scanDelivery(row scanner) (Delivery, error) {
	var d Delivery
	var next, lease nullMS
	var created, updated int64
	err := row.Scan(&d.ID, &d.EventID, &d.WebhookID, &d.EventType, &d.Status, &d.Attempts, &next, &lease,
		&d.LastStatusCode, &d.LastError, &d.ResendOf, &d.MessageID, &created, &updated)
	d.NextAttemptAt, d.LeaseUntil = next.time(), lease.time()
	d.CreatedAt, d.UpdatedAt = fromMS(created), fromMS(updated)
	return d, notFound(err)
}

// Delivery returns one delivery or ErrNotFound.
func (s *Store) Delivery(ctx context.Context, id string) (Delivery, error) {
	return scanDelivery(s.read.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = ?`, id))
}

// DeliveryFilter narrows a delivery list; empty fields do not filter.
type DeliveryFilter struct {
	WebhookID string
	EventID   string
	Status    DeliveryStatus
	EventType string
}

// ListDeliveries returns one page of deliveries, newest first.
func (s *Store) ListDeliveries(ctx context.Context, f DeliveryFilter, p Page) ([]Delivery, string, error) {
	p, err := p.forList("dlv")
	if err != nil {
		return nil, "", err
	}
	where, args := []string{`1 = 1`}, []any{}
	if p.Cursor != "" {
		where, args = append(where, `id < ?`), append(args, p.Cursor)
	}
	for _, c := range []struct{ col, v string }{{"webhook_id", f.WebhookID}, {"event_id", f.EventID},
		{"status", string(f.Status)}, {"event_type", f.EventType}} {
		if c.v != "" {
			where, args = append(where, c.col+` = ?`), append(args, c.v)
		}
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE `+
		strings.Join(where, ` AND `)+` ORDER BY id DESC LIMIT ?`, append(args, p.Limit+1)...)
	return collectPage(rows, err, p, scanDelivery, func(d Delivery) string { return d.ID })
}

// Attempts returns a delivery's attempts in order.
func (s *Store) Attempts(ctx context.Context, deliveryID string) ([]Attempt, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, delivery_id, webhook_id, number, started_at, duration_us,
		request_headers, status_code, response_headers, response_body, truncated, error, ok, headers_truncated, request_body
		FROM attempts WHERE delivery_id = ? ORDER BY number`, deliveryID)
	return collect(rows, err, func(row scanner) (Attempt, error) {
		var a Attempt
		var started, durUS int64
		var reqH, respH string
		var body []byte
		err := row.Scan(&a.ID, &a.DeliveryID, &a.WebhookID, &a.Number, &started, &durUS, &reqH, &a.StatusCode,
			&respH, &body, &a.Truncated, &a.Error, &a.OK, &a.HeadersTruncated, &a.RequestBody)
		a.StartedAt, a.Duration = fromMS(started), time.Duration(durUS)*time.Microsecond
		a.DurationMs = float64(durUS) / 1000
		a.ResponseBody = string(body)
		_ = json.Unmarshal([]byte(reqH), &a.RequestHeaders)
		_ = json.Unmarshal([]byte(respH), &a.ResponseHeaders)
		return a, err
	})
}

// PendingWork is a pending delivery with the event it carries, handed to the sender (a resend).
type PendingWork struct {
	Delivery Delivery
	Event    Event
}

// ReleaseLeases frees every lease: called at start, when no other process can be sending
// (SQLite has one writer process), so deliveries in flight at a crash are sent again.
func (s *Store) ReleaseLeases(ctx context.Context) error {
	_, err := s.write.ExecContext(ctx, `UPDATE deliveries SET lease_until = NULL, lease_owner = NULL WHERE status = 'pending' AND lease_until IS NOT NULL`)
	return err
}

// CancelDelivery marks a pending delivery cancelled (its webhook is off or gone).
func (s *Store) CancelDelivery(ctx context.Context, id, reason string) error {
	_, err := s.write.ExecContext(ctx, `UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, lease_until = NULL,
		last_error = ?, updated_at = ? WHERE id = ? AND status = 'pending'`, reason, s.nowMS(), id)
	return err
}

// AddDeliveries stores new pending deliveries (a resend or a replay).
func (s *Store) AddDeliveries(ctx context.Context, ds []Delivery) error {
	return s.WithTx(ctx, func(tx *Tx) error { return insertDeliveries(ctx, tx, ds) })
}

// CountWaiting counts a webhook's pending deliveries, up to limit (a larger backlog counts
// as limit, so a page showing it stays quick).
func (s *Store) CountWaiting(ctx context.Context, webhookID string, limit int) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM deliveries
		WHERE webhook_id = ? AND status = 'pending' LIMIT ?) AS waiting`, webhookID, limit).Scan(&n)
	return n, err
}

// OldestPending returns a webhook's oldest pending delivery by id: for an ordered webhook
// (SPEC §9), the one every later delivery waits behind. ErrNotFound when none is pending.
func (s *Store) OldestPending(ctx context.Context, webhookID string) (Delivery, error) {
	var id string
	err := s.read.QueryRowContext(ctx, `SELECT id FROM deliveries WHERE webhook_id = ? AND status = 'pending'
		ORDER BY id LIMIT 1`, webhookID).Scan(&id)
	if err != nil {
		return Delivery{}, notFound(err)
	}
	return s.Delivery(ctx, id)
}

// PendingStats reports how many deliveries wait and since when the oldest due one is due,
// for the webhooks of one owner, or all with ownerID "".
func (s *Store) PendingStats(ctx context.Context, ownerID string) (pending int, oldestDue *time.Time, err error) {
	var oldest nullMS
	q, args := `SELECT COUNT(*), MIN(next_attempt_at) FROM deliveries WHERE status = 'pending'`, []any{}
	if ownerID != "" {
		q += ` AND webhook_id IN (SELECT id FROM webhooks WHERE owner_id = ?)`
		args = append(args, ownerID)
	}
	err = s.read.QueryRowContext(ctx, q, args...).Scan(&pending, &oldest)
	if t := oldest.time(); t != nil && t.Before(s.now()) {
		oldestDue = t
	}
	return pending, oldestDue, err
}

// ReplayWork returns, oldest first and once each, the events a webhook should get again:
// with missedOnly, those it failed, had cancelled or kept as missed since the given time;
// otherwise every event it received or missed since then.
func (s *Store) ReplayWork(ctx context.Context, webhookID string, since time.Time, missedOnly bool) ([]Event, error) {
	return replayWork(ctx, s.read, webhookID, since, missedOnly)
}

func replayWork(ctx context.Context, q querier, webhookID string, since time.Time, missedOnly bool) ([]Event, error) {
	statusFilter, sinceCol := ``, `d.created_at`
	if missedOnly {
		// A delivery that failed or was cancelled when the webhook went off was last
		// updated at that moment, though it may have been created before.
		sinceCol = `d.updated_at`
		// A failed or cancelled delivery counts only if no later delivery of the event (a
		// resend or an earlier replay) succeeded.
		statusFilter = ` AND d.status IN ('failed', 'cancelled') AND NOT EXISTS (SELECT 1 FROM deliveries d2
			WHERE d2.webhook_id = d.webhook_id AND d2.event_id = d.event_id AND d2.status IN ('succeeded', 'pending'))`
	}
	rows, err := q.QueryContext(ctx, `SELECT `+prefixed("e.", eventColumns)+` FROM events e WHERE e.id IN (
			SELECT d.event_id FROM deliveries d WHERE d.webhook_id = ? AND `+sinceCol+` >= ?`+statusFilter+`
			UNION SELECT m.event_id FROM missed_events m WHERE m.webhook_id = ? AND m.created_at >= ?)
		ORDER BY e.id`, webhookID, ms(since), webhookID, ms(since))
	return collect(rows, err, scanEvent)
}

// Replay sends events to a webhook again, atomically: it reads what ReplayWork would return,
// keeps those the webhook still receives (keep), stores a new pending delivery for each
// (made by newDelivery), and forgets the missed records of everything it looked at. Two
// replays at once therefore never send an event twice.
func (s *Store) Replay(ctx context.Context, webhookID string, since time.Time, missedOnly bool,
	keep func(Event) bool, newDelivery func(Event) Delivery) ([]PendingWork, error) {
	var work []PendingWork
	err := s.WithTx(ctx, func(tx *Tx) error {
		work = work[:0]
		if err := tx.Serialize(ctx, "replay "+webhookID); err != nil {
			return err
		}
		events, err := replayWork(ctx, tx, webhookID, since, missedOnly)
		if err != nil {
			return err
		}
		var ds []Delivery
		for _, ev := range events {
			if _, err := tx.ExecContext(ctx, `DELETE FROM missed_events WHERE webhook_id = ? AND event_id = ?`, webhookID, ev.ID); err != nil {
				return err
			}
			if keep(ev) {
				d := newDelivery(ev)
				ds = append(ds, d)
				work = append(work, PendingWork{Delivery: d, Event: ev})
			}
		}
		return insertDeliveries(ctx, tx, ds)
	})
	return work, err
}
