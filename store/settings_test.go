package store

import (
	"bytes"
	"path/filepath"
	"testing"
)

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
	if len(hash) != 32 || len(block) != 32 {
		t.Fatalf("key lengths = %d, %d; want 32, 32", len(hash), len(block))
	}
	zero := make([]byte, 32)
	if bytes.Equal(hash, zero) || bytes.Equal(block, zero) || bytes.Equal(hash, block) {
		t.Errorf("keys are not random: hash %x, block %x", hash, block)
	}
	hash2, block2, err := s.SessionKeys(ctx)
	if err != nil || !bytes.Equal(hash, hash2) || !bytes.Equal(block, block2) {
		t.Errorf("second call on the same store gave different keys (err %v)", err)
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
	hash3, block3, err := s.SessionKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(hash, hash3) || !bytes.Equal(block, block3) {
		t.Errorf("keys after reopening = %x, %x; want %x, %x", hash3, block3, hash, block)
	}

	other := openTestStore(t) // another installation gets other keys
	h4, _, err := other.SessionKeys(ctx)
	if err != nil || bytes.Equal(h4, hash) {
		t.Errorf("a different database has the same key (err %v)", err)
	}
}
