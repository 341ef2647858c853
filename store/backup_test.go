package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hookyard/internal/testdb"
)

// A backup taken by a second process (as `hookyard backup` is) while the first keeps
// publishing holds every event acknowledged before it began, opens as a database of its
// own, is private to its owner, and never overwrites a file.
func TestBackupWhilePublishing(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "hookyard.db")
	server := openStoreAt(t, path)
	owner := createUser(t, server, "mia@example.com", "Mia", RoleMember)
	org := createOrg(t, server, "Acme")
	prj := createProject(t, server, org.ID, "Website")
	hook := Webhook{OwnerID: owner.ID, Name: "crm", URL: "http://127.0.0.1:9/crm", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
	if err := server.CreateWebhook(ctx, &hook); err != nil {
		t.Fatal(err)
	}

	var (
		mu    sync.Mutex
		acked []string
		bad   error
	)
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-stop:
				return
			default:
			}
			now := time.Now()
			ev := Event{ID: server.NextID("evt"), Type: "TODO_CREATED", OrganizationID: org.ID, ProjectID: prj.ID,
				CurrentValue: []byte(`{"name":"Write the release notes"}`), PublisherID: owner.ID, CreatedAt: now}
			err := server.Publish(ctx, Publication{Events: []Event{ev}, Deliveries: []Delivery{{ID: server.NextID("dlv"),
				EventID: ev.ID, WebhookID: hook.ID, EventType: ev.Type, CreatedAt: now, NextAttemptAt: &now}}})
			mu.Lock()
			if err != nil {
				bad = err
			} else {
				acked = append(acked, ev.ID)
			}
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	ackedSoFar := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), acked...)
	}
	for deadline := time.Now().Add(20 * time.Second); len(ackedSoFar()) < 200; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d publishes in 20s (error %v)", len(ackedSoFar()), bad)
		}
	}

	before := ackedSoFar()
	backup := filepath.Join(dir, "backup.db")
	cli := openStoreAt(t, path)
	err := cli.Backup(ctx, backup)
	close(stop)
	<-stopped
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if bad != nil {
		t.Fatalf("a publish failed beside the backup: %v", bad)
	}

	info, err := os.Stat(backup)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("the backup has mode %o; it holds secrets, want 0600", mode)
	}
	if err := cli.Backup(ctx, backup); !errors.Is(err, fs.ErrExist) {
		t.Errorf("a backup onto an existing file: %v; want it refused", err)
	}
	if again, err := os.Stat(backup); err != nil || again.Size() != info.Size() || !again.ModTime().Equal(info.ModTime()) {
		t.Errorf("the refused backup changed the existing file")
	}
	restored := openStoreAt(t, backup)
	missing := 0
	for _, id := range before {
		if _, err := restored.Event(ctx, id); err != nil {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of the %d events acknowledged before the backup began are not in it", missing, len(before))
	}
	if n := countRows(t, restored, "deliveries", ""); n < len(before) {
		t.Errorf("the backup has %d deliveries, want at least %d", n, len(before))
	}

}

// PostgreSQL's backups are pg_dump's job.
func TestBackupOnPostgresSaysPgDump(t *testing.T) {
	s := openStoreAt(t, testdb.Postgres(t))
	file := filepath.Join(t.TempDir(), "backup.db")
	if err := s.Backup(t.Context(), file); !errors.Is(err, ErrBackupNeedsPgDump) {
		t.Errorf("Backup on PostgreSQL: %v; want ErrBackupNeedsPgDump", err)
	}
	if _, err := os.Stat(file); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Backup on PostgreSQL left a file (%v)", err)
	}
}
