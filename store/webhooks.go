package store

import (
	"context"
	"database/sql"
	"errors"
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

	// Health counters, kept up to date by every attempt.
	ConsecutiveFailures int        `json:"-"`
	LastSuccessAt       *time.Time `json:"-"`
	LastFailureAt       *time.Time `json:"-"`
	LastError           string     `json:"-"`
	// LastDisabledAt survives switching back on: what was missed since then can be replayed.
	LastDisabledAt *time.Time `json:"-"`

	Secret string `json:"-"`
	// PreviousSecret still signs, beside Secret, until PreviousSecretExpiresAt.
	PreviousSecret          string     `json:"-"`
	PreviousSecretExpiresAt *time.Time `json:"-"`
}

// SigningSecrets returns the secrets that sign a request sent at now: the current one, then
// the previous one while its rotation grace period lasts.
func (w Webhook) SigningSecrets(now time.Time) []string {
	out := []string{w.Secret}
	if w.PreviousSecret != "" && w.PreviousSecretExpiresAt != nil && now.Before(*w.PreviousSecretExpiresAt) {
		out = append(out, w.PreviousSecret)
	}
	return out
}

const webhookColumns = `id, owner_id, name, url, secret, COALESCE(previous_secret, ''), previous_secret_expires_at,
	enabled, status, disabled_reason, disabled_at, created_at, updated_at,
	consecutive_failures, last_success_at, last_failure_at, last_error, last_disabled_at`

func scanWebhook(row scanner) (Webhook, error) {
	var w Webhook
	var prevExp, disabledAt, lastOK, lastFail, lastDisabled nullMS
	var created, updated int64
	err := row.Scan(&w.ID, &w.OwnerID, &w.Name, &w.URL, &w.Secret, &w.PreviousSecret, &prevExp,
		&w.Enabled, &w.Status, &w.DisabledReason, &disabledAt, &created, &updated,
		&w.ConsecutiveFailures, &lastOK, &lastFail, &w.LastError, &lastDisabled)
	w.LastDisabledAt = lastDisabled.time()
	w.PreviousSecretExpiresAt, w.DisabledAt = prevExp.time(), disabledAt.time()
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
	return s.WithTx(ctx, func(tx *Tx) error {
		if err := underQuota(ctx, tx, maxPerOwner, `SELECT COUNT(*) FROM webhooks WHERE owner_id = ?`, w.OwnerID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhooks (id, owner_id, name, url, secret, enabled, status,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, 'HEALTHY', ?, ?)`,
			w.ID, w.OwnerID, w.Name, w.URL, w.Secret, now, now); err != nil {
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
	p = p.clamp()
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
	Name       *string
	URL        *string
	Events     *[]string
	ProjectIDs *[]string
}

// UpdateWebhook applies ch and returns the webhook as it now is.
func (s *Store) UpdateWebhook(ctx context.Context, id string, ch WebhookChanges) (Webhook, error) {
	defer s.changedWebhook(id)
	err := s.WithTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhooks SET name = COALESCE(?, name), url = COALESCE(?, url),
			updated_at = ? WHERE id = ?`, ch.Name, ch.URL, s.nowMS(), id)
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

// RotateSecret makes newSecret the signing secret; the old one keeps signing until keepOld ends.
func (s *Store) RotateSecret(ctx context.Context, id, newSecret string, keepOld time.Duration) (Webhook, error) {
	defer s.changedWebhook(id)
	now := s.nowMS()
	if err := checkAffected(s.write.ExecContext(ctx, `UPDATE webhooks SET previous_secret = secret,
		previous_secret_expires_at = ?, secret = ?, updated_at = ? WHERE id = ?`,
		now+keepOld.Milliseconds(), newSecret, now, id)); err != nil {
		return Webhook{}, err
	}
	return s.writtenWebhook(ctx, id)
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
