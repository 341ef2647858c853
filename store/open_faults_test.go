package store

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// mountTmpfs mounts a small tmpfs for a test, or skips loudly where the test cannot mount
// (not root, no mount command, a container without the capability).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" && os.Geteuid() == 0 {
			t.Fatalf("CI as root must be able to mount a tmpfs: %v: %s", err, out)
		}
		t.Skipf("SKIPPED LOUDLY: cannot mount a tmpfs here (%v: %s); the read-only and disk-full checks did not run", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

func TestOpenExplainsReadOnlyFilesystem(t *testing.T) {
	dir := mountTmpfs(t, "8m")
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
	dir := mountTmpfs(t, "2m")
	st, err := Open(context.Background(), filepath.Join(dir, "hookyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Fill the disk, then write.
	ballast, _ := os.Create(filepath.Join(dir, "ballast"))
	buf := make([]byte, 64<<10)
	for {
		if _, err := ballast.Write(buf); err != nil {
			break
		}
	}
	ballast.Close()
	var werr error
	for i := 0; i < 200 && werr == nil; i++ {
		_, werr = st.CreateOrganization(context.Background(), strings.Repeat("x", 4000))
	}
	if got := WriteFault(werr); got != "the disk holding the database is full" {
		t.Fatalf("write on a full disk: %v; WriteFault says %q", werr, got)
	}
	os.Remove(filepath.Join(dir, "ballast"))
	if _, err := st.CreateOrganization(context.Background(), "after"); err != nil {
		t.Fatalf("after space came back: %v", err)
	}
}
