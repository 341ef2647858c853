package store

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"hookyard/internal/testdb"
)

// installation is what fillInstallation made: one of everything Copy moves, and a sign-in
// session it must leave behind.
type installation struct {
	mia         User
	token       string // an API token of Mia's
	crm         Webhook
	queued      string // a pending delivery waiting in the queue
	leased      string // a pending delivery held by the source's sender
	maxAttempt  int64
	maxBinReqID int64
	bin         Bin
}

// fillInstallation writes, through the store's own methods, users and tokens, organisations,
// projects and memberships, a custom event type, webhooks (one with a rotated secret and
// selections, one switched off by a person, one switched off by failures), events with
// deliveries in every state, attempts over several hours, missed events, idempotency keys,
// a notification, bins with requests, a setting, a session and the session key. Every
// table gets at least three rows, so that a copy in batches of two pages through each.
func fillInstallation(t *testing.T, s *Store) installation {
	t.Helper()
	ctx := t.Context()
	clock := useClock(s, time.Millisecond)
	var in installation
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	admin := createUser(t, s, "ada@example.com", "Ada", RoleAdmin)
	in.mia = createUser(t, s, "mia@example.com", "Mia", RoleMember)
	createUser(t, s, "olu@example.com", "Olu", RoleMember)
	_, in.token, _ = s.CreateToken(ctx, in.mia.ID, "deploy")
	for _, u := range []User{admin, in.mia} {
		_, _, err := s.CreateToken(ctx, u.ID, "ci")
		check("CreateToken", err)
	}
	acme, globex := createOrg(t, s, "Acme"), createOrg(t, s, "Globex")
	createOrg(t, s, "Initech")
	web, app := createProject(t, s, acme.ID, "Website"), createProject(t, s, acme.ID, "App")
	createProject(t, s, globex.ID, "Support")
	for _, m := range [][2]string{{acme.ID, in.mia.ID}, {globex.ID, in.mia.ID}, {acme.ID, admin.ID}} {
		check("AddMember", s.AddMember(ctx, m[0], m[1]))
	}
	for _, name := range []string{"INVOICE_PAID", "INVOICE_SENT", "INVOICE_VOIDED"} {
		_, err := s.CreateEventType(ctx, EventType{Name: name, Label: "Invoice " + name[8:], Description: "An invoice changed."})
		check("CreateEventType", err)
	}
	hook := func(name string, events, projects []string) Webhook {
		t.Helper()
		w := Webhook{OwnerID: in.mia.ID, Name: name, URL: "http://127.0.0.1:9/" + name, Events: events, ProjectIDs: projects,
			Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
		check("CreateWebhook", s.CreateWebhook(ctx, &w))
		return w
	}
	in.crm = hook("crm", []string{"TODO_CREATED", "INVOICE_PAID"}, []string{web.ID, app.ID})
	flaky := hook("flaky", []string{"TODO_CREATED"}, []string{web.ID})
	off := hook("off", nil, nil)
	var err error
	in.crm, err = s.RotateSecret(ctx, in.crm.ID, "whsec_"+strings.Repeat("A", 43)+"=", time.Hour)
	check("RotateSecret", err)
	_, err = s.DisableWebhook(ctx, off.ID, StatusHealthy, "Paused by Mia.")
	check("DisableWebhook", err)

	// Events for crm and flaky; the switched-off webhook misses each of them.
	publish := func(key string, lease *time.Time) []string {
		t.Helper()
		now := clock.Peek().Truncate(time.Millisecond)
		ev := Event{ID: s.NextID("evt"), Type: "TODO_CREATED", OrganizationID: acme.ID, ProjectID: web.ID,
			PreviousValue: []byte(`{"n":1}`), CurrentValue: []byte(`{"n":2,"name":"Zoë"}`), PublisherID: in.mia.ID, CreatedAt: now}
		pub := Publication{Events: []Event{ev}, Missed: []MissedEvent{{WebhookID: off.ID, EventID: ev.ID}}}
		var ids []string
		for _, h := range []Webhook{in.crm, flaky} {
			d := Delivery{ID: s.NextID("dlv"), EventID: ev.ID, WebhookID: h.ID, EventType: ev.Type, CreatedAt: now,
				NextAttemptAt: &now, LeaseUntil: lease}
			pub.Deliveries = append(pub.Deliveries, d)
			ids = append(ids, d.ID)
		}
		if key != "" {
			pub.IdempotencyUserID, pub.IdempotencyKey, pub.RequestHash, pub.Response = in.mia.ID, key, "hash-"+key, []byte(`{"id":"`+ev.ID+`"}`)
		}
		check("Publish", s.Publish(ctx, pub))
		return ids
	}
	attempt := func(deliveryID, hookID string, number, status int, at time.Time, body string) Attempt {
		return Attempt{DeliveryID: deliveryID, WebhookID: hookID, Number: number, StartedAt: at, Duration: 7 * time.Millisecond,
			RequestHeaders: http.Header{"Content-Type": {"application/json"}}, StatusCode: status, OK: status < 300,
			ResponseHeaders: http.Header{"X-Answer": {strconv.Itoa(status)}}, ResponseBody: body}
	}
	succeeded, failed, retrying, cancelled := publish("k1", nil), publish("k2", nil), publish("k3", nil), publish("", nil)
	in.queued = publish("", nil)[0]
	lease := clock.Peek().Add(time.Minute)
	in.leased = publish("", &lease)[0]
	hours := []time.Time{clockStart.Add(-3 * time.Hour), clockStart.Add(-2 * time.Hour), clockStart.Add(-time.Hour)}
	retryAt := clockStart.Add(time.Hour)
	_, err = s.RecordAttempts(ctx, []AttemptOutcome{
		// A body that is not text, to see bytes arrive as bytes.
		{Attempt: attempt(succeeded[0], in.crm.ID, 1, 200, hours[0], "ok \xff\x00 binary"), Status: DeliverySucceeded},
		{Attempt: attempt(failed[0], in.crm.ID, 5, 500, hours[1], "boom"), Status: DeliveryFailed},
		{Attempt: attempt(retrying[0], in.crm.ID, 1, 503, hours[2], ""), Status: DeliveryPending, NextAttemptAt: &retryAt},
		// flaky fails its last attempt and is switched off, which leaves Mia a notice and
		// cancels its other pending deliveries.
		{Attempt: attempt(succeeded[1], flaky.ID, 5, 500, hours[0], "no"), Status: DeliveryFailed, DisableReason: "5 attempts failed."},
	})
	check("RecordAttempts", err)
	check("CancelDelivery", s.CancelDelivery(ctx, cancelled[0], "Cancelled by Mia."))
	notes, err := s.UnreadNotifications(ctx, in.mia.ID)
	check("UnreadNotifications", err)
	if len(notes) != 1 {
		t.Fatalf("%d notifications, want the one of flaky's switch-off", len(notes))
	}
	check("MarkNotificationRead", s.MarkNotificationRead(ctx, in.mia.ID, notes[0].ID))
	for range 2 {
		_, err := s.DisableWebhook(ctx, hook("doomed", nil, nil).ID, StatusUnhealthy, "The receiver answered 410 Gone.")
		check("DisableWebhook", err)
	}
	// Webhooks switched back on after their health check passed.
	for i := range 3 {
		_, err := s.EnableAfterHealthCheck(ctx, hook("recovered", nil, nil).ID,
			HealthCheck{PassedAt: clock.Peek(), StatusCode: 200 + i, Duration: time.Duration(i+1) * time.Millisecond})
		check("EnableAfterHealthCheck", err)
	}

	in.bin, err = s.CreateBin(ctx, in.mia.ID, 0)
	check("CreateBin", err)
	for _, body := range [][]byte{[]byte(`{"hello":"world"}`), {}, {0xff, 0xfe, 0}} {
		check("AddBinRequest", s.AddBinRequest(ctx, in.bin.ID, "POST", http.Header{"Content-Type": {"application/json"}}, false, body))
	}
	for range 2 {
		_, err := s.CreateBin(ctx, admin.ID, 0)
		check("CreateBin", err)
	}
	_, err = s.CreateSession(ctx, in.mia.ID, time.Hour)
	check("CreateSession", err)
	_, _, err = s.SessionKeys(ctx)
	check("SessionKeys", err)
	_, err = s.write.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('theme', ?)`, []byte("dark"))
	check("insert a setting", err)

	check("max attempt id", s.read.QueryRowContext(ctx, `SELECT MAX(id) FROM attempts`).Scan(&in.maxAttempt))
	check("max bin request id", s.read.QueryRowContext(ctx, `SELECT MAX(id) FROM bin_requests`).Scan(&in.maxBinReqID))
	return in
}

// dumpTable returns every row Copy moves from a table, each as "column=value" pairs in column
// order, sorted; a column Copy clears reads as NULL.
func dumpTable(t *testing.T, s *Store, ct copyTable) []string {
	t.Helper()
	q := `SELECT * FROM ` + ct.name
	if ct.only != "" {
		q += ` WHERE ` + ct.only
	}
	rows, err := s.read.QueryContext(t.Context(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(cols))
		for i, c := range cols {
			var v string
			switch x := vals[i].(type) {
			case nil:
				v = "NULL"
			case []byte:
				v = strconv.Quote(string(x))
			case string:
				v = strconv.Quote(x)
			default:
				v = fmt.Sprint(x)
			}
			if slices.Contains(ct.cleared, c) {
				v = "NULL"
			}
			parts[i] = c + "=" + v
		}
		slices.Sort(parts) // the engines may order columns differently
		out = append(out, strings.Join(parts, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// progressLog records Copy's progress calls per table, and the order tables were started in.
type progressLog struct {
	order []string
	calls map[string][][2]int
}

func (p *progressLog) record(table string, done, total int) {
	if p.calls == nil {
		p.calls = map[string][][2]int{}
	}
	if _, ok := p.calls[table]; !ok {
		p.order = append(p.order, table)
	}
	p.calls[table] = append(p.calls[table], [2]int{done, total})
}

// check fails the test unless every table was reported in copyTables order, starting at 0,
// rising batch by batch (at most perBatch rows each), and ending at the table's row count.
func (p *progressLog) check(t *testing.T, src *Store, perBatch int) {
	t.Helper()
	var want []string
	for _, ct := range copyTables {
		want = append(want, ct.name)
		calls := p.calls[ct.name]
		total := countRows(t, src, ct.name, ct.only)
		if len(calls) == 0 || calls[0] != [2]int{0, total} {
			t.Errorf("%s: progress %v, want it to start at 0/%d", ct.name, calls, total)
			continue
		}
		for i := 1; i < len(calls); i++ {
			if step := calls[i][0] - calls[i-1][0]; step <= 0 || step > perBatch || calls[i][1] != total {
				t.Errorf("%s: progress %v, want steps of 1 to %d rows out of %d", ct.name, calls, perBatch, total)
				break
			}
		}
		if last := calls[len(calls)-1]; last[0] != total {
			t.Errorf("%s: progress ends at %d/%d, want %d/%d", ct.name, last[0], last[1], total, total)
		}
	}
	if !slices.Equal(p.order, want) {
		t.Errorf("tables reported in the order %v, want %v", p.order, want)
	}
}

func openStoreAt(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// An installation copied from SQLite to PostgreSQL and from there to a new SQLite file
// arrives whole both times: every row of every table Copy moves is the same (bytes as bytes,
// NULL as NULL), sessions and the session key stay behind, leases are cleared with the
// deliveries still pending, and both copies take new attempts and bin requests beside the
// copied ones. The first copy reads two rows per batch, the second one row (a tiny byte
// budget), so every table is paged through by its key.
func TestCopyRoundTripThroughPostgres(t *testing.T) {
	ctx := t.Context()
	src := openTestStore(t)
	in := fillInstallation(t, src)
	pg := openStoreAt(t, testdb.Postgres(t))
	back := openStoreAt(t, filepath.Join(t.TempDir(), "back.db"))

	var toPG, toSQLite progressLog
	if err := copyStore(ctx, src, pg, toPG.record, copyLimits{rows: 2, bytes: 8 << 20}); err != nil {
		t.Fatalf("copy to PostgreSQL: %v", err)
	}
	toPG.check(t, src, 2)
	if err := copyStore(ctx, pg, back, toSQLite.record, copyLimits{rows: 1000, bytes: 1}); err != nil {
		t.Fatalf("copy back to SQLite: %v", err)
	}
	toSQLite.check(t, pg, 1)

	for _, ct := range copyTables {
		want := dumpTable(t, src, ct)
		if len(want) < 3 && ct.name != "settings" {
			t.Errorf("the source has %d rows in %s: the test should page through at least 3", len(want), ct.name)
		}
		for _, c := range []struct {
			name string
			s    *Store
		}{{"PostgreSQL", pg}, {"SQLite again", back}} {
			if got := dumpTable(t, c.s, ct); !slices.Equal(got, want) {
				t.Errorf("%s on %s:\n got %q\nwant %q", ct.name, c.name, got, want)
			}
		}
	}

	for _, c := range []struct {
		name string
		s    *Store
	}{{"PostgreSQL", pg}, {"SQLite again", back}} {
		useClock(c.s, time.Millisecond) // the copied bin is live at the source's time
		if n := countRows(t, c.s, "sessions", ""); n != 0 {
			t.Errorf("%s: %d sessions copied, want none", c.name, n)
		}
		if n := countRows(t, c.s, "settings", "key = 'session_key'"); n != 0 {
			t.Errorf("%s: the session key was copied", c.name)
		}
		if n := countRows(t, c.s, "settings", "key = 'theme'"); n != 1 {
			t.Errorf("%s: the theme setting was not copied", c.name)
		}
		if n := countRows(t, c.s, "event_types", "builtin = 1"); n != countRows(t, src, "event_types", "builtin = 1") {
			t.Errorf("%s: %d built-in event types, want the %d of the migrations", c.name, n, countRows(t, src, "event_types", "builtin = 1"))
		}
		if n := countRows(t, c.s, "deliveries", "lease_until IS NOT NULL"); n != 0 {
			t.Errorf("%s: %d deliveries still leased", c.name, n)
		}
		for _, id := range []string{in.queued, in.leased} {
			if d, err := c.s.Delivery(ctx, id); err != nil || d.Status != DeliveryPending || d.NextAttemptAt == nil {
				t.Errorf("%s: delivery %s is %+v, %v; want it pending with its due time", c.name, id, d, err)
			}
		}
		// Read back through the store: the webhook signs with the same secrets, and the
		// token made before the copy still works.
		w, err := c.s.Webhook(ctx, in.crm.ID)
		if err != nil || w.Secret != in.crm.Secret || len(w.PreviousSecrets) != 1 || w.PreviousSecrets[0].Secret != "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" ||
			!slices.Equal(w.Events, in.crm.Events) || !slices.Equal(w.ProjectIDs, in.crm.ProjectIDs) {
			t.Errorf("%s: webhook %+v, %v; want %+v", c.name, w, err, in.crm)
		}
		if u, _, err := c.s.UserByToken(ctx, in.token); err != nil || u.ID != in.mia.ID {
			t.Errorf("%s: Mia's token gives %+v, %v", c.name, u, err)
		}
		// New rows are numbered after the copied ones.
		next := clockStart.Add(2 * time.Hour)
		if _, err := c.s.RecordAttempts(ctx, []AttemptOutcome{{Attempt: Attempt{DeliveryID: in.queued, WebhookID: in.crm.ID,
			Number: 1, StartedAt: clockStart, StatusCode: 503}, Status: DeliveryPending, NextAttemptAt: &next}}); err != nil {
			t.Errorf("%s: an attempt after the copy: %v", c.name, err)
		} else if as, err := c.s.Attempts(ctx, in.queued); err != nil || len(as) != 1 || as[0].ID <= in.maxAttempt {
			t.Errorf("%s: the new attempt is %+v, %v; want one numbered after %d", c.name, as, err, in.maxAttempt)
		}
		if err := c.s.AddBinRequest(ctx, in.bin.ID, "PUT", nil, false, []byte("x")); err != nil {
			t.Errorf("%s: a bin request after the copy: %v", c.name, err)
		} else if reqs, err := c.s.BinRequests(ctx, in.bin.ID); err != nil || len(reqs) != 4 || reqs[0].ID <= in.maxBinReqID {
			t.Errorf("%s: bin requests %+v, %v; want a fourth numbered after %d", c.name, reqs, err, in.maxBinReqID)
		}
	}

	// PostgreSQL's tables are the same set, and Copy's list covers them all.
	rows, err := pg.read.QueryContext(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`)
	names, err := collect(rows, err, func(r scanner) (string, error) {
		var n string
		return n, r.Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
	checkCopyCoversTables(t, names)
}

// copyTables names every table of the schema but those left behind on purpose, once each, so
// a table a migration adds cannot be forgotten by `hookyard copy`.
func TestCopyTablesCoverTheSchema(t *testing.T) {
	checkCopyCoversTables(t, tableNames(t, openTestStore(t)))
}

func checkCopyCoversTables(t *testing.T, schema []string) {
	t.Helper()
	var listed []string
	for _, ct := range copyTables {
		listed = append(listed, ct.name)
	}
	listed = append(listed, notCopiedTables...)
	slices.Sort(listed)
	slices.Sort(schema)
	if !slices.Equal(listed, schema) {
		t.Errorf("copyTables and notCopiedTables name %v; the schema has %v", listed, schema)
	}
}

// A target with data is refused before anything is written, saying what is there; a target
// that a server has only started on (its session key and write probe) is empty enough.
func TestCopyRefusesATargetWithData(t *testing.T) {
	ctx := t.Context()
	src := openTestStore(t)
	fillInstallation(t, src)

	dst := openTestStore(t)
	createUser(t, dst, "someone@example.com", "Someone", RoleAdmin)
	var calls int
	err := Copy(ctx, src, dst, func(string, int, int) { calls++ })
	if !errors.Is(err, ErrTargetNotEmpty) || !strings.Contains(err.Error(), "1 in users") {
		t.Fatalf("Copy into a store with a user: %v; want ErrTargetNotEmpty naming the users", err)
	}
	if calls != 0 || countRows(t, dst, "users", "") != 1 || countRows(t, dst, "organizations", "") != 0 {
		t.Errorf("the refused copy wrote something: %d progress calls, %d users, %d organisations",
			calls, countRows(t, dst, "users", ""), countRows(t, dst, "organizations", ""))
	}

	started := openTestStore(t)
	if _, _, err := started.SessionKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if err := Copy(ctx, src, started, nil); err != nil {
		t.Errorf("Copy into a store a server has started on: %v", err)
	}
	if err := Copy(ctx, src, started, nil); !errors.Is(err, ErrTargetNotEmpty) {
		t.Errorf("a second Copy into the same store: %v; want ErrTargetNotEmpty", err)
	}
}
