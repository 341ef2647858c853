// Package store owns Hookyard's SQLite database: the schema and its migrations, the domain
// types, and one file of queries per entity. Writes go through a single connection (SQLite
// allows one writer); reads use a separate read-only pool so they never wait on a write.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
	"github.com/pressly/goose/v3"
)

// ErrNotFound is returned when the requested row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write would break a uniqueness rule (an e-mail already taken).
var ErrConflict = errors.New("already exists")

// ErrQuotaReached is returned when creating one more would exceed the owner's quota.
var ErrQuotaReached = errors.New("quota reached")

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the database handle shared by the whole program.
type Store struct {
	write *sql.DB // exactly one connection: SQLite serialises writers anyway
	read  *sql.DB // read-only pool
	now   func() time.Time

	passwordCost int
	ids          idSource
	// log records writes that can change who receives an event (webhooks, memberships,
	// roles, event types), so caches know when, and what, is stale.
	log changeLog
}

// Open opens (creating if needed) the database file at path and applies any pending
// migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create database folder: %w", err)
		}
	}
	// The file holds webhook secrets and the session key: only its owner may read it.
	// SQLite gives the -wal and -shm files the mode of the database file.
	if err := makePrivate(path); err != nil {
		return nil, openProblem(path, err)
	}
	// _txlock=immediate: a transaction that reads then writes must hold the write lock from
	// its start, or two of them fail at once with "database is locked".
	params := "_journal_mode=WAL&_busy_timeout=5000&_synchronous=NORMAL&_foreign_keys=on"
	dsn := "file:" + url.PathEscape(path) + "?" + params + "&_txlock=immediate"
	write, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, openProblem(path, err)
	}
	s := &Store{write: write, now: time.Now, passwordCost: DefaultPasswordCost}
	// A new database gives the space of pruned rows back to the filesystem, a little at a
	// time (ReclaimSpace); the mode can only be chosen before the first table exists.
	var tables int
	if err := write.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master`).Scan(&tables); err == nil && tables == 0 {
		if _, err := write.ExecContext(ctx, `PRAGMA auto_vacuum = INCREMENTAL`); err != nil {
			write.Close()
			return nil, openProblem(path, err)
		}
	}
	if err := s.migrate(ctx); err != nil {
		write.Close()
		if WriteFault(err) != "" || errors.Is(err, syscall.EROFS) {
			return nil, openProblem(path, err)
		}
		return nil, err
	}
	// Migrations may have had nothing to write: make sure writes work now, not at the first
	// publish.
	if err := s.CheckWritable(ctx); err != nil {
		write.Close()
		return nil, openProblem(path, err)
	}
	read, err := sql.Open("sqlite3", "file:"+url.PathEscape(path)+"?mode=ro&"+params)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open database for reading: %w", err)
	}
	read.SetMaxOpenConns(8)
	s.read = read
	// Files left by an older version, or copied in, are tightened too.
	for _, f := range []string{path + "-wal", path + "-shm"} {
		if err := os.Chmod(f, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.Close()
			return nil, fmt.Errorf("make %s private: %w", f, err)
		}
	}
	return s, nil
}

// makePrivate creates the database file readable and writable by its owner only, or
// takes the permissions of others away from an existing one, whatever the umask.
func makePrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open database %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("make database %s private: %w", path, err)
	}
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	p, err := goose.NewProvider(goose.DialectSQLite3, s.write, mustSub(migrations, "migrations"),
		goose.WithDisableGlobalRegistry(true))
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
		`SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied = 1`).Scan(&v)
	return v, err
}

// Close closes both pools.
func (s *Store) Close() error {
	return errors.Join(s.read.Close(), s.write.Close())
}

// Ping reports whether the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.read.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// WithTx runs fn in one write transaction, committing when fn returns nil.
func (s *Store) WithTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
