package store

import (
	"context"
	"database/sql"
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

// openSQLite opens (creating if needed) the database file at path.
func openSQLite(ctx context.Context, path string) (*Store, error) {
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
	// _auto_vacuum: a new database gives the space of pruned rows back to the filesystem, a
	// little at a time (ReclaimSpace). The driver sets it before WAL mode, after which it
	// could no longer be chosen; an existing database keeps the mode it was made with.
	dsn := "file:" + url.PathEscape(path) + "?" + params + "&_txlock=immediate&_auto_vacuum=incremental"
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
	s := &Store{write: &conn{db: write, d: sqliteDialect}, d: sqliteDialect, now: time.Now, passwordCost: DefaultPasswordCost,
		gate: &writeGate{}}
	if err := s.migrate(ctx, write, goose.DialectSQLite3, "migrations/sqlite"); err != nil {
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
	s.read = &conn{db: read, d: sqliteDialect}
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
