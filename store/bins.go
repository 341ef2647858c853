package store

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// BinLimit is how many requests a bin keeps; older ones make room.
const BinLimit = 100

// BinLifetime is how long a bin accepts and keeps requests.
const BinLifetime = 7 * 24 * time.Hour

// Bin is a request inspector URL owned by one person.
type Bin struct {
	ID        string    `json:"id"`
	OwnerID   string    `json:"ownerId"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// BinRequest is one request a bin received.
type BinRequest struct {
	ID         int64
	BinID      string
	ReceivedAt time.Time
	Method     string
	Headers    http.Header
	Body       []byte
	// HeadersTruncated: the headers were cut to the 16 KiB kept.
	HeadersTruncated bool
}

func scanBin(r scanner) (Bin, error) {
	var b Bin
	var created, expires int64
	err := r.Scan(&b.ID, &b.OwnerID, &created, &expires)
	b.CreatedAt, b.ExpiresAt = fromMS(created), fromMS(expires)
	return b, notFound(err)
}

// CreateBin makes a new bin for a person, clearing expired bins on the way. A person who
// already has maxPerOwner live bins gets ErrQuotaReached (0: no limit).
func (s *Store) CreateBin(ctx context.Context, ownerID string, maxPerOwner int) (Bin, error) {
	now := s.nowMS()
	b := Bin{ID: s.newID("bin", now), OwnerID: ownerID, CreatedAt: fromMS(now), ExpiresAt: fromMS(now + BinLifetime.Milliseconds())}
	err := s.WithTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM bins WHERE expires_at <= ?`, now); err != nil {
			return err
		}
		if err := underQuota(ctx, tx, maxPerOwner, `SELECT COUNT(*) FROM bins WHERE owner_id = ?`, ownerID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO bins (id, owner_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			b.ID, b.OwnerID, now, ms(b.ExpiresAt))
		return err
	})
	return b, err
}

// Bin returns a bin that has not expired, or ErrNotFound.
func (s *Store) Bin(ctx context.Context, id string) (Bin, error) {
	return scanBin(s.read.QueryRowContext(ctx, `SELECT id, owner_id, created_at, expires_at FROM bins
		WHERE id = ? AND expires_at > ?`, id, s.nowMS()))
}

// ListBins returns a person's live bins, newest first.
func (s *Store) ListBins(ctx context.Context, ownerID string) ([]Bin, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, owner_id, created_at, expires_at FROM bins
		WHERE owner_id = ? AND expires_at > ? ORDER BY id DESC`, ownerID, s.nowMS())
	return collect(rows, err, scanBin)
}

// DeleteBin removes a bin and what it received.
func (s *Store) DeleteBin(ctx context.Context, id string) error {
	return checkAffected(s.write.ExecContext(ctx, `DELETE FROM bins WHERE id = ?`, id))
}

// AddBinRequest keeps a request in a live bin, dropping the oldest beyond BinLimit.
// ErrNotFound means the bin does not exist or has expired.
func (s *Store) AddBinRequest(ctx context.Context, binID, method string, h http.Header, headersTruncated bool, body []byte) error {
	headers, _ := json.Marshal(h)
	return s.WithTx(ctx, func(tx *Tx) error {
		now := s.nowMS()
		res, err := tx.ExecContext(ctx, `INSERT INTO bin_requests (bin_id, received_at, method, headers, body, headers_truncated)
			SELECT id, ?, ?, ?, ?, ? FROM bins WHERE id = ? AND expires_at > ?`, now, method, string(headers), body, headersTruncated, binID, now)
		if err := checkAffected(res, err); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM bin_requests WHERE bin_id = ? AND id NOT IN
			(SELECT id FROM bin_requests WHERE bin_id = ? ORDER BY id DESC LIMIT ?)`, binID, binID, BinLimit)
		return err
	})
}

// BinRequests returns what a bin received, newest first.
func (s *Store) BinRequests(ctx context.Context, binID string) ([]BinRequest, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+binRequestColumns+` FROM bin_requests
		WHERE bin_id = ? ORDER BY id DESC`, binID)
	return collect(rows, err, scanBinRequest)
}

// BinRequest returns one request a bin received, or ErrNotFound.
func (s *Store) BinRequest(ctx context.Context, binID string, id int64) (BinRequest, error) {
	r, err := scanBinRequest(s.read.QueryRowContext(ctx, `SELECT `+binRequestColumns+` FROM bin_requests
		WHERE bin_id = ? AND id = ?`, binID, id))
	return r, notFound(err)
}

const binRequestColumns = `id, bin_id, received_at, method, headers, body, headers_truncated`

func scanBinRequest(r scanner) (BinRequest, error) {
	var br BinRequest
	var at int64
	var h string
	err := r.Scan(&br.ID, &br.BinID, &at, &br.Method, &h, &br.Body, &br.HeadersTruncated)
	br.ReceivedAt = fromMS(at)
	_ = json.Unmarshal([]byte(h), &br.Headers)
	return br, err
}

// WebhookName is a webhook named, for a link to it.
type WebhookName struct{ ID, Name string }

// WebhooksCalling returns, for each of the URLs, the owner's webhooks that call it (by name,
// oldest first), so that a bin can be named after the webhook that uses it.
func (s *Store) WebhooksCalling(ctx context.Context, ownerID string, urls []string) (map[string][]WebhookName, error) {
	out := map[string][]WebhookName{}
	if len(urls) == 0 {
		return out, nil
	}
	args := []any{ownerID}
	for _, u := range urls {
		args = append(args, u)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT url, id, name FROM webhooks WHERE owner_id = ? AND url IN (`+
		placeholders(len(urls))+`) ORDER BY id`, args...)
	type hit struct {
		url string
		w   WebhookName
	}
	hits, err := collect(rows, err, func(r scanner) (hit, error) {
		var h hit
		return h, r.Scan(&h.url, &h.w.ID, &h.w.Name)
	})
	for _, h := range hits {
		out[h.url] = append(out[h.url], h.w)
	}
	return out, err
}
