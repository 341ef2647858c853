package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"hookyard/internal/testdb"
)

// TestCopyToPostgresKeepsDelivering outgrows one machine as the README says: a demo
// installation on SQLite delivers an event, is stopped, copied to PostgreSQL with `hookyard
// copy`, and started there; the copied token still works, the demo organisations are there,
// and a new event reaches the same receiver signed with the secret the webhook had before
// the copy.
func TestCopyToPostgresKeepsDelivering(t *testing.T) {
	pg := testdb.Postgres(t)
	db := filepath.Join(t.TempDir(), "h.db")
	token := addAdminWithToken(t, db)
	recv := &signedReceiver{arrived: map[string]signedArrival{}}
	rs := httptest.NewServer(recv)
	defer rs.Close()

	sqlite := startProcess(t, db, "--demo", "--allow-private-targets")
	api := newAPIClient(sqlite.base, token)
	var org, prj, hook struct{ ID, Secret string }
	api.mustCall(t, "POST", "/organizations", map[string]any{"name": "Movers"}, &org, http.StatusCreated)
	api.mustCall(t, "POST", "/projects", map[string]any{"organizationId": org.ID, "name": "Ledger"}, &prj, http.StatusCreated)
	api.mustCall(t, "POST", "/webhooks", map[string]any{"name": "Receiver", "url": rs.URL + "/hook",
		"events": []string{"TODO_CREATED"}, "projectIds": []string{prj.ID}}, &hook, http.StatusCreated)
	if hook.Secret == "" {
		t.Fatal("creating the webhook showed no secret")
	}
	publish := func(api *apiClient, n int) string {
		t.Helper()
		var ev struct{ ID string }
		api.mustCall(t, "POST", "/events", map[string]any{"event": "TODO_CREATED", "projectId": prj.ID,
			"currentValue": map[string]int{"n": n}}, &ev, http.StatusAccepted)
		return ev.ID
	}
	before := publish(api, 1)
	recv.wait(t, before, hook.Secret)
	sqlite.stop(t)

	out, err := runHookyard("copy", "--from", db, "--to", pg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`(?m)^webhooks +1/1$`, `(?m)^api_tokens +1/1$`, `(?m)^organizations +4/4$`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("hookyard copy printed:\n%s\nwant a line matching %s", out, want)
		}
	}

	postgres := startProcess(t, pg, "--allow-private-targets")
	api = newAPIClient(postgres.base, token)
	var orgs struct{ Data []struct{ Name string } }
	api.mustCall(t, "GET", "/organizations", nil, &orgs, http.StatusOK)
	var names []string
	for _, o := range orgs.Data {
		names = append(names, o.Name)
	}
	slices.Sort(names)
	if want := []string{"Acme", "Globex", "Initech", "Movers"}; !slices.Equal(names, want) {
		t.Errorf("organisations on PostgreSQL: %v, want %v", names, want)
	}
	after := publish(api, 2)
	recv.wait(t, after, hook.Secret)
	var deliveries struct {
		Data []struct{ EventID, Status string }
	}
	api.mustCall(t, "GET", "/webhooks/"+hook.ID+"/deliveries", nil, &deliveries, http.StatusOK)
	if len(deliveries.Data) != 2 {
		t.Errorf("the webhook's deliveries on PostgreSQL: %+v; want the copied one and the new one", deliveries.Data)
	}
}

// signedReceiver keeps each Hookyard payload that arrives, by event id, with its X-Signature.
type signedReceiver struct {
	mu      sync.Mutex
	arrived map[string]signedArrival
}

type signedArrival struct {
	body      []byte
	signature string
}

func (s *signedReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var p struct{ ID string }
	if err != nil || json.Unmarshal(body, &p) != nil || p.ID == "" {
		http.Error(w, "not a Hookyard payload", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.arrived[p.ID] = signedArrival{body: body, signature: r.Header.Get("X-Signature")}
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// wait fails the test unless the event arrives within 20 s with an X-Signature made, here,
// from secret.
func (s *signedReceiver) wait(t *testing.T, eventID, secret string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		s.mu.Lock()
		a, ok := s.arrived[eventID]
		s.mu.Unlock()
		if ok {
			m := hmac.New(sha256.New, []byte(secret))
			m.Write(a.body)
			if want := hex.EncodeToString(m.Sum(nil)); a.signature != want {
				t.Errorf("event %s arrived with X-Signature %q; the webhook's secret makes %q", eventID, a.signature, want)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s did not arrive within 20s", eventID)
		}
	}
}
