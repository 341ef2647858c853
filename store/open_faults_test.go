package store

import (
	"context"
	"database/sql"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hookyard/internal/testfs"
)

func TestOpenExplainsReadOnlyFilesystem(t *testing.T) {
	dir := testfs.Tmpfs(t, "8m")
	path := filepath.Join(dir, "hookyard.db")
	st, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount read-only: %v: %s", err, out)
	}
	_, err = Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "read-only filesystem") || !strings.Contains(err.Error(), path) {
		t.Fatalf("opening on a read-only filesystem: %v; want a message naming the file and the read-only filesystem", err)
	}
}

func TestOpenExplainsLockedDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookyard.db")
	st, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	// Another process (here: another connection) holds the write lock the whole time.
	other, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), `BEGIN EXCLUSIVE`); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(context.Background(), `ROLLBACK`)
	_, err = Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("opening a locked database: %v; want it to say another process holds the lock", err)
	}
}

func TestWriteFaultNamesDiskFull(t *testing.T) {
	dir := testfs.Tmpfs(t, "2m")
	st, err := Open(context.Background(), filepath.Join(dir, "hookyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	free := testfs.Fill(t, dir)
	var werr error
	for i := 0; i < 200 && werr == nil; i++ {
		_, werr = st.CreateOrganization(context.Background(), strings.Repeat("x", 4000))
	}
	if got := WriteFault(werr); got != "the disk holding the database is full" {
		t.Fatalf("write on a full disk: %v; WriteFault says %q", werr, got)
	}
	free()
	if _, err := st.CreateOrganization(context.Background(), "after"); err != nil {
		t.Fatalf("after space came back: %v", err)
	}
}
