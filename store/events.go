package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
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
	// With a key, Response is kept as the answer to repeat for the same key.
	IdempotencyUserID string
	IdempotencyKey    string
	Response          []byte
}

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
	return s.WithTx(ctx, func(tx *sql.Tx) error {
		if pub.IdempotencyKey != "" {
			// A key older than the window is free again; a live one is a conflict.
			now := s.nowMS()
			res, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (user_id, key, response, created_at)
				VALUES (?, ?, ?, ?) ON CONFLICT (user_id, key) DO UPDATE SET response = excluded.response,
				created_at = excluded.created_at WHERE idempotency_keys.created_at < ?`,
				pub.IdempotencyUserID, pub.IdempotencyKey, string(pub.Response), now, now-IdempotencyWindow.Milliseconds())
			if err := checkAffected(res, err); errors.Is(err, ErrNotFound) {
				return ErrConflict
			} else if err != nil {
				return err
			}
		}
		evStmt, err := tx.PrepareContext(ctx, `INSERT INTO events (id, event_type, organization_id, project_id,
			previous_value, current_value, publisher_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer evStmt.Close()
		for _, e := range pub.Events {
			if _, err := evStmt.ExecContext(ctx, e.ID, e.Type, e.OrganizationID, e.ProjectID,
				nullJSON(e.PreviousValue), nullJSON(e.CurrentValue), e.PublisherID, ms(e.CreatedAt)); err != nil {
				return err
			}
		}
		if err := insertDeliveries(ctx, tx, pub.Deliveries); err != nil {
			return err
		}
		if len(pub.Missed) > 0 {
			now := s.nowMS()
			mStmt, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO missed_events (webhook_id, event_id, created_at)
				SELECT id, ?, ? FROM webhooks WHERE id = ?`)
			if err != nil {
				return err
			}
			defer mStmt.Close()
			for _, m := range pub.Missed {
				if _, err := mStmt.ExecContext(ctx, m.EventID, now, m.WebhookID); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// insertDeliveries stores pending deliveries; one for a webhook deleted meanwhile (the
// sender's cached view can lag a delete by a moment) is skipped, not an error.
func insertDeliveries(ctx context.Context, tx *sql.Tx, ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO deliveries (id, event_id, webhook_id, event_type, status,
		attempts, next_attempt_at, lease_until, resend_of, created_at, updated_at)
		SELECT ?, ?, id, ?, 'pending', 0, ?, ?, ?, ?, ? FROM webhooks WHERE id = ?`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, d := range ds {
		var resendOf any
		if d.ResendOf != "" {
			resendOf = d.ResendOf
		}
		if _, err := stmt.ExecContext(ctx, d.ID, d.EventID, d.EventType, msPtr(d.NextAttemptAt),
			msPtr(d.LeaseUntil), resendOf, ms(d.CreatedAt), ms(d.CreatedAt), d.WebhookID); err != nil {
			return err
		}
	}
	return nil
}

func msPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ms(*t)
}

// IdempotentResponse returns the answer stored for a key used since the given time.
func (s *Store) IdempotentResponse(ctx context.Context, userID, key string, since time.Time) ([]byte, error) {
	var resp string
	err := s.write.QueryRowContext(ctx, `SELECT response FROM idempotency_keys WHERE user_id = ? AND key = ? AND created_at >= ?`,
		userID, key, ms(since)).Scan(&resp)
	return []byte(resp), notFound(err)
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
