package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sys/unix"

	"github.com/mattn/go-sqlite3"
)

// WriteFault says, in plain words, why the database cannot take a write right now (the disk
// is full, the file or its folder is read-only, another process holds the lock, an I/O
// error), or "" when err is not such a fault. Faults are passing conditions: the caller
// answers 503 or tries again later; anything else is a bug or bad input.
func WriteFault(err error) string {
	if err == nil {
		return ""
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrFull:
			return "the disk holding the database is full"
		case sqlite3.ErrReadonly:
			return "the database file is read-only"
		case sqlite3.ErrBusy, sqlite3.ErrLocked:
			return "the database is locked by another process"
		case sqlite3.ErrIoErr:
			return "the database file could not be written (I/O error)"
		case sqlite3.ErrCantOpen:
			return "the database file could not be opened for writing"
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "53100":
			return "the disk of the database server is full"
		case pe.Code == "53200" || pe.Code == "53300":
			return "the database server is out of memory or connections"
		case pe.Code == "25006":
			return "the database is read-only (a standby?)"
		case pe.Code == "40001" || pe.Code == "40P01" || pe.Code == "55P03":
			return "the database was busy with a conflicting write"
		case pe.Code[:2] == "08" || pe.Code[:2] == "57":
			return "the database server is not available (restarting, or shutting down)"
		}
	}
	var ne *net.OpError
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return "the disk holding the database is full"
	case errors.Is(err, syscall.EROFS):
		return "the database is on a read-only filesystem"
	case errors.As(err, &ne), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return "the database server cannot be reached"
	}
	return ""
}

// CheckWritable makes a real write about the size of a small event, so a health check
// notices a database that answers reads but cannot take writes (read-only, locked, full).
func (s *Store) CheckWritable(ctx context.Context) error {
	probe := make([]byte, 2048)
	_, _ = rand.Read(probe)
	_, err := s.write.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('write_probe', ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, probe)
	return err
}

// openProblem explains why the database at path could not be opened or prepared, in words
// that say what to do; err is kept for errors.Is.
func openProblem(path string, err error) error {
	dir := filepath.Dir(path)
	var se sqlite3.Error
	code := sqlite3.ErrNo(0)
	if errors.As(err, &se) {
		code = se.Code
	}
	var why string
	switch {
	case code == sqlite3.ErrBusy || code == sqlite3.ErrLocked:
		why = "it is locked by another process (another hookyard, a backup, or a sqlite3 shell holding a transaction): stop that process, or give this one its own --db"
	case code == sqlite3.ErrFull || errors.Is(err, syscall.ENOSPC):
		why = "the disk holding it is full: free some space"
	case code == sqlite3.ErrReadonly || code == sqlite3.ErrCantOpen || code == sqlite3.ErrPerm ||
		errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EACCES):
		switch {
		case errors.Is(unix.Access(dir, unix.W_OK), syscall.EROFS):
			why = "it is on a read-only filesystem: put --db on a writable disk"
		case unix.Access(dir, unix.W_OK) != nil:
			why = fmt.Sprintf("the folder %s is not writable (Hookyard keeps its -wal and -shm files beside the database): make it writable, or choose another --db", dir)
		case fileExists(path) && unix.Access(path, unix.W_OK) != nil:
			why = "the file is read-only: make it writable (chmod u+w), or choose another --db"
		default:
			why = "it cannot be written (check the permissions of the file, its -wal and -shm files and their folder)"
		}
	default:
		return fmt.Errorf("open database %s: %w", path, err)
	}
	return fmt.Errorf("cannot use the database %s: %s (%w)", path, why, err)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
