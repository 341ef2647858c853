package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// WebhookStatus is a webhook's health: UNHEALTHY once deliveries keep failing.
type WebhookStatus string

const (
	StatusHealthy   WebhookStatus = "HEALTHY"
	StatusUnhealthy WebhookStatus = "UNHEALTHY"
)

// Webhook is a URL its owner wants called for the chosen event types in the chosen projects.
// Empty Events means every event type, including ones added later; empty ProjectIDs means
// every project the owner can access, including future ones.
type Webhook struct {
	ID             string        `json:"id"`
	OwnerID        string        `json:"ownerId"`
	Name           string        `json:"name"`
	URL            string        `json:"url"`
	Events         []string      `json:"events"`
	ProjectIDs     []string      `json:"projectIds"`
	Enabled        bool          `json:"enabled"`
	Status         WebhookStatus `json:"status"`
	DisabledReason string        `json:"disabledReason"`
	DisabledAt     *time.Time    `json:"disabledAt"`
	CreatedAt      time.Time     `json:"createdAt"`
	UpdatedAt      time.Time     `json:"updatedAt"`
	// Filter narrows the events by their content (SPEC §9); nil sends every matching event.
	Filter *PayloadFilter `json:"filter"`
	// Headers are extra request headers sent on every attempt (SPEC §9); never nil once read.
	Headers map[string]string `json:"headers"`
	// RateLimitPerSecond paces its requests (SPEC §9); nil for no limit.
	RateLimitPerSecond *float64 `json:"rateLimitPerSecond"`
	// Ordered sends one request at a time, in publish order; a delivery waiting for a retry
	// holds back the later ones (SPEC §9).
	Ordered bool `json:"ordered"`

	// Health counters, kept up to date by every attempt.
	ConsecutiveFailures int        `json:"-"`
	LastSuccessAt       *time.Time `json:"-"`
	LastFailureAt       *time.Time `json:"-"`
	LastError           string     `json:"-"`
	// LastDisabledAt survives switching back on: what was missed since then can be replayed.
	LastDisabledAt *time.Time `json:"-"`

	Secret string `json:"-"`
	// PreviousSecrets were rotated out and still sign, beside Secret, each until it expires;
	// newest first, at most MaxPreviousSecrets.
	PreviousSecrets []PreviousSecret `json:"-"`
}

// PreviousSecret is a rotated-out secret that signs until ExpiresAt.
type PreviousSecret struct {
	Secret    string
	ExpiresAt time.Time
}

// storedSecret is a PreviousSecret in the previous_secrets column (a JSON list).
type storedSecret struct {
	Secret    string `json:"secret"`
	ExpiresAt int64  `json:"expiresAt"` // Unix ms
}

// MaxPreviousSecrets bounds the rotated-out secrets that still sign (so a request's
// webhook-signature stays short): a rotation beyond it ends the oldest one's overlap early.
const MaxPreviousSecrets = 5

// PayloadFilter is a webhook's filter as its owner wrote it (SPEC §9): conditions on paths
// into the payload, all or any of which must hold. package delivery checks and compiles it.
type PayloadFilter struct {
	Match      string            `json:"match"` // "all" or "any"
	Conditions []FilterCondition `json:"conditions"`
}

// FilterCondition is one condition of a filter: the value at Path compared by Op with Value
// (absent for exists, notExists and changed).
type FilterCondition struct {
	Path  string          `json:"path"`
	Op    string          `json:"op"`
	Value json.RawMessage `json:"value,omitempty"`
}

// Setting is a field to set when Set is true, to To (which may itself be nil: "none").
type Setting[T any] struct {
	Set bool
	To  T
}

// jsonColumn is a value stored as JSON text, NULL for nil.
func jsonColumn(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return nil, err
	}
	return string(b), nil
}

// headersColumn stores extra headers as a JSON object, NULL for none.
func headersColumn(h map[string]string) (any, error) {
	if len(h) == 0 {
		return nil, nil
	}
	return jsonColumn(h)
}

// SigningSecrets returns the secrets that sign a request sent at now: the current one, then
// the rotated-out ones whose overlap lasts, newest first. The last is the oldest still
// signing: X-Signature uses it, so a receiver that knows one secret keeps verifying.
func (w Webhook) SigningSecrets(now time.Time) []string {
	out := []string{w.Secret}
	for _, p := range w.PreviousSecrets {
		if now.Before(p.ExpiresAt) {
			out = append(out, p.Secret)
		}
	}
	return out
}

// RotationEndsAt is when the last rotated-out secret stops signing; nil when none signs at now.
func (w Webhook) RotationEndsAt(now time.Time) *time.Time {
	var end *time.Time
	for _, p := range w.PreviousSecrets {
		if now.Before(p.ExpiresAt) && (end == nil || p.ExpiresAt.After(*end)) {
			t := p.ExpiresAt
			end = &t
		}
	}
	return end
}

func parsePreviousSecrets(column string) []PreviousSecret {
	var stored []storedSecret
	_ = json.Unmarshal([]byte(column), &stored)
	if len(stored) == 0 {
		return nil
	}
	out := make([]PreviousSecret, 0, len(stored))
	for _, p := range stored {
		out = append(out, PreviousSecret{Secret: p.Secret, ExpiresAt: fromMS(p.ExpiresAt)})
	}
	return out
}

const webhookColumns = `id, owner_id, name, url, secret, previous_secrets,
	enabled, status, disabled_reason, disabled_at, created_at, updated_at,
	consecutive_failures, last_success_at, last_failure_at, last_error, last_disabled_at, filter, headers,
	rate_limit_per_second, ordered`

func scanWebhook(row scanner) (Webhook, error) {
	var w Webhook
	var disabledAt, lastOK, lastFail, lastDisabled nullMS
	var created, updated int64
	var previous string
	var filter, headers sql.NullString
	var rate sql.NullFloat64
	err := row.Scan(&w.ID, &w.OwnerID, &w.Name, &w.URL, &w.Secret, &previous,
		&w.Enabled, &w.Status, &w.DisabledReason, &disabledAt, &created, &updated,
		&w.ConsecutiveFailures, &lastOK, &lastFail, &w.LastError, &lastDisabled, &filter, &headers, &rate, &w.Ordered)
	w.PreviousSecrets = parsePreviousSecrets(previous)
	if rate.Valid {
		w.RateLimitPerSecond = &rate.Float64
	}
	if err == nil && filter.Valid {
		w.Filter = new(PayloadFilter)
		if jerr := json.Unmarshal([]byte(filter.String), w.Filter); jerr != nil {
			err = fmt.Errorf("webhook %s: stored filter: %w", w.ID, jerr)
		}
	}
	w.Headers = map[string]string{}
	if err == nil && headers.Valid {
		if jerr := json.Unmarshal([]byte(headers.String), &w.Headers); jerr != nil {
			err = fmt.Errorf("webhook %s: stored headers: %w", w.ID, jerr)
		}
	}
	w.LastDisabledAt, w.DisabledAt = lastDisabled.time(), disabledAt.time()
	w.LastSuccessAt, w.LastFailureAt = lastOK.time(), lastFail.time()
	w.CreatedAt, w.UpdatedAt = fromMS(created), fromMS(updated)
	return w, notFound(err)
}

// querier is what *sql.DB and *Tx have in common.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// loadSelections fills in the chosen event types and projects of each webhook.
func loadSelections(ctx context.Context, q querier, hooks []Webhook) error {
	if len(hooks) == 0 {
		return nil
	}
	index := make(map[string]int, len(hooks))
	ids := make([]any, len(hooks))
	for i := range hooks {
		index[hooks[i].ID] = i
		ids[i] = hooks[i].ID
		hooks[i].Events, hooks[i].ProjectIDs = []string{}, []string{}
	}
	in := `(` + placeholders(len(ids)) + `)`
	for _, sel := range []struct {
		query string
		field func(*Webhook) *[]string
	}{
		{`SELECT webhook_id, event_type FROM webhook_events WHERE webhook_id IN ` + in + ` ORDER BY event_type`,
			func(w *Webhook) *[]string { return &w.Events }},
		{`SELECT webhook_id, project_id FROM webhook_projects WHERE webhook_id IN ` + in + ` ORDER BY project_id`,
			func(w *Webhook) *[]string { return &w.ProjectIDs }},
	} {
		rows, err := q.QueryContext(ctx, sel.query, ids...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, v string
			if err := rows.Scan(&id, &v); err != nil {
				rows.Close()
				return err
			}
			f := sel.field(&hooks[index[id]])
			*f = append(*f, v)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

func writeSelections(ctx context.Context, tx *Tx, id string, events, projects *[]string) error {
	if events != nil {
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_events WHERE webhook_id = ?`, id); err != nil {
			return err
		}
		for _, e := range uniqueSorted(*events) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_events (webhook_id, event_type) VALUES (?, ?)`, id, e); err != nil {
				return err
			}
		}
	}
	if projects != nil {
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_projects WHERE webhook_id = ?`, id); err != nil {
			return err
		}
		for _, p := range uniqueSorted(*projects) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_projects (webhook_id, project_id) VALUES (?, ?)`, id, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// uniqueSorted returns the distinct values in order, never nil (an empty list means "all").
func uniqueSorted(in []string) []string {
	out := append([]string{}, in...)
	slices.Sort(out)
	return slices.Compact(out)
}

// CreateWebhook stores w (enabled and healthy), filling in its id and timestamps.
func (s *Store) CreateWebhook(ctx context.Context, w *Webhook) error {
	return s.CreateWebhookWithin(ctx, w, 0)
}

// CreateWebhookWithin is CreateWebhook for an owner who may have at most maxPerOwner
// webhooks (0: no limit); one more is ErrQuotaReached.
func (s *Store) CreateWebhookWithin(ctx context.Context, w *Webhook, maxPerOwner int) error {
	defer func() { s.changedWebhook(w.ID) }()
	now := s.nowMS()
	w.ID = s.newID("wh", now)
	w.Enabled, w.Status, w.DisabledReason, w.DisabledAt = true, StatusHealthy, "", nil
	w.CreatedAt, w.UpdatedAt = fromMS(now), fromMS(now)
	w.Events, w.ProjectIDs = uniqueSorted(w.Events), uniqueSorted(w.ProjectIDs)
	if w.Headers == nil {
		w.Headers = map[string]string{}
	}
	filter, err := jsonColumn(w.Filter)
	if err != nil {
		return err
	}
	headers, err := headersColumn(w.Headers)
	if err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		if err := underQuota(ctx, tx, maxPerOwner, `SELECT COUNT(*) FROM webhooks WHERE owner_id = ?`, w.OwnerID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhooks (id, owner_id, name, url, secret, enabled, status,
			created_at, updated_at, filter, headers, rate_limit_per_second, ordered) VALUES (?, ?, ?, ?, ?, 1, 'HEALTHY', ?, ?, ?, ?, ?, ?)`,
			w.ID, w.OwnerID, w.Name, w.URL, w.Secret, now, now, filter, headers, nullFloat(w.RateLimitPerSecond), w.Ordered); err != nil {
			return err
		}
		return writeSelections(ctx, tx, w.ID, &w.Events, &w.ProjectIDs)
	})
}

// Webhook returns one webhook with its selections, or ErrNotFound.
func (s *Store) Webhook(ctx context.Context, id string) (Webhook, error) {
	w, err := scanWebhook(s.read.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id))
	if err != nil {
		return w, err
	}
	hooks := []Webhook{w}
	err = loadSelections(ctx, s.read, hooks)
	return hooks[0], err
}

// WebhookFilter narrows a webhook list; zero fields do not filter.
type WebhookFilter struct {
	OwnerID string
	// State is "enabled", "disabled", "unhealthy" (switched off after failing), "working"
	// (on, last attempt fine) or "failing" (on, last attempts failed).
	State string
}

// where is the filter as SQL conditions with their arguments.
func (f WebhookFilter) where() ([]string, []any) {
	var where []string
	var args []any
	if f.OwnerID != "" {
		where, args = append(where, `owner_id = ?`), append(args, f.OwnerID)
	}
	switch f.State {
	case "enabled":
		where = append(where, `enabled = 1`)
	case "disabled":
		where = append(where, `enabled = 0`)
	case "unhealthy":
		where = append(where, `status = 'UNHEALTHY'`)
	case "working":
		where = append(where, `enabled = 1 AND consecutive_failures = 0`)
	case "failing":
		where = append(where, `enabled = 1 AND consecutive_failures > 0`)
	}
	return where, args
}

// ListWebhooks returns one page of webhooks, oldest first.
func (s *Store) ListWebhooks(ctx context.Context, f WebhookFilter, p Page) ([]Webhook, string, error) {
	p, err := p.forList("wh")
	if err != nil {
		return nil, "", err
	}
	where, args := f.where()
	where, args = append(where, `id > ?`), append(args, p.Cursor)
	rows, err := s.read.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE `+
		strings.Join(where, ` AND `)+` ORDER BY id LIMIT ?`, append(args, p.Limit+1)...)
	hooks, next, err := collectPage(rows, err, p, scanWebhook, func(w Webhook) string { return w.ID })
	if err != nil {
		return nil, "", err
	}
	return hooks, next, loadSelections(ctx, s.read, hooks)
}

// CountWebhooks returns how many webhooks the filter lets through.
func (s *Store) CountWebhooks(ctx context.Context, f WebhookFilter) (int, error) {
	where, args := f.where()
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhooks WHERE `+
		strings.Join(append(where, `1 = 1`), ` AND `), args...).Scan(&n)
	return n, err
}

// WebhookStates counts webhooks by how they are doing.
type WebhookStates struct {
	Working int // on, last attempt fine
	Failing int // on, last attempts failed
	Off     int // switched off
}

// CountWebhookStates counts one owner's webhooks (everyone's when ownerID is "") by state.
func (s *Store) CountWebhookStates(ctx context.Context, ownerID string) (WebhookStates, error) {
	where, args := WebhookFilter{OwnerID: ownerID}.where()
	var st WebhookStates
	err := s.read.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN enabled = 1 AND consecutive_failures = 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN enabled = 1 AND consecutive_failures > 0 THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN enabled = 0 THEN 1 ELSE 0 END), 0)
		FROM webhooks WHERE `+strings.Join(append(where, `1 = 1`), ` AND `), args...).Scan(&st.Working, &st.Failing, &st.Off)
	return st, err
}

// WebhookChanges lists what to change; nil fields stay as they are.
type WebhookChanges struct {
	Name               *string
	URL                *string
	Events             *[]string
	ProjectIDs         *[]string
	Filter             Setting[*PayloadFilter]
	Headers            *map[string]string // replaces them all; empty for none
	RateLimitPerSecond Setting[*float64]
	Ordered            *bool
}

func nullFloat(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// set is the SET clause of the changes, with its arguments.
func (ch WebhookChanges) set(now int64) (string, []any, error) {
	cols := []string{`name = COALESCE(?, name)`, `url = COALESCE(?, url)`, `updated_at = ?`}
	args := []any{ch.Name, ch.URL, now}
	if ch.Filter.Set {
		v, err := jsonColumn(ch.Filter.To)
		if err != nil {
			return "", nil, err
		}
		cols, args = append(cols, `filter = ?`), append(args, v)
	}
	if ch.Headers != nil {
		v, err := headersColumn(*ch.Headers)
		if err != nil {
			return "", nil, err
		}
		cols, args = append(cols, `headers = ?`), append(args, v)
	}
	if ch.Ordered != nil {
		cols, args = append(cols, `ordered = ?`), append(args, *ch.Ordered)
	}
	if ch.RateLimitPerSecond.Set {
		cols, args = append(cols, `rate_limit_per_second = ?`), append(args, nullFloat(ch.RateLimitPerSecond.To))
	}
	return strings.Join(cols, `, `), args, nil
}

// UpdateWebhook applies ch and returns the webhook as it now is.
func (s *Store) UpdateWebhook(ctx context.Context, id string, ch WebhookChanges) (Webhook, error) {
	defer s.changedWebhook(id)
	set, args, err := ch.set(s.nowMS())
	if err != nil {
		return Webhook{}, err
	}
	err = s.WithTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhooks SET `+set+` WHERE id = ?`, append(args, id)...)
		if err := checkAffected(res, err); err != nil {
			return err
		}
		return writeSelections(ctx, tx, id, ch.Events, ch.ProjectIDs)
	})
	if err != nil {
		return Webhook{}, err
	}
	return s.writtenWebhook(ctx, id)
}

// writtenWebhook reads a webhook through the writer connection, so it sees what was just written.
func (s *Store) writtenWebhook(ctx context.Context, id string) (Webhook, error) {
	w, err := scanWebhook(s.write.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id))
	if err != nil {
		return w, err
	}
	hooks := []Webhook{w}
	err = loadSelections(ctx, s.write, hooks)
	return hooks[0], err
}

// DeleteWebhook removes a webhook and its selections.
//
// A long history is removed in small batches, each its own transaction, so the single
// writer is never held long enough to delay publishing or sending; the webhook is switched
// off first so that nothing new is added meanwhile.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	defer s.changedWebhook(id)
	if err := closeNotices(ctx, s.write, id, s.nowMS()); err != nil {
		return err
	}
	if err := checkAffected(s.write.ExecContext(ctx, `UPDATE webhooks SET enabled = 0,
		disabled_reason = 'Being deleted.', disabled_at = COALESCE(disabled_at, ?) WHERE id = ?`, s.nowMS(), id)); err != nil {
		return err
	}
	s.changedWebhook(id)
	for {
		res, err := s.write.ExecContext(ctx, `DELETE FROM deliveries WHERE id IN
			(SELECT id FROM deliveries WHERE webhook_id = ? LIMIT ?)`, id, deleteBatch)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n < deleteBatch {
			break
		}
		select { // let waiting writers (publishes, attempt results) in between batches
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return checkAffected(s.write.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ?`, id))
}

// deleteBatch is how many deliveries (with their attempts) one delete statement removes.
const deleteBatch = 500

// DisableWebhook stops a webhook at once, saying why, and cancels its pending deliveries;
// status records whether it was failing (UNHEALTHY) or switched off by a person (HEALTHY).
// Disabling a webhook that is already off changes nothing.
func (s *Store) DisableWebhook(ctx context.Context, id string, status WebhookStatus, reason string) (Webhook, error) {
	err := s.WithTx(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhooks WHERE id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		_, err := s.switchOff(ctx, tx, id, status, reason, s.nowMS())
		return err
	})
	if err != nil {
		return Webhook{}, err
	}
	s.changedWebhook(id)
	return s.writtenWebhook(ctx, id)
}

// EnableWebhook turns a webhook back on as healthy.
func (s *Store) EnableWebhook(ctx context.Context, id string) (Webhook, error) {
	return s.enable(ctx, id, nil)
}

// HealthCheck is a health check that passed: the request that let a webhook back on.
type HealthCheck struct {
	PassedAt   time.Time
	StatusCode int
	Duration   time.Duration
}

// EnableAfterHealthCheck switches a webhook back on after check passed, and counts the check
// as the webhook's latest success, in its figures of the hour too, so that its health does
// not read "never succeeded" beside "on".
func (s *Store) EnableAfterHealthCheck(ctx context.Context, id string, check HealthCheck) (Webhook, error) {
	return s.enable(ctx, id, &check)
}

func (s *Store) enable(ctx context.Context, id string, check *HealthCheck) (Webhook, error) {
	defer s.changedWebhook(id)
	now := s.nowMS()
	err := s.WithTx(ctx, func(tx *Tx) error {
		// It is switched on after a successful health check, so the failure streak is over.
		if err := checkAffected(tx.ExecContext(ctx, `UPDATE webhooks SET enabled = 1, status = 'HEALTHY',
			disabled_reason = '', disabled_at = NULL, consecutive_failures = 0, updated_at = ? WHERE id = ?`, now, id)); err != nil {
			return err
		}
		if check != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET last_success_at = ? WHERE id = ?`, ms(check.PassedAt), id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO health_checks (webhook_id, passed_at, status_code, duration_us)
				VALUES (?, ?, ?, ?) ON CONFLICT (webhook_id) DO UPDATE SET passed_at = excluded.passed_at,
				status_code = excluded.status_code, duration_us = excluded.duration_us`,
				id, ms(check.PassedAt), check.StatusCode, check.Duration.Microseconds()); err != nil {
				return err
			}
			h := HourStats{Hour: check.PassedAt.UTC().Truncate(time.Hour), Attempts: 1, Latency: newHistogram()}
			h.Latency.Add(check.Duration)
			if err := addHour(ctx, tx, id, h); err != nil {
				return err
			}
		}
		return closeNotices(ctx, tx, id, now)
	})
	if err != nil {
		return Webhook{}, err
	}
	return s.writtenWebhook(ctx, id)
}

// LastHealthCheck returns the health check that last switched the webhook back on, or nil
// when none did.
func (s *Store) LastHealthCheck(ctx context.Context, webhookID string) (*HealthCheck, error) {
	var passed, took int64
	var c HealthCheck
	err := s.read.QueryRowContext(ctx, `SELECT passed_at, status_code, duration_us FROM health_checks WHERE webhook_id = ?`,
		webhookID).Scan(&passed, &c.StatusCode, &took)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	c.PassedAt, c.Duration = fromMS(passed), time.Duration(took)*time.Microsecond
	return &c, err
}

// closeNotices marks the notices about a webhook read: what they told (it was switched off)
// is over once it is back on or gone.
func closeNotices(ctx context.Context, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, webhookID string, now int64) error {
	_, err := q.ExecContext(ctx, `UPDATE notifications SET read_at = ? WHERE webhook_id = ? AND read_at IS NULL`, now, webhookID)
	return err
}

// RotateSecret makes newSecret the signing secret; the old one keeps signing until keepOld
// ends, beside those rotated out before whose time has not ended (at most MaxPreviousSecrets).
func (s *Store) RotateSecret(ctx context.Context, id, newSecret string, keepOld time.Duration) (Webhook, error) {
	defer s.changedWebhook(id)
	err := s.WithTx(ctx, func(tx *Tx) error {
		if err := tx.Serialize(ctx, "rotate "+id); err != nil {
			return err
		}
		var current, stored string
		if err := tx.QueryRowContext(ctx, `SELECT secret, previous_secrets FROM webhooks WHERE id = ?`, id).Scan(&current, &stored); err != nil {
			return notFound(err)
		}
		now := s.now()
		kept := []PreviousSecret{{Secret: current, ExpiresAt: now.Add(keepOld)}}
		for _, p := range parsePreviousSecrets(stored) {
			if now.Before(p.ExpiresAt) && len(kept) < MaxPreviousSecrets {
				kept = append(kept, p)
			}
		}
		return s.setSecrets(ctx, tx, id, newSecret, kept)
	})
	if err != nil {
		return Webhook{}, err
	}
	return s.writtenWebhook(ctx, id)
}

// FinishRotation stops every rotated-out secret signing now: only the current one signs.
func (s *Store) FinishRotation(ctx context.Context, id string) (Webhook, error) {
	defer s.changedWebhook(id)
	err := s.WithTx(ctx, func(tx *Tx) error {
		if err := tx.Serialize(ctx, "rotate "+id); err != nil {
			return err
		}
		var current string
		if err := tx.QueryRowContext(ctx, `SELECT secret FROM webhooks WHERE id = ?`, id).Scan(&current); err != nil {
			return notFound(err)
		}
		return s.setSecrets(ctx, tx, id, current, nil)
	})
	if err != nil {
		return Webhook{}, err
	}
	return s.writtenWebhook(ctx, id)
}

func (s *Store) setSecrets(ctx context.Context, tx *Tx, id, current string, previous []PreviousSecret) error {
	stored := make([]storedSecret, 0, len(previous))
	for _, p := range previous {
		stored = append(stored, storedSecret{Secret: p.Secret, ExpiresAt: ms(p.ExpiresAt)})
	}
	b, err := json.Marshal(stored)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE webhooks SET secret = ?, previous_secrets = ?, updated_at = ? WHERE id = ?`,
		current, string(b), s.nowMS(), id)
	return err
}

// CountDisabledWebhooks returns how many webhooks are switched off.
func (s *Store) CountDisabledWebhooks(ctx context.Context) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhooks WHERE enabled = 0`).Scan(&n)
	return n, err
}

// NewestWebhook returns the webhook ownerID made last (ids grow with time), or ErrNotFound
// when they have none.
func (s *Store) NewestWebhook(ctx context.Context, ownerID string) (Webhook, error) {
	w, err := scanWebhook(s.read.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks
		WHERE owner_id = ? ORDER BY id DESC LIMIT 1`, ownerID))
	if err != nil {
		return w, err
	}
	hooks := []Webhook{w}
	err = loadSelections(ctx, s.read, hooks)
	return hooks[0], err
}
