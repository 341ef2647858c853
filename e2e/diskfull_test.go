package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hookyard/internal/testdb"
	"hookyard/internal/testfs"
)

// TestDiskFullRefusesPublishesAndStrandsNothing runs the real binary on a small filesystem,
// fills it while events are being delivered, and checks what SPEC §2 "Failed writes" asks:
// publishes answer 503 with Retry-After and a plain reason (never 202), /healthz says the
// store cannot write, and once space is back every acknowledged event arrives exactly once
// with its history stored: no result is stranded, nothing answered is sent again, not even
// after a restart.
func TestDiskFullRefusesPublishesAndStrandsNothing(t *testing.T) {
	if testdb.Engine() == "postgres" {
		t.Skip("a full disk is tested with SQLite, whose file is Hookyard's own; PostgreSQL's disk is its server's")
	}
	dir := testfs.Tmpfs(t, "24m")
	db := filepath.Join(dir, "h.db")
	token := addAdminWithToken(t, db)
	recv := newSlowReceiver(100*time.Millisecond, 200*time.Millisecond)
	srv := httptest.NewServer(recv)
	defer srv.Close()
	flags := []string{"--allow-private-targets", "--retry-schedule", "100ms,100ms,100ms,100ms"}
	p := startProcess(t, db, flags...)
	api := newAPIClient(p.base, token)
	var org, prj, hook struct{ ID string }
	api.mustCall(t, "POST", "/organizations", map[string]any{"name": "Fullco"}, &org, http.StatusCreated)
	api.mustCall(t, "POST", "/projects", map[string]any{"organizationId": org.ID, "name": "Disk"}, &prj, http.StatusCreated)
	api.mustCall(t, "POST", "/webhooks", map[string]any{"name": "Receiver", "url": srv.URL + "/hook"}, &hook, http.StatusCreated)

	var acked []string
	publish := func(n int) (int, http.Header, string) {
		body := map[string]any{"event": "TODO_CREATED", "projectId": prj.ID,
			"currentValue": map[string]any{"n": n, "text": strings.Repeat("x", 2000)}}
		var out struct{ ID string }
		status, hdr, text, err := api.exchange("POST", "/events", body, &out)
		if err != nil {
			t.Fatalf("publish %d: no answer: %v", n, err)
		}
		if status == http.StatusAccepted {
			acked = append(acked, out.ID)
		}
		return status, hdr, string(text)
	}
	for i := range 40 {
		if status, _, text := publish(i); status != http.StatusAccepted {
			t.Fatalf("publish before the disk filled: %d %s", status, text)
		}
	}
	// The slow receiver has some of them in flight: their results meet the full disk.

	free := testfs.Fill(t, dir)
	refused := false
	for i := 20; i < 5000 && !refused; i++ {
		status, hdr, text := publish(i)
		switch status {
		case http.StatusAccepted:
		case http.StatusServiceUnavailable:
			refused = true
			if hdr.Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After")
			}
			if !strings.Contains(text, "disk") || !strings.Contains(text, "full") {
				t.Errorf("503 does not say the disk is full: %s", text)
			}
		default:
			t.Fatalf("publish on a full disk: %d %s; want 202 or 503", status, text)
		}
	}
	if !refused {
		t.Fatalf("5000 publishes on a full disk were all accepted")
	}
	if status, body := get(t, p.base+"/healthz"); status != http.StatusServiceUnavailable || !strings.Contains(body, "full") {
		t.Errorf("healthz on a full disk: %d %q; want 503 saying the disk is full", status, body)
	}
	// Keep the disk full until attempts in flight finish and their results meet it.
	for wait := time.Now().Add(5 * time.Second); !strings.Contains(p.out.String(), "store attempt results"); {
		if time.Now().After(wait) {
			t.Fatalf("no attempt result met the full disk within 5 s: the test does not exercise the result writer\n%s", p.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	free()
	deadline := time.Now().Add(20 * time.Second)
	for len(recv.missing(acked, []string{hook.ID})) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged events never arrived after space came back\n%s",
				len(recv.missing(acked, []string{hook.ID})), len(acked), p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for {
		var page struct{ Data []struct{ ID string } }
		api.mustCall(t, "GET", "/webhooks/"+hook.ID+"/deliveries?status=pending", nil, &page, http.StatusOK)
		if len(page.Data) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries stranded pending after space came back", len(page.Data))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status, body := get(t, p.base+"/healthz"); status != http.StatusOK {
		t.Errorf("healthz after space came back: %d %q", status, body)
	}
	if status, _, text := publish(9999); status != http.StatusAccepted {
		t.Fatalf("publish after space came back: %d %s", status, text)
	}

	// One log line per fault episode (and one when it ends), not one per failed write.
	out := p.out.String()
	t.Logf("server log:\n%s", out)
	if n := strings.Count(out, "database write failed"); n == 0 || n > 3 {
		t.Errorf("%d log lines about failed writes; want one per episode (publishes, results, claims)", n)
	}
	if !strings.Contains(out, "database writes work again") {
		t.Errorf("the end of the fault episode was not logged")
	}

	// A restart re-sends nothing that was answered: wait for a sentinel published after it.
	p.stop(t)
	p = startProcess(t, db, flags...)
	api = newAPIClient(p.base, token)
	var sentinel struct{ ID string }
	api.mustCall(t, "POST", "/events", map[string]any{"event": "TODO_CREATED", "projectId": prj.ID}, &sentinel, http.StatusAccepted)
	for len(recv.missing([]string{sentinel.ID}, []string{hook.ID})) > 0 {
		if time.Now().After(deadline.Add(10 * time.Second)) {
			t.Fatalf("the sentinel never arrived after the restart")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if dups, _ := recv.duplicates(); dups > 0 {
		t.Errorf("%d requests were sent twice: an answered attempt's result was lost in the fault", dups)
	}
	t.Logf("%d events acknowledged; the full disk refused a publish; all arrived once", len(acked))
}

// get fetches a URL and returns its status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}
