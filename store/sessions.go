package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"
)

// Session is a live browser session: whose it is, and the CSRF token its forms must carry.
type Session struct {
	User      User
	CSRFToken string
}

// randomToken is 32 random bytes, URL-safe.
func randomToken() string {
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// CreateSession starts a browser session for a user and returns its token, which only the
// cookie holds. The session gets a fresh CSRF token of its own. Expired sessions are cleared
// on the way.
func (s *Store) CreateSession(ctx context.Context, userID string, ttl time.Duration) (string, error) {
	token := randomToken()
	now := s.nowMS()
	if _, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, now); err != nil {
		return "", err
	}
	res, err := s.write.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, csrf_token)
		SELECT ?, id, CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), ? FROM users WHERE id = ?`, hashToken(token), now, now, now+ttl.Milliseconds(), randomToken(), userID)
	return token, checkAffected(res, err)
}

// Session returns a live session, or ErrNotFound when the session has ended, expired or
// never existed.
func (s *Store) Session(ctx context.Context, token string) (Session, error) {
	var lastSeen int64
	var sess Session
	u := &sess.User
	var created, updated int64
	err := s.read.QueryRowContext(ctx, `SELECT s.last_seen_at, s.csrf_token, `+prefixed("u.", userColumns)+`
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ? AND s.expires_at > ?`,
		hashToken(token), s.nowMS()).Scan(&lastSeen, &sess.CSRFToken, &u.ID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &created, &updated)
	if err != nil {
		return Session{}, notFound(err)
	}
	u.CreatedAt, u.UpdatedAt = fromMS(created), fromMS(updated)
	if now := s.nowMS(); now-lastSeen >= lastUsedResolution.Milliseconds() {
		if _, err := s.write.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, now, hashToken(token)); err != nil {
			return Session{}, err
		}
	}
	return sess, nil
}

// DeleteSession ends one session (signing out).
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, hashToken(token))
	return err
}

// DeleteUserSessions ends every session of a user except the one with token keep ("" for none),
// as after a password change.
func (s *Store) DeleteUserSessions(ctx context.Context, userID, keep string) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id != ?`, userID, hashToken(keep))
	return err
}
