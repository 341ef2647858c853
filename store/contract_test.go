package store_test

import (
	"path/filepath"
	"testing"

	"hookyard/store"
	"hookyard/store/storetest"
)

// TestContract runs the store contract on SQLite, each sub-test on a new database file.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.Store {
		s, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "hookyard.db"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		store.SetClock(s, storetest.ClockFor(t).Now)
		return s
	})
}
