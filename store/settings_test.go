package store

import (
	"bytes"
	"path/filepath"
	"testing"
)

// The session key outlives the process: a database file opened again has the same key, and
// another installation has its own.
func TestSessionKeysSurviveReopen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hookyard.db")

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	hash, block, err := s.SessionKeys(ctx)
	if err != nil {
		t.Fatalf("SessionKeys: %v", err)
	}
	if n := countRows(t, s, "settings", "key = 'session_key'"); n != 1 {
		t.Errorf("%d session keys stored, want 1", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hash2, block2, err := s.SessionKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(hash, hash2) || !bytes.Equal(block, block2) {
		t.Errorf("keys after reopening = %x, %x; want %x, %x", hash2, block2, hash, block)
	}

	other := openTestStore(t)
	h3, _, err := other.SessionKeys(ctx)
	if err != nil || bytes.Equal(h3, hash) {
		t.Errorf("a different database has the same key (err %v)", err)
	}
}
