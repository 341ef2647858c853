package store

import (
	"context"
	"crypto/rand"
	"errors"
)

// SessionKeys returns the key that signs and encrypts session cookies, creating it on first
// use and keeping it so restarts keep people signed in. Processes starting at once on a new
// database all get the key the first of them stored.
func (s *Store) SessionKeys(ctx context.Context) (hashKey, blockKey []byte, err error) {
	var key []byte
	err = s.WithTx(ctx, func(tx *Tx) error {
		fresh := make([]byte, 64)
		_, _ = rand.Read(fresh)
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('session_key', ?)
			ON CONFLICT (key) DO NOTHING`, fresh); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'session_key'`).Scan(&key)
	})
	if err != nil {
		return nil, nil, err
	}
	if len(key) != 64 {
		return nil, nil, errors.New("stored session key has the wrong length")
	}
	return key[:32], key[32:], nil
}
