package storetest

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"hookyard/store"
)

var timeCases = []testCase{
	{"EveryTimeIsWholeMillisecondsInUTC", testTimesAreMilliseconds},
	{"FarFutureTimes", testFarFutureTimes},
}

var idCases = []testCase{
	{"NextIDSortsAfterEveryIDBefore", testNextIDOrder},
	{"ListsKeepCreationOrderWithinAMillisecond", testCreationOrderWithinAMillisecond},
}

// testTimesAreMilliseconds reads back every time the store keeps, from a clock and inputs with
// sub-millisecond parts in another zone: each comes back truncated to the millisecond, in UTC.
func testTimesAreMilliseconds(t *testing.T, f *fixture) {
	zone := time.FixedZone("UTC-3", -3*3600)
	belowAMillisecond := 456_789 * time.Nanosecond
	now := f.now() // the store's clock has its own sub-millisecond part
	times := map[string]struct{ got, want time.Time }{}
	add := func(what string, got, want time.Time) { times[what] = struct{ got, want time.Time }{got, want} }
	addPtr := func(what string, got *time.Time, want time.Time) {
		if got == nil {
			t.Errorf("%s is nil, want %v", what, want)
			return
		}
		add(what, *got, want)
	}

	s := f.scene()
	u, _ := f.s.UserByID(f.ctx, s.owner.ID)
	add("user created", u.CreatedAt, now)
	add("user updated", u.UpdatedAt, now)
	o, _ := f.s.Organization(f.ctx, s.org.ID)
	add("organisation created", o.CreatedAt, now)
	p, _ := f.s.Project(f.ctx, s.project.ID)
	add("project updated", p.UpdatedAt, now)
	et, err := f.s.CreateEventType(f.ctx, store.EventType{Name: "INVOICE_PAID", Label: "Invoice paid"})
	f.must(err, "CreateEventType")
	stored, _ := f.s.EventType(f.ctx, et.Name)
	add("event type created", stored.CreatedAt, now)
	tok, secret, _ := f.s.CreateToken(f.ctx, s.owner.ID, "t")
	_, _, _ = f.s.UserByToken(f.ctx, secret)
	tok, _ = f.s.Token(f.ctx, tok.ID)
	add("token created", tok.CreatedAt, now)
	addPtr("token last used", tok.LastUsedAt, now)

	published := f.clock.Now().Add(belowAMillisecond).In(zone)
	due := published.Add(time.Minute)
	ev := f.newEvent(s.project, "TODO_CREATED")
	ev.CreatedAt = published
	d := f.newDelivery(ev, s.hook.ID)
	d.CreatedAt, d.NextAttemptAt = published, &due
	f.must(f.s.Publish(f.ctx, store.Publication{Events: []store.Event{ev}, Deliveries: []store.Delivery{d}}), "Publish")
	storedEv, _ := f.s.Event(f.ctx, ev.ID)
	add("event created", storedEv.CreatedAt, ms(published))
	storedD := f.delivery(d.ID)
	add("delivery created", storedD.CreatedAt, ms(published))
	add("delivery updated", storedD.UpdatedAt, ms(published))
	addPtr("delivery due", storedD.NextAttemptAt, ms(due))

	started := published.Add(time.Second)
	out := f.outcome(d, 1, 200, store.DeliverySucceeded)
	out.Attempt.StartedAt = started
	f.record(out)
	a := f.attempts(d.ID)
	if len(a) == 1 {
		add("attempt started", a[0].StartedAt, ms(started))
	}
	w := f.webhookNow(s.hook.ID)
	addPtr("webhook last success", w.LastSuccessAt, ms(started))
	hours := f.hours(s.hook.ID)
	if len(hours) == 1 {
		add("hour", hours[0].Hour, ms(started).Truncate(time.Hour))
	}

	w, _ = f.s.DisableWebhook(f.ctx, s.hook.ID, store.StatusUnhealthy, "x")
	addPtr("webhook disabled", w.DisabledAt, now)
	addPtr("webhook last disabled", w.LastDisabledAt, now)
	add("webhook updated", w.UpdatedAt, now)
	w, _ = f.s.RotateSecret(f.ctx, s.hook.ID, "whsec_new", time.Hour)
	if len(w.PreviousSecrets) == 1 {
		add("previous secret expires", w.PreviousSecrets[0].ExpiresAt, now.Add(time.Hour))
	}
	notes, _ := f.s.UnreadNotifications(f.ctx, s.owner.ID)
	if len(notes) == 1 {
		add("notice created", notes[0].CreatedAt, now)
	}
	b, _ := f.s.CreateBin(f.ctx, s.owner.ID, 0)
	b, _ = f.s.Bin(f.ctx, b.ID)
	add("bin created", b.CreatedAt, now)
	add("bin expires", b.ExpiresAt, now.Add(store.BinLifetime))
	f.must(f.s.AddBinRequest(f.ctx, b.ID, http.MethodPost, nil, false, []byte{}), "AddBinRequest")
	reqs, _ := f.s.BinRequests(f.ctx, b.ID)
	if len(reqs) == 1 {
		add("bin request received", reqs[0].ReceivedAt, now)
	}

	if len(times) != 22 {
		t.Errorf("checked %d times, want 22", len(times))
	}
	for what, tm := range times {
		if !tm.got.Equal(tm.want) || tm.got.Location() != time.UTC || tm.got.Nanosecond()%int(time.Millisecond) != 0 {
			t.Errorf("%s = %s, want %s (whole milliseconds, UTC)", what, tm.got.Format(time.RFC3339Nano), tm.want.Format(time.RFC3339Nano))
		}
	}
}

func testFarFutureTimes(t *testing.T, f *fixture) {
	s := f.scene()
	for _, at := range []time.Time{
		time.Date(2100, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(1999, 1, 1, 0, 0, 0, 1_000_000, time.UTC),
		time.UnixMilli(1<<47 - 1).UTC(),
	} {
		ev := f.newEvent(s.project, "TODO_CREATED")
		ev.CreatedAt = at
		f.must(f.s.Publish(f.ctx, store.Publication{Events: []store.Event{ev}}), "Publish")
		got, err := f.s.Event(f.ctx, ev.ID)
		f.must(err, "Event")
		if !got.CreatedAt.Equal(ms(at)) {
			t.Errorf("event made at %s reads back as %s", at.Format(time.RFC3339Nano), got.CreatedAt.Format(time.RFC3339Nano))
		}
	}
}

func testNextIDOrder(t *testing.T, f *fixture) {
	var made []string
	add := func(id string) { made = append(made, id) }
	for i := range 12 {
		switch i % 4 {
		case 0:
			add(f.org(fmt.Sprint("o", i)).ID)
		case 1:
			add(f.s.NextID("evt"))
		case 2:
			add(f.user(f.s.NextID("mail")+"@example.com", "u", store.RoleMember).ID)
		case 3:
			add(f.s.NextID("dlv"))
		}
		if i == 6 {
			f.clock.Advance(-time.Second) // a clock that steps back must not reorder
		}
		if i == 9 {
			f.clock.Advance(2 * time.Second)
		}
	}
	for i := 1; i < len(made); i++ {
		if !store.MadeAfter(made[i], made[i-1]) || store.MadeAfter(made[i-1], made[i]) {
			t.Errorf("id %d (%s) does not sort after id %d (%s)", i, made[i], i-1, made[i-1])
		}
	}
}

// Rows made within one millisecond (and even with the clock stepping back) still list in the
// order they were made.
func testCreationOrderWithinAMillisecond(t *testing.T, f *fixture) {
	var want []string
	for i := range 30 {
		if i == 20 {
			f.clock.Advance(-time.Second)
		}
		want = append(want, f.org(string(rune('A'+i))).ID)
	}
	got, _, err := f.s.ListOrganizations(f.ctx, "", store.Page{Limit: 100})
	f.must(err, "ListOrganizations")
	check(t, "organisations in creation order", ids(got, orgID), want)
}
