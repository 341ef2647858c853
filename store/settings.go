package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
)

// SessionKeys returns the key that signs and encrypts session cookies, creating it on first
// use and keeping it so restarts keep people signed in.
func (s *Store) SessionKeys(ctx context.Context) (hashKey, blockKey []byte, err error) {
	var key []byte
	err = s.WithTx(ctx, func(tx *Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'session_key'`).Scan(&key)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		key = make([]byte, 64)
		_, _ = rand.Read(key)
		_, err = tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('session_key', ?)`, key)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if len(key) != 64 {
		return nil, nil, errors.New("stored session key has the wrong length")
	}
	return key[:32], key[32:], nil
}
