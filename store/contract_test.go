package store_test

import (
	"path/filepath"
	"testing"

	"hookyard/internal/testdb"
	"hookyard/store"
	"hookyard/store/storetest"
)

// TestContractSQLite runs the store contract on SQLite, each sub-test on a new database file.
func TestContractSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.Store {
		return openContractStore(t, filepath.Join(t.TempDir(), "hookyard.db"))
	})
}

// TestContractPostgres runs the store contract on PostgreSQL, each sub-test on a new database
// of the server HOOKYARD_TEST_POSTGRES names (skipped loudly without it, failed under CI=true).
func TestContractPostgres(t *testing.T) {
	testdb.PostgresServer(t)
	storetest.Run(t, func(t *testing.T) *store.Store {
		return openContractStore(t, testdb.Postgres(t))
	})
}

// openContractStore opens dsn for one sub-test of the contract, on the sub-test's clock.
func openContractStore(t *testing.T, dsn string) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), dsn)
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
}
