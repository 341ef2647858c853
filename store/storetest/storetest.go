// Package storetest is the store's contract: one suite that pins what every store method
// does, run against each storage engine. It uses only the store's exported API, so an engine
// passes it by behaving the same, not by sharing SQL.
//
// The claim-and-lease methods of the delivery queue (ClaimDue, QueuedWebhooks, ReleaseHeld,
// ReleaseLeases) are pinned in the Queue group alone (queue.go), so that group can be
// rewritten with the queue; no other group uses them or the lease they set.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"hookyard/store"
)

// Run runs the whole contract. open is called once per sub-test and must return a new,
// empty, migrated store that reads its time from ClockFor(t).Now and is closed when t ends.
func Run(t *testing.T, open func(t *testing.T) *store.Store) {
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, newFixture(t, open))
				})
			}
		})
	}
}

// group is one area of the store: a name for -run and its cases.
type group struct {
	name  string
	cases []testCase
}

type testCase struct {
	name string
	run  func(t *testing.T, f *fixture)
}

var groups = []group{
	{"Basics", basicCases},
	{"Users", userCases},
	{"Sessions", sessionCases},
	{"Tokens", tokenCases},
	{"Organizations", organizationCases},
	{"Memberships", membershipCases},
	{"Projects", projectCases},
	{"EventTypes", eventTypeCases},
	{"Webhooks", webhookCases},
	{"Events", eventCases},
	{"Idempotency", idempotencyCases},
	{"Deliveries", deliveryCases},
	{"Attempts", attemptCases},
	{"Replay", replayCases},
	{"Notifications", notificationCases},
	{"Bins", binCases},
	{"Settings", settingCases},
	{"Stats", statCases},
	{"Retention", retentionCases},
	{"Paging", pagingCases},
	{"Errors", errorCases},
	{"Times", timeCases},
	{"IDs", idCases},
	{"Demo", demoCases},
	{"Concurrency", concurrencyCases},
	{"Queue", queueCases},
}

// Clock is the time the store under test reads; the suite moves it. It only moves when told.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// clockStart has a sub-millisecond part, so an engine that keeps more or less than
// milliseconds shows.
var clockStart = time.Date(2026, 1, 2, 3, 4, 5, 678_901_234, time.UTC)

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock (backwards for a negative d).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// clocks holds the clock of each running sub-test, for ClockFor: open is given only t, so the
// clock travels with t.
var clocks sync.Map // *testing.T → *Clock

// ClockFor returns the clock of the suite's sub-test t; open installs its Now as the clock of
// the store it makes.
func ClockFor(t *testing.T) *Clock {
	t.Helper()
	c, ok := clocks.Load(t)
	if !ok {
		t.Fatal("storetest.ClockFor: t is not a sub-test of storetest.Run")
	}
	return c.(*Clock)
}

// fixture is one sub-test's store with its clock and the helpers that fill it.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	s     *store.Store
	clock *Clock
}

func newFixture(t *testing.T, open func(t *testing.T) *store.Store) *fixture {
	t.Helper()
	c := &Clock{now: clockStart}
	clocks.Store(t, c)
	t.Cleanup(func() { clocks.Delete(t) })
	f := &fixture{t: t, ctx: t.Context(), s: open(t), clock: c}
	// An id made now carries the store's clock in its first ten characters.
	if got, want := f.s.NextID("clk")[:14], store.NewID("clk", c.Now())[:14]; got != want {
		t.Fatalf("the store does not read ClockFor(t): an id made now starts %s, want %s", got, want)
	}
	return f
}

// now is the clock's time as the store keeps it: UTC, whole milliseconds.
func (f *fixture) now() time.Time { return ms(f.clock.Now()) }

func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func ptr[T any](v T) *T { return &v }

func (f *fixture) must(err error, what string) {
	f.t.Helper()
	if err != nil {
		f.t.Fatalf("%s: %v", what, err)
	}
}

// user stores a user without paying for bcrypt; the store never reads the hash.
func (f *fixture) user(email, name string, role store.Role) store.User {
	f.t.Helper()
	u := store.User{Email: email, Name: name, Role: role, PasswordHash: "not-a-real-hash"}
	f.must(f.s.CreateUser(f.ctx, &u), "CreateUser "+email)
	return u
}

func (f *fixture) org(name string) store.Organization {
	f.t.Helper()
	o, err := f.s.CreateOrganization(f.ctx, name)
	f.must(err, "CreateOrganization "+name)
	return o
}

func (f *fixture) project(orgID, name string) store.Project {
	f.t.Helper()
	p, err := f.s.CreateProject(f.ctx, orgID, name)
	f.must(err, "CreateProject "+name)
	return p
}

func (f *fixture) member(orgID, userID string) {
	f.t.Helper()
	f.must(f.s.AddMember(f.ctx, orgID, userID), "AddMember")
}

// webhook stores a webhook of owner for every event in every project.
func (f *fixture) webhook(ownerID, name string) store.Webhook {
	f.t.Helper()
	w := store.Webhook{OwnerID: ownerID, Name: name, URL: "http://127.0.0.1:9/" + name, Secret: "whsec_" + name}
	f.must(f.s.CreateWebhook(f.ctx, &w), "CreateWebhook "+name)
	return w
}

func (f *fixture) webhookNow(id string) store.Webhook {
	f.t.Helper()
	w, err := f.s.Webhook(f.ctx, id)
	f.must(err, "Webhook "+id)
	return w
}

// scene is what most delivery tests start from: an admin with an organisation, a project and
// a webhook.
type scene struct {
	owner   store.User
	org     store.Organization
	project store.Project
	hook    store.Webhook
}

func (f *fixture) scene() scene {
	f.t.Helper()
	owner := f.user("owner@example.com", "Owner", store.RoleAdmin)
	o := f.org("Acme")
	return scene{owner: owner, org: o, project: f.project(o.ID, "Website"), hook: f.webhook(owner.ID, "main")}
}

// newEvent is an event of type typ in project p, made now, not yet stored.
func (f *fixture) newEvent(p store.Project, typ string) store.Event {
	return store.Event{ID: f.s.NextID("evt"), Type: typ, OrganizationID: p.OrganizationID, ProjectID: p.ID,
		PreviousValue: []byte(`null`), CurrentValue: []byte(`{"n": 1}`), PublisherID: "usr_publisher", CreatedAt: f.now()}
}

// newDelivery is a pending delivery of ev to a webhook, due now, not yet stored.
func (f *fixture) newDelivery(ev store.Event, webhookID string) store.Delivery {
	now := f.now()
	id := f.s.NextID("dlv")
	return store.Delivery{ID: id, EventID: ev.ID, WebhookID: webhookID, EventType: ev.Type, MessageID: id,
		Status: store.DeliveryPending, NextAttemptAt: &now, CreatedAt: now, UpdatedAt: now}
}

// publish stores one event of type typ in p with a pending delivery to each hook, and returns
// them as stored.
func (f *fixture) publish(p store.Project, typ string, hooks ...store.Webhook) (store.Event, []store.Delivery) {
	f.t.Helper()
	ev := f.newEvent(p, typ)
	pub := store.Publication{Events: []store.Event{ev}}
	for _, h := range hooks {
		pub.Deliveries = append(pub.Deliveries, f.newDelivery(ev, h.ID))
	}
	f.must(f.s.Publish(f.ctx, pub), "Publish")
	return ev, pub.Deliveries
}

// missed stores one event of type typ in p that the given webhooks kept as missed.
func (f *fixture) missed(p store.Project, typ string, hooks ...store.Webhook) store.Event {
	f.t.Helper()
	ev := f.newEvent(p, typ)
	pub := store.Publication{Events: []store.Event{ev}}
	for _, h := range hooks {
		pub.Missed = append(pub.Missed, store.MissedEvent{WebhookID: h.ID, EventID: ev.ID})
	}
	f.must(f.s.Publish(f.ctx, pub), "Publish")
	return ev
}

func (f *fixture) delivery(id string) store.Delivery {
	f.t.Helper()
	d, err := f.s.Delivery(f.ctx, id)
	f.must(err, "Delivery "+id)
	return d
}

// outcome is attempt n of d, started now and taking 3 ms, answered with code (2xx is OK),
// leaving the delivery in status.
func (f *fixture) outcome(d store.Delivery, n, code int, status store.DeliveryStatus) store.AttemptOutcome {
	ok := code >= 200 && code < 300
	errText := ""
	if !ok {
		errText = fmt.Sprintf("HTTP %d", code)
	}
	o := store.AttemptOutcome{Status: status, Created: d.CreatedAt, Attempt: store.Attempt{
		DeliveryID: d.ID, WebhookID: d.WebhookID, Number: n, StartedAt: f.now(), Duration: 3 * time.Millisecond,
		RequestHeaders: map[string][]string{"X-Hookyard-Attempt": {fmt.Sprint(n)}}, StatusCode: code,
		ResponseHeaders: map[string][]string{"Content-Type": {"text/plain"}}, ResponseBody: "answer " + fmt.Sprint(n),
		Error: errText, OK: ok,
	}}
	if status == store.DeliveryPending {
		next := f.now().Add(10 * time.Second)
		o.NextAttemptAt = &next
	}
	return o
}

// record stores outcomes in one batch and returns the webhooks it switched off (never nil).
func (f *fixture) record(outs ...store.AttemptOutcome) []string {
	f.t.Helper()
	off, err := f.s.RecordAttempts(f.ctx, outs)
	f.must(err, "RecordAttempts")
	return append([]string{}, off...)
}

// check reports a difference between got and want, compared deeply.
func check(t *testing.T, what string, got, want any) {
	t.Helper()
	got, want = normalize(got), normalize(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s =\n  %+v\nwant\n  %+v", what, got, want)
	}
}

// checkErr reports an error that is not want (nil for success).
func checkErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil && err != nil {
		t.Errorf("%s: %v", what, err)
	} else if want != nil && !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

// ids returns the id of each row.
func ids[T any](rows []T, id func(T) string) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, id(r))
	}
	return out
}

func userID(u store.User) string                 { return u.ID }
func orgID(o store.Organization) string          { return o.ID }
func projectID(p store.Project) string           { return p.ID }
func webhookID(w store.Webhook) string           { return w.ID }
func eventID(e store.Event) string               { return e.ID }
func deliveryID(d store.Delivery) string         { return d.ID }
func userName(u store.User) string               { return u.Name }
func orgName(o store.Organization) string        { return o.Name }
func projectName(p store.Project) string         { return p.Name }
func webhookName(w store.Webhook) string         { return w.Name }
func tokenName(t store.APIToken) string          { return t.Name }
func tokenID(t store.APIToken) string            { return t.ID }
func notificationID(n store.Notification) string { return n.ID }
func binID(b store.Bin) string                   { return b.ID }

// reversed returns a reversed copy, for lists that are newest first.
func reversed(in []string) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[len(in)-1-i] = v
	}
	return out
}

// timeOf formats an optional time for messages.
func timeOf(t *time.Time) string {
	if t == nil {
		return "<nil>"
	}
	return t.Format(time.RFC3339Nano)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b) && a.Location() == b.Location()
}

// normalize makes webhooks comparable whether a field holds an empty collection or none:
// the store reads no extra headers as an empty map and no rotated-out secret as nil.
func normalize(v any) any {
	one := func(w store.Webhook) store.Webhook {
		if w.Headers == nil {
			w.Headers = map[string]string{}
		}
		if len(w.PreviousSecrets) == 0 {
			w.PreviousSecrets = nil
		}
		return w
	}
	switch w := v.(type) {
	case store.Webhook:
		return one(w)
	case []store.Webhook:
		out := make([]store.Webhook, len(w))
		for i := range w {
			out[i] = one(w[i])
		}
		return out
	}
	return v
}
