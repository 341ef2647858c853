package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrBackupNeedsPgDump is Backup's answer on PostgreSQL, whose own tool does it better.
var ErrBackupNeedsPgDump = errors.New("a PostgreSQL database is backed up with pg_dump")

// Backup writes a consistent copy of the SQLite database to a new file at path (SPEC §6,
// `hookyard backup`): VACUUM INTO on a read connection, so the copy is the database as it
// was when the backup began while writes carry on meanwhile. A path that exists is refused
// (fs.ErrExist); the file is readable by its owner only, as the database is.
func (s *Store) Backup(ctx context.Context, path string) error {
	if s.d != sqliteDialect {
		return ErrBackupNeedsPgDump
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	// Made here, empty, so that it is private and nothing else takes the name meanwhile;
	// VACUUM INTO accepts an empty file.
	f, err := os.OpenFile(abs, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists; a backup never overwrites a file: choose a new name (%w)", path, err)
	}
	if err != nil {
		return fmt.Errorf("create the backup file: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if _, err := s.read.ExecContext(ctx, `VACUUM INTO ?`, abs); err != nil {
		_ = os.Remove(abs)
		return fmt.Errorf("back up into %s: %w", path, err)
	}
	return nil
}
