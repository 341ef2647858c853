package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Event is one occurrence published to Hookyard.
type Event struct {
	ID             string          `json:"id"`
	Type           string          `json:"event"`
	OrganizationID string          `json:"organizationId"`
	ProjectID      string          `json:"projectId"`
	PreviousValue  json.RawMessage `json:"previousValue"`
	CurrentValue   json.RawMessage `json:"currentValue"`
	PublisherID    string          `json:"-"`
	CreatedAt      time.Time       `json:"createdAt"`
}

// IdempotencyWindow is how long an Idempotency-Key's first answer is repeated.
const IdempotencyWindow = 24 * time.Hour

// Publication is everything one publish call writes, in one transaction: the events, their
// deliveries (already leased by this process) and the missed records of disabled webhooks.
type Publication struct {
	Events     []Event
	Deliveries []Delivery
	Missed     []MissedEvent
	// With a key, Response is kept as the answer to repeat for the same key and the same
	// request, which RequestHash identifies.
	IdempotencyUserID string
	IdempotencyKey    string
	RequestHash       string
	Response          []byte
}

// ErrKeyReused is returned for an idempotency key used before with a different request.
var ErrKeyReused = errors.New("this Idempotency-Key was already used with a different request")

// MissedEvent is an event a webhook would have received had it been switched on.
type MissedEvent struct {
	WebhookID string
	EventID   string
}

func nullJSON(v json.RawMessage) any {
	if len(v) == 0 || string(v) == "null" {
		return nil
	}
	return string(v)
}

// Publish stores a publication atomically. ErrConflict means the idempotency key was used
// by a concurrent publish first; read its answer with IdempotentResponse.
func (s *Store) Publish(ctx context.Context, pub Publication) error {
	errs, err := s.PublishGroup(ctx, []Publication{pub})
	if err != nil {
		return err
	}
	return errs[0]
}

// PublishGroup stores several publications in one transaction (group commit: one commit
// for many concurrent publishers). Each has its own savepoint, so one refused publication
// (its idempotency key taken: ErrConflict in its slot of errs) leaves the others stored.
// A non-nil err means nothing was stored.
func (s *Store) PublishGroup(ctx context.Context, pubs []Publication) (errs []error, err error) {
	errs = make([]error, len(pubs))
	err = s.WithTx(ctx, func(tx *Tx) error {
		w, err := newPublicationWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer w.close()
		now := s.nowMS()
		for i, pub := range pubs {
			if len(pubs) > 1 {
				if _, err := tx.ExecContext(ctx, `SAVEPOINT publication`); err != nil {
					return err
				}
			}
			errs[i] = w.write(ctx, tx, pub, now)
			if len(pubs) == 1 {
				if errs[i] != nil && !errors.Is(errs[i], ErrConflict) {
					return errs[i]
				}
				continue
			}
			if errs[i] != nil {
				if !errors.Is(errs[i], ErrConflict) {
					return errs[i]
				}
				if _, err := tx.ExecContext(ctx, `ROLLBACK TO publication`); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `RELEASE publication`); err != nil {
				return err
			}
		}
		return nil
	})
	return errs, err
}

// publicationWriter holds the statements a group of publications shares.
type publicationWriter struct {
	events, deliveries, missed *Stmt
}

func newPublicationWriter(ctx context.Context, tx *Tx) (*publicationWriter, error) {
	var w publicationWriter
	var err error
	if w.events, err = tx.PrepareContext(ctx, `INSERT INTO events (id, event_type, organization_id, project_id,
		previous_value, current_value, publisher_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`); err != nil {
		return nil, err
	}
	if w.deliveries, err = prepareDeliveryInsert(ctx, tx); err != nil {
		w.close()
		return nil, err
	}
	if w.missed, err = tx.PrepareContext(ctx, `INSERT INTO missed_events (webhook_id, event_id, created_at)
		SELECT id, ?, CAST(? AS BIGINT) FROM webhooks WHERE id = ? ON CONFLICT DO NOTHING`); err != nil {
		w.close()
		return nil, err
	}
	return &w, nil
}

func (w *publicationWriter) close() {
	for _, st := range []*Stmt{w.events, w.deliveries, w.missed} {
		if st != nil {
			st.Close()
		}
	}
}

func (w *publicationWriter) write(ctx context.Context, tx *Tx, pub Publication, now int64) error {
	if pub.IdempotencyKey != "" {
		// A key older than the window is free again; a live one is a conflict.
		res, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (user_id, key, request_hash, response, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, key) DO UPDATE SET request_hash = excluded.request_hash,
			response = excluded.response, created_at = excluded.created_at WHERE idempotency_keys.created_at < ?`,
			pub.IdempotencyUserID, pub.IdempotencyKey, pub.RequestHash, string(pub.Response), now, now-IdempotencyWindow.Milliseconds())
		if err := checkAffected(res, err); errors.Is(err, ErrNotFound) {
			return ErrConflict
		} else if err != nil {
			return err
		}
	}
	for _, e := range pub.Events {
		if _, err := w.events.ExecContext(ctx, e.ID, e.Type, e.OrganizationID, e.ProjectID,
			nullJSON(e.PreviousValue), nullJSON(e.CurrentValue), e.PublisherID, ms(e.CreatedAt)); err != nil {
			return err
		}
	}
	for _, d := range pub.Deliveries {
		if err := execDeliveryInsert(ctx, w.deliveries, d); err != nil {
			return err
		}
	}
	for _, m := range pub.Missed {
		if _, err := w.missed.ExecContext(ctx, m.EventID, now, m.WebhookID); err != nil {
			return err
		}
	}
	return nil
}

// insertDeliveries stores pending deliveries; one for a webhook deleted meanwhile (the
// sender's cached view can lag a delete by a moment) is skipped, not an error.
func insertDeliveries(ctx context.Context, tx *Tx, ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	stmt, err := prepareDeliveryInsert(ctx, tx)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, d := range ds {
		if err := execDeliveryInsert(ctx, stmt, d); err != nil {
			return err
		}
	}
	return nil
}

func prepareDeliveryInsert(ctx context.Context, tx *Tx) (*Stmt, error) {
	// A delivery without a message id (a replay) takes that of the first delivery of its event
	// to its webhook, or its own id when it is the first.
	return tx.PrepareContext(ctx, `INSERT INTO deliveries (id, event_id, webhook_id, event_type, status,
		attempts, next_attempt_at, lease_until, lease_owner, resend_of, message_id, created_at, updated_at)
		SELECT ?, ?, id, ?, 'pending', 0, CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TEXT), ?,
			COALESCE(NULLIF(?, ''), (SELECT d0.message_id FROM deliveries d0 WHERE d0.event_id = ? AND d0.webhook_id = webhooks.id
				ORDER BY d0.id LIMIT 1), ?),
			CAST(? AS BIGINT), CAST(? AS BIGINT) FROM webhooks WHERE id = ?`)
}

func execDeliveryInsert(ctx context.Context, stmt *Stmt, d Delivery) error {
	var resendOf any
	if d.ResendOf != "" {
		resendOf = d.ResendOf
	}
	_, err := stmt.ExecContext(ctx, d.ID, d.EventID, d.EventType, msPtr(d.NextAttemptAt),
		msPtr(d.LeaseUntil), nullString(d.LeaseOwner), resendOf, d.MessageID, d.EventID, d.ID, ms(d.CreatedAt), ms(d.CreatedAt), d.WebhookID)
	return err
}

func msPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ms(*t)
}

// IdempotentResponse returns the answer stored for a key used since the given time, or
// ErrKeyReused when the key was used with a request of another hash.
func (s *Store) IdempotentResponse(ctx context.Context, userID, key, requestHash string, since time.Time) ([]byte, error) {
	var resp, hash string
	err := s.write.QueryRowContext(ctx, `SELECT response, request_hash FROM idempotency_keys
		WHERE user_id = ? AND key = ? AND created_at >= ?`, userID, key, ms(since)).Scan(&resp, &hash)
	if err != nil {
		return nil, notFound(err)
	}
	// A key stored before requests were hashed has no hash to compare: its answer stands.
	if hash != "" && hash != requestHash {
		return nil, ErrKeyReused
	}
	return []byte(resp), nil
}

const eventColumns = `id, event_type, organization_id, project_id, previous_value, current_value, publisher_id, created_at`

func scanEvent(row scanner) (Event, error) {
	var e Event
	var prev, cur sql.NullString
	var created int64
	err := row.Scan(&e.ID, &e.Type, &e.OrganizationID, &e.ProjectID, &prev, &cur, &e.PublisherID, &created)
	e.PreviousValue, e.CurrentValue = rawOrNull(prev), rawOrNull(cur)
	e.CreatedAt = fromMS(created)
	return e, notFound(err)
}

func rawOrNull(v sql.NullString) json.RawMessage {
	if !v.Valid {
		return json.RawMessage("null")
	}
	return json.RawMessage(v.String)
}

// Event returns one event or ErrNotFound.
func (s *Store) Event(ctx context.Context, id string) (Event, error) {
	return scanEvent(s.read.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ?`, id))
}

// EventFilter narrows an event list; empty fields do not filter.
type EventFilter struct {
	Type      string
	ProjectID string
	MemberID  string // only events in projects of organisations this user belongs to
}

// ListEvents returns one page of events, newest first.
func (s *Store) ListEvents(ctx context.Context, f EventFilter, p Page) ([]Event, string, error) {
	p, err := p.forList("evt")
	if err != nil {
		return nil, "", err
	}
	where, args := []string{`1 = 1`}, []any{}
	if p.Cursor != "" {
		where, args = append(where, `id < ?`), append(args, p.Cursor)
	}
	if f.Type != "" {
		where, args = append(where, `event_type = ?`), append(args, f.Type)
	}
	if f.ProjectID != "" {
		where, args = append(where, `project_id = ?`), append(args, f.ProjectID)
	}
	if f.MemberID != "" {
		where = append(where, `organization_id IN (SELECT organization_id FROM memberships WHERE user_id = ?)`)
		args = append(args, f.MemberID)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+eventColumns+` FROM events WHERE `+strings.Join(where, ` AND `)+
		` ORDER BY id DESC LIMIT ?`, append(args, p.Limit+1)...)
	return collectPage(rows, err, p, scanEvent, func(e Event) string { return e.ID })
}

// PruneEvents deletes up to limit events created before cutoff that no pending delivery still
// needs, with their deliveries and attempts, and reports how many went.
func (s *Store) PruneEvents(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM events WHERE id IN (
		SELECT e.id FROM events e WHERE e.created_at < ?
		AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 'pending')
		ORDER BY e.created_at LIMIT ?)`, ms(cutoff), limit)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if _, err := s.write.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`,
		ms(s.now().Add(-48*time.Hour))); err != nil && !errors.Is(err, context.Canceled) {
		return int(n), err
	}
	return int(n), nil
}

// MissedBy returns the webhooks that kept an event as missed.
func (s *Store) MissedBy(ctx context.Context, eventID string) (map[string]bool, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT webhook_id FROM missed_events WHERE event_id = ?`, eventID)
	ids, err := collect(rows, err, func(r scanner) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, err
}

// ReclaimSpace gives up to pages free pages (left by pruning) back to the filesystem and
// reports how many are still free. Small steps keep the single writer free for publishes. A
// database created before Hookyard chose incremental vacuum keeps its free pages for reuse
// (a one-off offline `VACUUM` converts it).
func (s *Store) ReclaimSpace(ctx context.Context, pages int) (stillFree int, err error) {
	if s.d != sqliteDialect {
		return 0, nil // PostgreSQL's autovacuum does this
	}
	var mode int
	if err := s.write.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&mode); err != nil || mode != 2 {
		return 0, err
	}
	// The pragma frees one page per step: read it to the end, or it stops after the first.
	rows, err := s.write.QueryContext(ctx, `PRAGMA incremental_vacuum(`+strconv.Itoa(pages)+`)`)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, err
	}
	err = s.write.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&stillFree)
	return stillFree, err
}

// EventHandling is what some webhooks did with one event.
type EventHandling struct {
	Latest map[string]Delivery // webhook id → its newest delivery of the event (a resend replaces the first)
	Missed map[string]bool     // webhook ids that kept the event as missed
}

// HandlingOf returns what the given webhooks did with an event; the answer is in proportion
// to the webhooks asked about, not to all that received it.
func (s *Store) HandlingOf(ctx context.Context, eventID string, webhookIDs []string) (EventHandling, error) {
	h := EventHandling{Latest: map[string]Delivery{}, Missed: map[string]bool{}}
	if len(webhookIDs) == 0 {
		return h, nil
	}
	in := `(` + placeholders(len(webhookIDs)) + `)`
	args := []any{eventID}
	for _, id := range webhookIDs {
		args = append(args, id)
	}
	// "webhook_id || ''" keeps SQLite on the event's index: an event has at most a delivery or a
	// few per webhook, while one webhook may have millions.
	rows, err := s.read.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id IN
		(SELECT MAX(id) FROM deliveries WHERE event_id = ? AND webhook_id || '' IN `+in+` GROUP BY webhook_id)`, args...)
	ds, err := collect(rows, err, scanDelivery)
	if err != nil {
		return h, err
	}
	for _, d := range ds {
		h.Latest[d.WebhookID] = d
	}
	rows, err = s.read.QueryContext(ctx, `SELECT webhook_id FROM missed_events WHERE event_id = ? AND webhook_id IN `+in, args...)
	ids, err := collect(rows, err, func(r scanner) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
	for _, id := range ids {
		h.Missed[id] = true
	}
	return h, err
}

// nullString stores "" as NULL.
func nullString(v string) any {
	if v == "" {
		return nil
	}
	return v
}

// DeliveriesOfEvent returns the deliveries of one event to one webhook, oldest first: the
// first one, then any resends and replays (at most 100).
func (s *Store) DeliveriesOfEvent(ctx context.Context, eventID, webhookID string) ([]Delivery, error) {
	// "webhook_id || ''" keeps SQLite on the event's index, as in HandlingOf.
	rows, err := s.read.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE event_id = ? AND webhook_id || '' = ? ORDER BY id LIMIT 100`, eventID, webhookID)
	return collect(rows, err, scanDelivery)
}
