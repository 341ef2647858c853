package store

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// What the contract suite cannot see: only a hash of a token is kept, so the secret is nowhere
// in the table, nor in the files on disk.
func TestTokenSecretIsNotStored(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hookyard.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u := createUser(t, s, "ada@example.com", "Ada", RoleMember)
	tok, secret, err := s.CreateToken(ctx, u.ID, "CI deploys")
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if _, _, err := s.CreateToken(ctx, u.ID, "CI deploys"); err != nil {
		t.Fatalf("second CreateToken: %v", err)
	}
	rows, err := s.write.QueryContext(ctx, `SELECT id, user_id, name, token_hash, prefix FROM api_tokens`)
	stored, err := collect(rows, err, func(r scanner) (string, error) {
		var a, b, c, d, e string
		err := r.Scan(&a, &b, &c, &d, &e)
		return strings.Join([]string{a, b, c, d, e}, "|"), err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 2 {
		t.Fatalf("%d token rows, want 2", len(stored))
	}
	hidden := secret[len(tok.Prefix):] // what is never shown again
	for _, row := range stored {
		if strings.Contains(row, secret) || strings.Contains(row, hidden) {
			t.Errorf("token row %q contains the secret %q", row, secret)
		}
	}
	if n := countRows(t, s, "api_tokens", "instr(token_hash, ?) > 0 OR token_hash = ?", hidden, secret); n != 0 {
		t.Errorf("%d rows hold the secret in token_hash", n)
	}
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(hidden)) {
			t.Errorf("%s contains the token secret", filepath.Base(f))
		}
	}
}
