package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hookyard/delivery"
	"hookyard/internal/testdb"
	"hookyard/store"
)

// Shared fixtures of the engine tests: a real SQLite store in t.TempDir(), real loopback
// receivers, a real engine with a loopback-allowed client, and a polling wait.

const (
	engineUA     = "Hookyard/engine-test"
	pollInterval = 5 * time.Millisecond
	pollTimeout  = 3 * time.Second
)

// fastRetries makes all five attempts within a few tens of milliseconds.
var fastRetries = []time.Duration{10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond}

// slowRetries keeps a delivery pending after its first failure for the rest of a test.
var slowRetries = []time.Duration{time.Minute, time.Minute, time.Minute, time.Minute}

// waitUntil polls cond until it holds, failing the test after pollTimeout.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(pollTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", pollTimeout, what)
		}
		time.Sleep(pollInterval)
	}
}

// world is one Hookyard database with an admin, an organisation and a project.
type world struct {
	t      testing.TB
	ctx    context.Context
	st     *store.Store
	dbPath string
	admin  store.User
	org    store.Organization
	prj    store.Project
}

func newWorld(t testing.TB) *world {
	t.Helper()
	ctx := context.Background()
	path := testdb.DSN(t)
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	w := &world{t: t, ctx: ctx, st: st, dbPath: path}
	w.admin = w.user("admin@example.com", store.RoleAdmin)
	w.org = w.organization("Acme")
	w.prj = w.project(w.org.ID, "Website")
	return w
}

func (w *world) user(email string, role store.Role, orgIDs ...string) store.User {
	w.t.Helper()
	u := store.User{Email: email, Name: strings.Split(email, "@")[0], Role: role, PasswordHash: "x"}
	if err := w.st.CreateUser(w.ctx, &u); err != nil {
		w.t.Fatalf("CreateUser %s: %v", email, err)
	}
	for _, o := range orgIDs {
		if err := w.st.AddMember(w.ctx, o, u.ID); err != nil {
			w.t.Fatalf("AddMember: %v", err)
		}
	}
	return u
}

func (w *world) organization(name string) store.Organization {
	w.t.Helper()
	o, err := w.st.CreateOrganization(w.ctx, name)
	if err != nil {
		w.t.Fatalf("CreateOrganization: %v", err)
	}
	return o
}

func (w *world) project(orgID, name string) store.Project {
	w.t.Helper()
	p, err := w.st.CreateProject(w.ctx, orgID, name)
	if err != nil {
		w.t.Fatalf("CreateProject: %v", err)
	}
	return p
}

// hook creates an enabled webhook owned by the admin, receiving everything unless edit
// narrows it.
func (w *world) hook(name, url string, edit func(*store.Webhook)) store.Webhook {
	w.t.Helper()
	h := store.Webhook{OwnerID: w.admin.ID, Name: name, URL: url, Secret: delivery.NewSecret()}
	if edit != nil {
		edit(&h)
	}
	if err := w.st.CreateWebhook(w.ctx, &h); err != nil {
		w.t.Fatalf("CreateWebhook %s: %v", name, err)
	}
	return h
}

// engineOpts are the knobs a test turns; zero values take the engine's defaults, except the
// client timeout (2 s) and the retry schedule (fastRetries).
type engineOpts struct {
	cfg           delivery.Config
	clientTimeout time.Duration
	logs          *logSink
}

// runningEngine is a started engine that is stopped once, by the test or at cleanup.
type runningEngine struct {
	*delivery.Engine
	once sync.Once
}

func (r *runningEngine) stop(within time.Duration) {
	r.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), within)
		defer cancel()
		r.Stop(ctx)
	})
}

func (w *world) newEngine(o engineOpts) *delivery.Engine {
	if o.clientTimeout == 0 {
		o.clientTimeout = 2 * time.Second
	}
	if o.cfg.RetrySchedule == nil {
		o.cfg.RetrySchedule = fastRetries
	}
	if o.logs == nil {
		o.logs = &logSink{}
	}
	o.cfg.Logger = slog.New(o.logs)
	client := delivery.NewClient(delivery.ClientOptions{AllowPrivate: true, Timeout: o.clientTimeout, UserAgent: engineUA})
	return delivery.NewEngine(w.st, client, o.cfg)
}

func (w *world) start(o engineOpts) *runningEngine {
	w.t.Helper()
	e := &runningEngine{Engine: w.newEngine(o)}
	if err := e.Start(w.ctx); err != nil {
		w.t.Fatalf("engine.Start: %v", err)
	}
	w.t.Cleanup(func() { e.stop(time.Second) })
	return e
}

// ev is an event of type typ in the world's project.
func (w *world) ev(typ string) delivery.EventInput {
	return delivery.EventInput{Type: typ, OrganizationID: w.org.ID, ProjectID: w.prj.ID,
		CurrentValue: json.RawMessage(`{"name":"Write tests"}`)}
}

func (w *world) publish(e *runningEngine, in ...delivery.EventInput) []delivery.Published {
	w.t.Helper()
	out, replay, err := e.Publish(w.ctx, w.admin.ID, in, nil)
	if err != nil || replay != nil || len(out) != len(in) {
		w.t.Fatalf("Publish: out %+v, replay %q, err %v", out, replay, err)
	}
	return out
}

func (w *world) deliveriesOf(eventID string) []store.Delivery {
	w.t.Helper()
	ds, _, err := w.st.ListDeliveries(w.ctx, store.DeliveryFilter{EventID: eventID}, store.Page{Limit: 500})
	if err != nil {
		w.t.Fatalf("ListDeliveries: %v", err)
	}
	return ds
}

// deliveryOf returns the one delivery of an event to a webhook.
func (w *world) deliveryOf(eventID, webhookID string) store.Delivery {
	w.t.Helper()
	var found []store.Delivery
	for _, d := range w.deliveriesOf(eventID) {
		if d.WebhookID == webhookID {
			found = append(found, d)
		}
	}
	if len(found) != 1 {
		w.t.Fatalf("event %s has %d deliveries to %s, want 1", eventID, len(found), webhookID)
	}
	return found[0]
}

func (w *world) delivery(id string) store.Delivery {
	w.t.Helper()
	d, err := w.st.Delivery(w.ctx, id)
	if err != nil {
		w.t.Fatalf("Delivery %s: %v", id, err)
	}
	return d
}

func (w *world) attempts(deliveryID string) []store.Attempt {
	w.t.Helper()
	as, err := w.st.Attempts(w.ctx, deliveryID)
	if err != nil {
		w.t.Fatalf("Attempts %s: %v", deliveryID, err)
	}
	return as
}

func (w *world) webhook(id string) store.Webhook {
	w.t.Helper()
	h, err := w.st.Webhook(w.ctx, id)
	if err != nil {
		w.t.Fatalf("Webhook %s: %v", id, err)
	}
	return h
}

// waitStatus waits until a delivery has the status and number of attempts, and returns it.
func (w *world) waitStatus(id string, status store.DeliveryStatus, attempts int) store.Delivery {
	w.t.Helper()
	var d store.Delivery
	waitUntil(w.t, fmt.Sprintf("delivery %s to be %s after %d attempts", id, status, attempts), func() bool {
		var err error
		d, err = w.st.Delivery(w.ctx, id)
		return err == nil && d.Status == status && d.Attempts == attempts
	})
	return d
}

// countEvents counts every stored event.
func (w *world) countEvents() int {
	w.t.Helper()
	n, p := 0, store.Page{Limit: 500}
	for {
		evs, next, err := w.st.ListEvents(w.ctx, store.EventFilter{}, p)
		if err != nil {
			w.t.Fatalf("ListEvents: %v", err)
		}
		n += len(evs)
		if next == "" {
			return n
		}
		p.Cursor = next
	}
}

// sqlCount runs a COUNT query on the database file directly, for what the store has no
// method to read (notifications, rows left after pruning).
func (w *world) sqlCount(query string, args ...any) int {
	w.t.Helper()
	db, q := testdb.Raw(w.t, w.dbPath)
	defer db.Close()
	var n int
	if err := db.QueryRowContext(w.ctx, q(query), args...).Scan(&n); err != nil {
		w.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (w *world) sqlString(query string, args ...any) string {
	w.t.Helper()
	db, q := testdb.Raw(w.t, w.dbPath)
	defer db.Close()
	var s string
	if err := db.QueryRowContext(w.ctx, q(query), args...).Scan(&s); err != nil {
		w.t.Fatalf("%s: %v", query, err)
	}
	return s
}

// hit is one request as a hookServer saw it.
type hit struct {
	path   string
	header http.Header
	body   []byte
	at     time.Time
	// inFlight is how many requests the receiver was handling when this one arrived,
	// itself included.
	inFlight int
}

func (h hit) attempt() int {
	n, _ := strconv.Atoi(h.header.Get("X-Hookyard-Attempt"))
	return n
}

func (h hit) eventID() string {
	var p struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(h.body, &p)
	return p.ID
}

// hookServer is a real loopback HTTP receiver that records requests and how many it was
// handling at once. Its answer comes from answer (200 when nil), which gets the 1-based
// number of the request.
type hookServer struct {
	*httptest.Server
	answer func(w http.ResponseWriter, r *http.Request, n int)

	mu        sync.Mutex
	hits      []hit
	active    int
	maxActive int

	release     chan struct{}
	releaseOnce sync.Once
}

func newHookServer(t testing.TB, answer func(w http.ResponseWriter, r *http.Request, n int)) *hookServer {
	t.Helper()
	s := &hookServer{answer: answer, release: make(chan struct{})}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Start()
	t.Cleanup(func() { s.unblock(); s.Close() })
	return s
}

// newHookServerAt is newHookServer listening on a given loopback address.
func newHookServerAt(t testing.TB, addr string, answer func(w http.ResponseWriter, r *http.Request, n int)) *hookServer {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	s := &hookServer{answer: answer, release: make(chan struct{})}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Listener.Close()
	s.Listener = l
	s.Start()
	t.Cleanup(func() { s.unblock(); s.Close() })
	return s
}

func (s *hookServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.active++
	s.maxActive = max(s.maxActive, s.active)
	s.hits = append(s.hits, hit{path: r.URL.Path, header: r.Header.Clone(), body: body, at: time.Now(), inFlight: s.active})
	n := len(s.hits)
	s.mu.Unlock()
	// Counted down before the answer is written, so a client that has read the answer
	// never sees this request as still active.
	defer func() {
		s.mu.Lock()
		s.active--
		s.mu.Unlock()
	}()
	if s.answer != nil {
		s.answer(w, r, n)
	}
}

func (s *hookServer) requests() []hit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hit(nil), s.hits...)
}

func (s *hookServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.hits)
}

func (s *hookServer) concurrency() (active, maxActive int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active, s.maxActive
}

// hang blocks a handler until the test releases it or the client gives up.
func (s *hookServer) hang(r *http.Request) {
	select {
	case <-s.release:
	case <-r.Context().Done():
	}
}

func (s *hookServer) unblock() { s.releaseOnce.Do(func() { close(s.release) }) }

// status answers every request with a fixed status.
func status(code int) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(code) }
}

// logSink keeps what the engine logs, so a test can show it or insist on no errors.
type logSink struct {
	mu      sync.Mutex
	records []string
}

func (l *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (l *logSink) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logSink) WithGroup(string) slog.Handler            { return l }
func (l *logSink) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	l.mu.Lock()
	l.records = append(l.records, b.String())
	l.mu.Unlock()
	return nil
}

func (l *logSink) errors() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.records {
		if strings.HasPrefix(r, "ERROR") {
			out = append(out, r)
		}
	}
	return out
}

// closedPortURL returns a loopback URL where nothing listens, and the address it used.
func closedPortURL(t testing.TB) (string, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/hook", addr
}

// holdWriteLock blocks the writes of sending from another connection, as a long write (a
// retention batch, a large publish) would, until release is called: SQLite's write lock, or
// on PostgreSQL a lock on the tables attempts are written to.
func (w *world) holdWriteLock() (release func()) {
	w.t.Helper()
	db, q := testdb.Raw(w.t, w.dbPath)
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(w.ctx, nil)
	if err != nil {
		db.Close()
		w.t.Fatalf("take the write lock: %v", err)
	}
	if testdb.Engine() == "postgres" {
		_, err = tx.ExecContext(w.ctx, q(`LOCK TABLE deliveries, attempts, webhooks IN SHARE ROW EXCLUSIVE MODE`))
	} else {
		_, err = tx.ExecContext(w.ctx, `UPDATE settings SET key = key WHERE 0`) // takes the lock (immediate already)
	}
	if err != nil {
		db.Close()
		w.t.Fatalf("take the write lock: %v", err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = tx.Rollback()
			db.Close()
		})
	}
}

// sqlExec changes the database directly, for what only time would do (ageing a row).
func (w *world) sqlExec(query string, args ...any) {
	w.t.Helper()
	db, q := testdb.Raw(w.t, w.dbPath)
	defer db.Close()
	if _, err := db.ExecContext(w.ctx, q(query), args...); err != nil {
		w.t.Fatalf("%s: %v", query, err)
	}
}
