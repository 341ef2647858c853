package store

import (
	"errors"
	"syscall"

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
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return "the disk holding the database is full"
	case errors.Is(err, syscall.EROFS):
		return "the database is on a read-only filesystem"
	}
	return ""
}
