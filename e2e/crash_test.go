package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"hookyard/internal/testdb"
)

// TestCrashLosesNoAcknowledgedEvent runs the real binary, publishes events (single and in
// batches) while a slow receiver keeps a backlog pending, kills the process with SIGKILL in
// the middle, starts it again on the same database, and checks that every event answered
// 202 reaches every webhook at least once, duplicates carrying the same webhook-id.
func TestCrashLosesNoAcknowledgedEvent(t *testing.T) {
	db := testdb.DSN(t)
	token := addAdminWithToken(t, db)
	flags := []string{"--allow-private-targets", "--retry-schedule", "100ms,100ms,100ms,100ms"}

	recv := newSlowReceiver(50*time.Millisecond, 100*time.Millisecond)
	srv := httptest.NewServer(recv)
	defer srv.Close()

	first := startProcess(t, db, flags...)
	api := newAPIClient(first.base, token)
	var org, prj struct{ ID string }
	api.mustCall(t, "POST", "/organizations", map[string]any{"name": "Crashco"}, &org, http.StatusCreated)
	api.mustCall(t, "POST", "/projects", map[string]any{"organizationId": org.ID, "name": "Ledger"}, &prj, http.StatusCreated)
	var hooks []string
	for i := range 2 {
		var w struct{ ID string }
		api.mustCall(t, "POST", "/webhooks", map[string]any{"name": fmt.Sprintf("Slow receiver %d", i+1),
			"url": srv.URL + "/hook", "events": []string{}, "projectIds": []string{}}, &w, http.StatusCreated)
		hooks = append(hooks, w.ID)
	}

	// 4 publishers, 50 calls each, one call every 5 ms overall for 1 s; every 10th call is a
	// batch of 3. The kill lands half-way, while publishes and deliveries are in flight.
	const publishers, calls = 4, 50
	var (
		ackMu   sync.Mutex
		acked   []string // ids of events answered 202, in order
		refused int      // calls that got no answer (the process was dead)
	)
	publishOne := func(c *apiClient, n, i int) {
		body := map[string]any{"event": "TODO_CREATED", "projectId": prj.ID, "currentValue": map[string]int{"n": n}}
		var ids []string
		var status int
		var err error
		if i%10 == 9 {
			var out struct {
				Events []struct {
					ID         string
					Deliveries int
				}
			}
			status, err = c.call("POST", "/events/batch", map[string]any{"events": []any{body, body, body}}, &out)
			for _, e := range out.Events {
				ids = append(ids, e.ID)
				if e.Deliveries != len(hooks) {
					t.Errorf("batch event %s: %d deliveries, want %d", e.ID, e.Deliveries, len(hooks))
				}
			}
		} else {
			var out struct {
				ID         string
				Deliveries int
			}
			status, err = c.call("POST", "/events", body, &out)
			ids = append(ids, out.ID)
			if status == http.StatusAccepted && out.Deliveries != len(hooks) {
				t.Errorf("event %s: %d deliveries, want %d", out.ID, out.Deliveries, len(hooks))
			}
		}
		ackMu.Lock()
		defer ackMu.Unlock()
		switch {
		case err != nil:
			refused++
		case status != http.StatusAccepted:
			t.Errorf("publish: status %d, want 202 (or no answer once killed)", status)
		default:
			acked = append(acked, ids...)
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	for g := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newAPIClient(first.base, token)
			c.http.Timeout = 5 * time.Second
			for i := range calls {
				n := i*publishers + g
				time.Sleep(time.Until(start.Add(time.Duration(n) * 5 * time.Millisecond)))
				publishOne(c, n, i)
			}
		}()
	}
	time.Sleep(time.Until(start.Add(500 * time.Millisecond)))
	first.kill(t)
	killedAfter := time.Since(start)
	ackMu.Lock()
	ackedAtKill := len(acked)
	backlog := len(recv.missing(acked, hooks))
	ackMu.Unlock()
	wg.Wait()
	if ackedAtKill < 20 {
		t.Fatalf("only %d events were acknowledged before the kill; the test needs a real load", ackedAtKill)
	}
	if backlog == 0 {
		t.Fatalf("all %d acknowledged events had arrived before the kill: the crash left nothing to recover, so this run proves nothing", ackedAtKill)
	}
	if len(acked) != ackedAtKill {
		t.Errorf("%d events were acknowledged after the process was killed", len(acked)-ackedAtKill)
	}
	t.Logf("killed after %s: %d events acknowledged, %d of their %d deliveries not yet arrived; %d calls got no answer",
		killedAfter.Round(time.Millisecond), ackedAtKill, backlog, ackedAtKill*len(hooks), refused)

	second := startProcess(t, db, flags...)
	restarted := time.Now()
	api = newAPIClient(second.base, token)
	// The restarted server takes new work beside what it recovers.
	for i := range 10 {
		publishOne(api, 10000+i, i)
	}

	deadline := time.Now().Add(20 * time.Second)
	for {
		missing := recv.missing(acked, hooks)
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged deliveries never arrived after the restart, e.g. %v\nfirst run:\n%s\nsecond run:\n%s",
				len(missing), len(acked)*len(hooks), missing[:min(5, len(missing))], first.out.String(), second.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("every one of %d acknowledged deliveries arrived, the last %s after the restart",
		len(acked)*len(hooks), time.Since(restarted).Round(time.Millisecond))

	// The restarted server also records them: nothing is left pending.
	for _, h := range hooks {
		for {
			var page struct{ Data []json.RawMessage }
			api.mustCall(t, "GET", "/webhooks/"+h+"/deliveries?status=pending", nil, &page, http.StatusOK)
			if len(page.Data) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("webhook %s still has %d pending deliveries after all arrived", h, len(page.Data))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	dups, mismatched := recv.duplicates()
	t.Logf("duplicates (in flight at the crash, allowed): %d", dups)
	for _, m := range mismatched {
		t.Errorf("a duplicate came with another webhook-id, so a receiver cannot deduplicate it: %s", m)
	}
}

// slowReceiver answers 200 after a random pause, recording every arrival by event and webhook.
type slowReceiver struct {
	minDelay, maxDelay time.Duration
	mu                 sync.Mutex
	arrivals           map[[2]string][]string // {event id, webhook id} → webhook-id header of each arrival
}

func newSlowReceiver(minDelay, maxDelay time.Duration) *slowReceiver {
	return &slowReceiver{minDelay: minDelay, maxDelay: maxDelay, arrivals: map[[2]string][]string{}}
}

func (s *slowReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var p struct {
		ID      string `json:"id"`
		Webhook struct {
			ID string `json:"id"`
		} `json:"webhook"`
	}
	if err != nil || json.Unmarshal(body, &p) != nil || p.ID == "" || p.Webhook.ID == "" {
		http.Error(w, "not a Hookyard payload", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	key := [2]string{p.ID, p.Webhook.ID}
	s.arrivals[key] = append(s.arrivals[key], r.Header.Get("webhook-id"))
	s.mu.Unlock()
	time.Sleep(s.minDelay + rand.N(s.maxDelay-s.minDelay))
	w.WriteHeader(http.StatusOK)
}

// missing lists "event→webhook" pairs that have not arrived yet.
func (s *slowReceiver) missing(events, hooks []string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, e := range events {
		for _, h := range hooks {
			if len(s.arrivals[[2]string{e, h}]) == 0 {
				out = append(out, e+"→"+h)
			}
		}
	}
	return out
}

// duplicates counts extra arrivals, and describes any whose webhook-id differs from the first.
func (s *slowReceiver) duplicates() (int, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	var mismatched []string
	for k, ids := range s.arrivals {
		n += len(ids) - 1
		for _, id := range ids[1:] {
			if id != ids[0] {
				mismatched = append(mismatched, fmt.Sprintf("%s→%s: %q then %q", k[0], k[1], ids[0], id))
			}
		}
	}
	return n, mismatched
}
