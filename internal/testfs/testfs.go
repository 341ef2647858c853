// Package testfs gives tests small filesystems of their own, to fill up or make read-only.
package testfs

import (
	"os"
	"os/exec"
	"testing"
)

// Tmpfs mounts a tmpfs of the given size ("8m") on a fresh folder for the test and unmounts
// it at cleanup. Where the test cannot mount (not root, no capability) it skips loudly; under
// CI=true as root it fails instead, so CI never silently skips the check.
func Tmpfs(t testing.TB, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" && os.Geteuid() == 0 {
			t.Fatalf("CI runs as root and must be able to mount a tmpfs: %v: %s", err, out)
		}
		t.Skipf("SKIPPED LOUDLY: cannot mount a tmpfs here (%v: %s); this fault test did not run", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// Fill writes a file in dir until the filesystem is full, and returns a function that
// deletes it again.
func Fill(t testing.TB, dir string) (free func()) {
	t.Helper()
	f, err := os.CreateTemp(dir, "ballast-*")
	if err != nil {
		t.Fatalf("create ballast: %v", err)
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	// The last bytes that fit: the disk is full to the byte.
	for _, n := range []int{4096, 512, 1} {
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				break
			}
		}
	}
	f.Close()
	return func() { _ = os.Remove(f.Name()) }
}
