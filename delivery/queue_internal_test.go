package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hookyard/internal/testdb"
	"hookyard/store"
)

// White-box tests of the queue: what the dispatcher holds in memory, and what matching
// looks at.

// qworld is a store with an admin, an organisation and a project.
type qworld struct {
	t     *testing.T
	path  string
	ctx   context.Context
	st    *store.Store
	admin store.User
	org   store.Organization
	prj   store.Project
}

func newQWorld(t *testing.T) *qworld {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hookyard.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := &qworld{t: t, ctx: ctx, st: st, path: path}
	w.admin = store.User{Email: "admin@example.com", Name: "Admin", Role: store.RoleAdmin, PasswordHash: "x"}
	if err := st.CreateUser(ctx, &w.admin); err != nil {
		t.Fatal(err)
	}
	if w.org, err = st.CreateOrganization(ctx, "Acme"); err != nil {
		t.Fatal(err)
	}
	if w.prj, err = st.CreateProject(ctx, w.org.ID, "Website"); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *qworld) hook(url string, events, projects []string, owner string) store.Webhook {
	w.t.Helper()
	if owner == "" {
		owner = w.admin.ID
	}
	h := store.Webhook{OwnerID: owner, Name: "h", URL: url, Secret: NewSecret(), Events: events, ProjectIDs: projects}
	if err := w.st.CreateWebhook(w.ctx, &h); err != nil {
		w.t.Fatal(err)
	}
	return h
}

func (w *qworld) engine(cfg Config) *Engine {
	w.t.Helper()
	if cfg.RetrySchedule == nil {
		cfg.RetrySchedule = []time.Duration{time.Minute, time.Minute, time.Minute, time.Minute}
	}
	// Long enough that a receiver held up by a test never times out.
	client := NewClient(ClientOptions{AllowPrivate: true, Timeout: time.Minute, UserAgent: "Hookyard/test"})
	e := NewEngine(w.st, client, cfg)
	if err := e.Start(w.ctx); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		e.Stop(ctx)
	})
	return e
}

// dispatcherView is what the dispatcher holds at one moment.
type dispatcherView struct {
	held, inflight int
	maxLane        int // the most one lane holds (window + reserved + asked + in flight)
	payloads       int // jobs held with their payload in memory
}

func (d *dispatcher) view() dispatcherView {
	d.mu.Lock()
	defer d.mu.Unlock()
	v := dispatcherView{held: d.held, inflight: d.inflight}
	for _, l := range d.lanes {
		v.maxLane = max(v.maxLane, len(l.window)+l.reserved+l.asked+l.inflight)
		for _, j := range l.window {
			if j.ev != nil {
				v.payloads++
			}
		}
	}
	return v
}

// The window stays within its bounds, per webhook and overall, while 100,000 deliveries wait
// for slow receivers; payloads of queued work are not held; every webhook gets its turn.
func TestDispatcherWindowStaysBoundedWith100kPending(t *testing.T) {
	w := newQWorld(t)
	release := make(chan struct{})
	var mu sync.Mutex
	got := map[string]int{}
	var active, peak atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		n := active.Add(1)
		defer active.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-release
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		got[r.URL.Path]++
		mu.Unlock()
	}))
	defer recv.Close()
	defer close(release)
	const hooks, perHook = 10, 10_000
	for i := range hooks {
		w.hook(fmt.Sprintf("%s/%d", recv.URL, i), []string{fmt.Sprintf("TYPE_%02d", i)}, nil, "")
	}
	cfg := Config{Workers: 16, PerWebhook: 2, MaxHeld: 64}
	e := w.engine(cfg)
	var bad atomic.Value
	check := func() {
		v := e.disp.view()
		switch {
		case v.held > cfg.MaxHeld:
			bad.Store(fmt.Sprintf("held %d deliveries, bound %d", v.held, cfg.MaxHeld))
		case v.maxLane > e.disp.cfg.laneWindow:
			bad.Store(fmt.Sprintf("one webhook held %d, bound %d", v.maxLane, e.disp.cfg.laneWindow))
		case v.inflight > cfg.Workers:
			bad.Store(fmt.Sprintf("%d requests in flight, bound %d", v.inflight, cfg.Workers))
		}
	}
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(time.Millisecond):
				check()
			}
		}
	}()
	batch := make([]EventInput, 0, 500)
	for i := range hooks * perHook {
		batch = append(batch, EventInput{Type: fmt.Sprintf("TYPE_%02d", i%hooks), OrganizationID: w.org.ID,
			ProjectID: w.prj.ID, CurrentValue: json.RawMessage(`{"n":1}`)})
		if len(batch) == cap(batch) {
			if _, _, err := e.Publish(w.ctx, w.admin.ID, batch, nil); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	pending, _, err := w.st.PendingStats(w.ctx, "")
	if err != nil || pending != hooks*perHook {
		t.Fatalf("pending after publishing: %d, %v; want %d", pending, err, hooks*perHook)
	}
	v := e.disp.view()
	if v.held == 0 || v.held > cfg.MaxHeld {
		t.Fatalf("with receivers stuck the dispatcher holds %d deliveries; want some, at most %d", v.held, cfg.MaxHeld)
	}
	if v.payloads > v.held {
		t.Fatalf("%d payloads held for %d deliveries", v.payloads, v.held)
	}
	// Let the receivers answer for a moment: every webhook makes progress, bounds hold.
	for range hooks * 2 * 4 {
		release <- struct{}{}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == hooks {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s only %d of %d webhooks got a request: not every webhook gets its turn", n, hooks)
		}
		select {
		case release <- struct{}{}:
		case <-time.After(time.Millisecond):
		}
	}
	close(stopSampling)
	<-sampled
	if msg := bad.Load(); msg != nil {
		t.Fatal(msg)
	}
	if p := peak.Load(); p > int64(hooks*cfg.PerWebhook) {
		t.Fatalf("receivers saw %d requests at once; per-webhook limit %d × %d webhooks", p, cfg.PerWebhook, hooks)
	}
}

// Matching looks only at webhooks that could receive the event, whatever else is stored.
func TestMatchingConsultsOnlyCandidates(t *testing.T) {
	w := newQWorld(t)
	ctx := w.ctx
	other, err := w.st.CreateOrganization(ctx, "Globex")
	if err != nil {
		t.Fatal(err)
	}
	member := store.User{Email: "m@example.com", Name: "M", Role: store.RoleMember, PasswordHash: "x"}
	if err := w.st.CreateUser(ctx, &member); err != nil {
		t.Fatal(err)
	}
	if err := w.st.AddMember(ctx, other.ID, member.ID); err != nil {
		t.Fatal(err)
	}
	// 2,000 webhooks on other projects, 50 member webhooks on all of Globex's projects,
	// 50 webhooks of other types: none can receive a TODO_CREATED in Website.
	for i := range 2000 {
		p, err := w.st.CreateProject(ctx, other.ID, fmt.Sprintf("p%d", i))
		if err != nil {
			t.Fatal(err)
		}
		w.hook("http://127.0.0.1:1/x", nil, []string{p.ID}, "")
	}
	for range 50 {
		w.hook("http://127.0.0.1:1/x", nil, nil, member.ID)
		w.hook("http://127.0.0.1:1/x", []string{"TAG_CREATED"}, nil, "")
	}
	// Ten that can: explicit type and project, all types, all projects (admin).
	want := map[string]bool{}
	for range 4 {
		want[w.hook("http://127.0.0.1:1/x", []string{"TODO_CREATED"}, []string{w.prj.ID}, "").ID] = true
		want[w.hook("http://127.0.0.1:1/x", nil, []string{w.prj.ID}, "").ID] = true
	}
	for range 2 {
		want[w.hook("http://127.0.0.1:1/x", []string{"TODO_CREATED"}, nil, "").ID] = true
	}
	x := newMatchIndex(w.st)
	if err := x.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	ref := EventRef{Type: "TODO_CREATED", ProjectID: w.prj.ID, OrganizationID: w.org.ID}
	seen := map[string]bool{}
	x.candidates(ref, func(h *hookState) { seen[h.webhook.ID] = true })
	if len(seen) != len(want) {
		t.Fatalf("matching looked at %d webhooks of %d stored; want only the %d that can receive it", len(seen), x.size(), len(want))
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("candidate %s was not looked at", id)
		}
	}

	// Changes apply one webhook or owner at a time, and matching follows them.
	if err := w.st.AddMember(ctx, w.org.ID, member.ID); err != nil {
		t.Fatal(err)
	}
	if err := x.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	seen = map[string]bool{}
	x.candidates(ref, func(h *hookState) { seen[h.webhook.ID] = true })
	if len(seen) != len(want)+50 {
		t.Fatalf("after the member joined Acme, %d candidates; want %d (their 50 all-project webhooks too)", len(seen), len(want)+50)
	}
	if err := w.st.RemoveMember(ctx, w.org.ID, member.ID); err != nil {
		t.Fatal(err)
	}
	edited := w.hook("http://127.0.0.1:1/x", []string{"TAG_CREATED"}, []string{w.prj.ID}, "")
	events := []string{"TODO_CREATED"}
	if _, err := w.st.UpdateWebhook(ctx, edited.ID, store.WebhookChanges{Events: &events}); err != nil {
		t.Fatal(err)
	}
	if err := x.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	seen = map[string]bool{}
	x.candidates(ref, func(h *hookState) { seen[h.webhook.ID] = true })
	if len(seen) != len(want)+1 || !seen[edited.ID] {
		t.Fatalf("after the member left and one webhook changed its events: %d candidates (edited one seen: %v); want %d",
			len(seen), seen[edited.ID], len(want)+1)
	}
}

// Concurrent publishes share transactions, and each is stored when its call returns.
func TestConcurrentPublishesShareCommits(t *testing.T) {
	w := newQWorld(t)
	recv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer recv.Close()
	w.hook(recv.URL, nil, nil, "")
	e := w.engine(Config{})
	const publishers, each = 32, 20
	var wg sync.WaitGroup
	ids := make(chan string, publishers*each)
	for range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				out, _, err := e.Publish(w.ctx, w.admin.ID, []EventInput{{Type: "TODO_CREATED", OrganizationID: w.org.ID,
					ProjectID: w.prj.ID}}, nil)
				if err != nil {
					t.Error(err)
					return
				}
				// Answered only after its commit: the event is readable now.
				if _, err := w.st.Event(w.ctx, out[0].ID); err != nil {
					t.Errorf("event %s not stored when Publish returned: %v", out[0].ID, err)
				}
				ids <- out[0].ID
			}
		}()
	}
	wg.Wait()
	if n := e.commits.groups.Load(); n >= publishers*each {
		t.Fatalf("%d publishes took %d transactions; concurrent publishes should share them", publishers*each, n)
	}
	t.Logf("%d publishes in %d transactions", publishers*each, e.commits.groups.Load())
}

// Deliveries the claimer pages in are held under this node's lease, like fresh ones: a late
// outcome written under another lease is fenced off.
func TestClaimedDeliveriesCarryTheLease(t *testing.T) {
	w := newQWorld(t)
	release := make(chan struct{})
	recv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer recv.Close()
	defer close(release)
	h := w.hook(recv.URL, nil, nil, "")
	e := w.engine(Config{Workers: 2, PerWebhook: 1, MaxHeld: 2})
	// More than the window holds: the rest is stored queued and claimed as room frees.
	in := make([]EventInput, 10)
	for i := range in {
		in[i] = EventInput{Type: "TODO_CREATED", OrganizationID: w.org.ID, ProjectID: w.prj.ID}
	}
	if _, _, err := e.Publish(w.ctx, w.admin.ID, in, nil); err != nil {
		t.Fatal(err)
	}
	owner, _ := e.member.lease(h.ID)
	release <- struct{}{} // the first request answers; a claim pages the next in
	db, q := testdb.Raw(t, w.path)
	defer db.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var unowned, claimed, queued int
		if err := db.QueryRowContext(w.ctx, q(`SELECT
			COALESCE(SUM(CASE WHEN lease_until IS NOT NULL AND lease_owner IS NULL THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN lease_until IS NOT NULL AND lease_owner = ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN lease_until IS NULL THEN 1 ELSE 0 END), 0)
			FROM deliveries WHERE webhook_id = ? AND status = 'pending'`), owner, h.ID).Scan(&unowned, &claimed, &queued); err != nil {
			t.Fatal(err)
		}
		if unowned > 0 {
			t.Fatalf("%d deliveries are held with no lease owner", unowned)
		}
		if claimed > 0 && queued < 8 {
			return // some were claimed from the queue, under this node's lease
		}
		if time.Now().After(deadline) {
			t.Fatalf("no claimed delivery held under %q (%d queued)", owner, queued)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
