package storetest

import (
	"strings"
	"testing"
	"time"

	"hookyard/store"
)

var statCases = []testCase{
	{"HourlyFiguresAddUp", testHourlyFigures},
	{"WebhookHoursSince", testWebhookHoursSince},
	{"OwnerHours", testOwnerHours},
}

var retentionCases = []testCase{
	{"PruneEventsKeepsWhatIsPending", testPruneEvents},
	{"PruneEventsOldestFirstUpToLimit", testPruneEventsLimit},
	{"PruneEventsDropsOldIdempotencyKeys", testPruneIdempotencyKeys},
	{"PruneHourly", testPruneHourly},
	{"ReclaimSpaceAfterPruning", testReclaimSpace},
}

// attemptAt records a finished attempt of a new delivery to w, started at the given time and
// taking d.
func (f *fixture) attemptAt(p store.Project, w store.Webhook, at time.Time, d time.Duration, code int) {
	f.t.Helper()
	_, ds := f.publish(p, "TODO_CREATED", w)
	status := store.DeliverySucceeded
	if code >= 300 {
		status = store.DeliveryFailed
	}
	o := f.outcome(ds[0], 1, code, status)
	o.Attempt.StartedAt, o.Attempt.Duration = at, d
	f.record(o)
}

func testHourlyFigures(t *testing.T, f *fixture) {
	s := f.scene()
	other := f.webhook(s.owner.ID, "other")
	h0 := ms(clockStart).Truncate(time.Hour)
	h1 := h0.Add(time.Hour)
	// One batch across two webhooks and two hours, then more in later batches.
	_, a := f.publish(s.project, "TODO_CREATED", s.hook, other)
	_, b := f.publish(s.project, "TODO_CREATED", s.hook)
	o1 := f.outcome(a[0], 1, 200, store.DeliverySucceeded)
	o1.Attempt.Duration = 500 * time.Microsecond
	o2 := f.outcome(a[1], 1, 500, store.DeliveryPending)
	o3 := f.outcome(b[0], 1, 503, store.DeliveryPending)
	o3.Attempt.StartedAt, o3.Attempt.Duration = h1.Add(59*time.Minute), 20*time.Second
	f.record(o1, o2, o3)
	o4 := f.outcome(b[0], 2, 500, store.DeliveryFailed)
	o4.Attempt.StartedAt, o4.Attempt.Duration = h1.Add(time.Minute), 40*time.Millisecond
	f.record(o4)
	f.attemptAt(s.project, s.hook, h0.Add(30*time.Minute), 3*time.Millisecond, 200)

	check(t, "main's hours", f.hours(s.hook.ID), []store.HourStats{
		{Hour: h0, Attempts: 2, Succeeded: 2, Latency: histogram(500*time.Microsecond, 3*time.Millisecond)},
		{Hour: h1, Attempts: 2, Failures: 2, Failed: 1, Latency: histogram(20*time.Second, 40*time.Millisecond)},
	})
	check(t, "other's hours", f.hours(other.ID), []store.HourStats{
		{Hour: h0, Attempts: 1, Failures: 1, Latency: histogram(3 * time.Millisecond)},
	})
	if q := f.hours(s.hook.ID)[1].Latency.Quantile(1); q != 10*time.Second {
		t.Errorf("slowest bucket's quantile = %v, want the last bound, 10s", q)
	}
}

func testWebhookHoursSince(t *testing.T, f *fixture) {
	s := f.scene()
	h0 := ms(clockStart).Truncate(time.Hour)
	for _, at := range []time.Duration{3 * time.Hour, 0, time.Hour, 2 * time.Hour} {
		f.attemptAt(s.project, s.hook, h0.Add(at+time.Minute), time.Millisecond, 200)
	}
	for _, tc := range []struct {
		since time.Time
		want  []time.Time
	}{
		{time.Time{}, []time.Time{h0, h0.Add(time.Hour), h0.Add(2 * time.Hour), h0.Add(3 * time.Hour)}},
		{h0.Add(2 * time.Hour), []time.Time{h0.Add(2 * time.Hour), h0.Add(3 * time.Hour)}},
		{h0.Add(2*time.Hour + 59*time.Minute), []time.Time{h0.Add(2 * time.Hour), h0.Add(3 * time.Hour)}}, // since's whole hour
		{h0.Add(4 * time.Hour), nil},
	} {
		got, err := f.s.WebhookHours(f.ctx, s.hook.ID, tc.since)
		f.must(err, "WebhookHours")
		var hours []time.Time
		for _, h := range got {
			hours = append(hours, h.Hour)
		}
		check(t, "WebhookHours since "+tc.since.Format(time.RFC3339), hours, tc.want)
	}
}

func testOwnerHours(t *testing.T, f *fixture) {
	s := f.scene()
	bob := f.user("bob@example.com", "Bob", store.RoleMember)
	second, bobs := f.webhook(s.owner.ID, "second"), f.webhook(bob.ID, "bobs")
	h0 := ms(clockStart).Truncate(time.Hour)
	f.attemptAt(s.project, s.hook, h0.Add(time.Hour), time.Millisecond, 200)
	f.attemptAt(s.project, second, h0, time.Millisecond, 500)
	f.attemptAt(s.project, bobs, h0.Add(2*time.Hour), time.Millisecond, 200)
	summary := func(hs []store.HourStats) [][2]int {
		var out [][2]int
		for _, h := range hs {
			out = append(out, [2]int{int(h.Hour.Sub(h0) / time.Hour), h.Attempts - h.Failures})
		}
		return out
	}
	for _, tc := range []struct {
		owner string
		since time.Time
		want  [][2]int // hour after h0, successful attempts; oldest first
	}{
		{s.owner.ID, time.Time{}, [][2]int{{0, 0}, {1, 1}}},
		{bob.ID, time.Time{}, [][2]int{{2, 1}}},
		{"", time.Time{}, [][2]int{{0, 0}, {1, 1}, {2, 1}}},
		{"", h0.Add(time.Hour), [][2]int{{1, 1}, {2, 1}}},
		{"usr_missing", time.Time{}, nil},
	} {
		got, err := f.s.OwnerHours(f.ctx, tc.owner, tc.since)
		f.must(err, "OwnerHours")
		check(t, "OwnerHours("+tc.owner+")", summary(got), tc.want)
	}
}

func testPruneEvents(t *testing.T, f *fixture) {
	s := f.scene()
	done, d1 := f.publish(s.project, "TODO_CREATED", s.hook)
	f.record(f.outcome(d1[0], 1, 200, store.DeliverySucceeded))
	waiting, d2 := f.publish(s.project, "TODO_CREATED", s.hook)
	f.record(f.outcome(d2[0], 1, 500, store.DeliveryPending)) // a retry is still due
	missed := f.missed(s.project, "TODO_CREATED", s.hook)
	cutoff := f.now().Add(time.Millisecond)
	f.clock.Advance(time.Millisecond)
	young, d3 := f.publish(s.project, "TODO_CREATED", s.hook)
	f.record(f.outcome(d3[0], 1, 200, store.DeliverySucceeded))
	f.clock.Advance(40 * 24 * time.Hour)

	n, err := f.s.PruneEvents(f.ctx, cutoff, 100)
	f.must(err, "PruneEvents")
	if n != 2 {
		t.Errorf("PruneEvents removed %d events, want 2 (the finished one and the missed one)", n)
	}
	for _, ev := range []store.Event{done, missed} {
		_, err := f.s.Event(f.ctx, ev.ID)
		checkErr(t, "a pruned event", err, store.ErrNotFound)
	}
	_, err = f.s.Delivery(f.ctx, d1[0].ID)
	checkErr(t, "a pruned event's delivery", err, store.ErrNotFound)
	if a := f.attempts(d1[0].ID); len(a) != 0 {
		t.Errorf("a pruned event's attempts: %+v", a)
	}
	by, _ := f.s.MissedBy(f.ctx, missed.ID)
	check(t, "a pruned event's missed records", by, map[string]bool{})
	for _, ev := range []store.Event{waiting, young} {
		if _, err := f.s.Event(f.ctx, ev.ID); err != nil {
			t.Errorf("an event that is pending or younger than the cutoff: %v", err)
		}
	}
	if a := f.attempts(d2[0].ID); len(a) != 1 {
		t.Errorf("the pending delivery's attempts = %d, want 1", len(a))
	}
	if n, _ := f.s.PruneEvents(f.ctx, cutoff, 100); n != 0 {
		t.Errorf("pruning again removed %d", n)
	}
}

func testPruneEventsLimit(t *testing.T, f *fixture) {
	s := f.scene()
	base := f.now()
	pub := store.Publication{}
	// Ids in one order, creation times in another: pruning goes by time.
	for _, age := range []time.Duration{3, 1, 5, 2, 4} {
		ev := f.newEvent(s.project, "TODO_CREATED")
		ev.CreatedAt = base.Add(-age * time.Hour)
		pub.Events = append(pub.Events, ev)
	}
	f.must(f.s.Publish(f.ctx, pub), "Publish")
	order := []int{2, 4, 0, 3, 1} // oldest first
	left := func() []string {
		evs, _, _ := f.s.ListEvents(f.ctx, store.EventFilter{}, store.Page{})
		return ids(evs, eventID)
	}
	for i, want := range []int{2, 2, 1, 0} {
		n, err := f.s.PruneEvents(f.ctx, base, 2)
		f.must(err, "PruneEvents")
		if n != want {
			t.Errorf("round %d: PruneEvents removed %d, want %d", i+1, n, want)
		}
		wantLeft := []string{}
		for _, j := range order[min(2*(i+1), len(order)):] {
			wantLeft = append(wantLeft, pub.Events[j].ID)
		}
		check(t, "events left", sorted(left()...), sorted(wantLeft...))
	}
}

func testPruneIdempotencyKeys(t *testing.T, f *fixture) {
	s := f.scene()
	key := func(k string) {
		t.Helper()
		f.must(f.s.Publish(f.ctx, store.Publication{Events: []store.Event{f.newEvent(s.project, "TODO_CREATED")},
			IdempotencyUserID: s.owner.ID, IdempotencyKey: k, Response: []byte(k)}), "Publish")
	}
	kept := func(k string) bool {
		_, err := f.s.IdempotentResponse(f.ctx, s.owner.ID, k, "", time.Time{})
		return err == nil
	}
	key("old")
	f.clock.Advance(time.Hour)
	key("young")
	f.clock.Advance(47 * time.Hour)
	_, err := f.s.PruneEvents(f.ctx, time.Time{}, 10)
	f.must(err, "PruneEvents")
	if !kept("old") || !kept("young") {
		t.Errorf("keys 48 h old and younger were pruned: old kept %v, young kept %v", kept("old"), kept("young"))
	}
	f.clock.Advance(time.Millisecond)
	_, err = f.s.PruneEvents(f.ctx, time.Time{}, 10)
	f.must(err, "PruneEvents")
	if kept("old") || !kept("young") {
		t.Errorf("after 48 h: old kept %v, young kept %v; want only the young one", kept("old"), kept("young"))
	}
}

func testPruneHourly(t *testing.T, f *fixture) {
	s := f.scene()
	h0 := ms(clockStart).Truncate(time.Hour)
	for _, at := range []time.Duration{0, time.Hour, 2 * time.Hour} {
		f.attemptAt(s.project, s.hook, h0.Add(at), time.Millisecond, 200)
	}
	f.must(f.s.PruneHourly(f.ctx, h0.Add(time.Hour+30*time.Minute)), "PruneHourly")
	var hours []time.Time
	for _, h := range f.hours(s.hook.ID) {
		hours = append(hours, h.Hour)
	}
	check(t, "hours left (the cutoff's hour stays)", hours, []time.Time{h0.Add(time.Hour), h0.Add(2 * time.Hour)})
}

// After pruning, ReclaimSpace gives free space back in steps of at most the pages asked for,
// and says how many are still free (an engine that reclaims by itself has none to give).
func testReclaimSpace(t *testing.T, f *fixture) {
	s := f.scene()
	pub := store.Publication{}
	for range 300 {
		ev := f.newEvent(s.project, "TODO_CREATED")
		ev.CurrentValue = []byte(`"` + strings.Repeat("x", 2000) + `"`)
		pub.Events = append(pub.Events, ev)
	}
	f.must(f.s.Publish(f.ctx, pub), "Publish")
	f.clock.Advance(time.Hour)
	n, err := f.s.PruneEvents(f.ctx, f.now(), 1000)
	if err != nil || n != 300 {
		t.Fatalf("PruneEvents = %d, %v; want 300", n, err)
	}
	first, err := f.s.ReclaimSpace(f.ctx, 1)
	f.must(err, "ReclaimSpace(1)")
	second, err := f.s.ReclaimSpace(f.ctx, 10)
	f.must(err, "ReclaimSpace(10)")
	if first < 0 || second < first-10 || second > first {
		t.Errorf("free pages %d, then %d after giving 10 back: want at most 10 fewer", first, second)
	}
	left, err := f.s.ReclaimSpace(f.ctx, 1_000_000)
	f.must(err, "ReclaimSpace(all)")
	check(t, "free pages after reclaiming everything", left, 0)
}
