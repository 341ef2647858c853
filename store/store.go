// Package store owns Hookyard's database, SQLite (the embedded default) or PostgreSQL: the
// schema and its migrations per engine, the domain types, and one file of queries per
// entity, each query written once for both engines (db.go says how). Under SQLite writes go
// through a single connection and reads use a separate read-only pool (sqlite.go); under
// PostgreSQL one pool serves both (postgres.go).
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
)

// ErrNotFound is returned when the requested row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write would break a uniqueness rule (an e-mail already taken).
var ErrConflict = errors.New("already exists")

// ErrQuotaReached is returned when creating one more would exceed the owner's quota.
var ErrQuotaReached = errors.New("quota reached")

//go:embed migrations
var migrations embed.FS

// Store is the database handle shared by the whole program.
type Store struct {
	write *conn // SQLite: exactly one connection, as SQLite serialises writers anyway
	read  *conn // SQLite: a read-only pool; PostgreSQL: the same pool as write
	d     *dialect
	now   func() time.Time

	passwordCost int
	ids          idSource
	// log records writes that can change who receives an event (webhooks, memberships,
	// roles, event types), so caches know when, and what, is stale.
	log changeLog
	// PostgreSQL: the URL (for the listening connection) and this process's mark on the
	// changes it tells other nodes about.
	dsn      string
	instance string
	// gate orders the transactions waiting for SQLite's single writer (nil for PostgreSQL).
	gate *writeGate
}

// Open opens the database dsn names and applies any pending migrations: a postgres:// or
// postgresql:// URL opens PostgreSQL (SPEC §8); anything else is the path of an SQLite file,
// created if needed.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if IsPostgres(dsn) {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, dsn)
}

// IsPostgres reports whether dsn names a PostgreSQL database rather than an SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Engine names the storage engine: "sqlite" or "postgres".
func (s *Store) Engine() string { return s.d.name }

func (s *Store) migrate(ctx context.Context, db *sql.DB, dialect goose.Dialect, dir string) error {
	p, err := goose.NewProvider(dialect, db, mustSub(migrations, dir), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("prepare migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// SchemaVersion reports the newest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.read.QueryRowContext(ctx,
		`SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&v)
	return v, err
}

// Close closes both pools.
func (s *Store) Close() error {
	if s.read == s.write {
		return s.write.Close()
	}
	return errors.Join(s.read.Close(), s.write.Close())
}

// Ping reports whether the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.read.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// WithTx runs fn in one write transaction, committing when fn returns nil.
func (s *Store) WithTx(ctx context.Context, fn func(tx *Tx) error) error {
	return s.withTx(ctx, false, fn)
}

// withTx is WithTx; urgent transactions (the sender's: attempt results, claims) get SQLite's
// writer before the others waiting for it.
func (s *Store) withTx(ctx context.Context, urgent bool, fn func(tx *Tx) error) error {
	if s.gate != nil {
		if err := s.gate.acquire(ctx, urgent); err != nil {
			return err
		}
		defer s.gate.release()
	}
	sqlTx, err := s.write.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{tx: sqlTx, d: s.d}
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
