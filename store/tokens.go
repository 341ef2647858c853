package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// TokenPrefix starts every API token, so a leaked one is easy to recognise.
const TokenPrefix = "hyk_"

// APIToken is a named bearer credential that acts as its user. Only its hash is stored.
type APIToken struct {
	ID         string     `json:"id"`
	UserID     string     `json:"userId"`
	UserEmail  string     `json:"userEmail"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
}

// lastUsedResolution limits how often using a token writes to the database.
const lastUsedResolution = time.Minute

func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

const tokenSelect = `SELECT t.id, t.user_id, u.email, t.name, t.prefix, t.created_at, t.last_used_at
	FROM api_tokens t JOIN users u ON u.id = t.user_id`

func scanToken(row scanner) (APIToken, error) {
	var t APIToken
	var created int64
	var used nullMS
	err := row.Scan(&t.ID, &t.UserID, &t.UserEmail, &t.Name, &t.Prefix, &created, &used)
	t.CreatedAt, t.LastUsedAt = fromMS(created), used.time()
	return t, notFound(err)
}

// CreateToken makes a new token for a user and returns it with its secret, which is not
// stored and cannot be shown again.
func (s *Store) CreateToken(ctx context.Context, userID, name string) (APIToken, string, error) {
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	now := s.nowMS()
	id := s.newID("tok", now)
	res, err := s.write.ExecContext(ctx, `INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_at)
		SELECT ?, id, ?, ?, ?, CAST(? AS BIGINT) FROM users WHERE id = ?`, id, name, hashToken(secret), secret[:len(TokenPrefix)+6], now, userID)
	if err := checkAffected(res, err); err != nil {
		return APIToken{}, "", err
	}
	t, err := scanToken(s.write.QueryRowContext(ctx, tokenSelect+` WHERE t.id = ?`, id))
	return t, secret, err
}

// UserByToken returns the user a token acts as, recording its use; ErrNotFound if the
// token is unknown or revoked.
func (s *Store) UserByToken(ctx context.Context, secret string) (User, APIToken, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return User{}, APIToken{}, ErrNotFound
	}
	// One query for the token and its user: this runs on every API call, publishing included.
	var t APIToken
	var created int64
	var used nullMS
	var u User
	var uCreated, uUpdated int64
	err := s.read.QueryRowContext(ctx, `SELECT t.id, t.user_id, u.email, t.name, t.prefix, t.created_at, t.last_used_at,
		`+prefixed("u.", userColumns)+` FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?`,
		hashToken(secret)).Scan(&t.ID, &t.UserID, &t.UserEmail, &t.Name, &t.Prefix, &created, &used,
		&u.ID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &uCreated, &uUpdated)
	if err != nil {
		return User{}, APIToken{}, notFound(err)
	}
	t.CreatedAt, t.LastUsedAt = fromMS(created), used.time()
	u.CreatedAt, u.UpdatedAt = fromMS(uCreated), fromMS(uUpdated)
	now := s.now()
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= lastUsedResolution {
		if _, err := s.write.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, ms(now), t.ID); err != nil {
			return User{}, APIToken{}, err
		}
		at := fromMS(ms(now))
		t.LastUsedAt = &at
	}
	return u, t, nil
}

// ListTokens returns one page of the tokens of one user, or of everyone when userID is "",
// newest first.
func (s *Store) ListTokens(ctx context.Context, userID string, p Page) ([]APIToken, string, error) {
	p, err := p.forList("tok")
	if err != nil {
		return nil, "", err
	}
	where, args := tokenWhere(userID)
	if p.Cursor != "" {
		where, args = append(where, `t.id < ?`), append(args, p.Cursor)
	}
	rows, err := s.read.QueryContext(ctx, tokenSelect+` WHERE `+strings.Join(where, ` AND `)+
		` ORDER BY t.id DESC LIMIT ?`, append(args, p.Limit+1)...)
	return collectPage(rows, err, p, scanToken, func(t APIToken) string { return t.ID })
}

// CountTokens returns how many tokens one user has, or everyone when userID is "".
func (s *Store) CountTokens(ctx context.Context, userID string) (int, error) {
	where, args := tokenWhere(userID)
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_tokens t WHERE `+strings.Join(where, ` AND `), args...).Scan(&n)
	return n, err
}

func tokenWhere(userID string) ([]string, []any) {
	if userID == "" {
		return []string{`1 = 1`}, nil
	}
	return []string{`t.user_id = ?`}, []any{userID}
}

// Token returns one token or ErrNotFound.
func (s *Store) Token(ctx context.Context, id string) (APIToken, error) {
	return scanToken(s.read.QueryRowContext(ctx, tokenSelect+` WHERE t.id = ?`, id))
}

// DeleteToken revokes a token at once.
func (s *Store) DeleteToken(ctx context.Context, id string) error {
	return checkAffected(s.write.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = ?`, id))
}
