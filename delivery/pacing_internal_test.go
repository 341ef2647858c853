package delivery

import (
	"testing"
	"time"
)

// A paced lane (SPEC §9 rateLimitPerSecond) with work it may not start yet waits on the
// dispatcher's timer: take hands out nothing more for it and names the time it may go on,
// so the loop sleeps until then instead of polling.
func TestPacedLaneWaitsOnTheTimer(t *testing.T) {
	d := newDispatcher(dispatcherConfig{workers: 8, perWebhook: 8, laneWindow: 64, maxHeld: 256})
	start := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	now := start
	d.now = func() time.Time { return now }
	const pace = 100 * time.Millisecond
	d.controls = func(id string) laneControls {
		if id == "wh_paced" {
			return laneControls{pace: pace}
		}
		return laneControls{}
	}
	ids := []string{"wh_paced", "wh_paced", "wh_paced", "wh_free", "wh_free"}
	d.reserve(ids)
	var jobs []job
	for i, id := range ids {
		jobs = append(jobs, job{deliveryID: "dlv_" + string(rune('a'+i)), webhookID: id, attempt: 1})
	}
	d.admit(jobs)

	count := func(js []job, id string) int {
		n := 0
		for _, j := range js {
			if j.webhookID == id {
				n++
			}
		}
		return n
	}
	got, _, _, next := d.take(now)
	if count(got, "wh_paced") != 1 || count(got, "wh_free") != 2 {
		t.Fatalf("first take: %d paced and %d unpaced jobs, want 1 and 2", count(got, "wh_paced"), count(got, "wh_free"))
	}
	if !next.Equal(start.Add(pace)) {
		t.Errorf("the loop is told to wake at %v, want %v (the paced lane's next start)", next, start.Add(pace))
	}
	for _, j := range got {
		d.finished(j.webhookID, signalSuccess, true)
	}
	// Finished requests wake the loop; the paced lane still waits for its turn.
	now = start.Add(pace / 2)
	if got, _, _, next = d.take(now); len(got) != 0 || !next.Equal(start.Add(pace)) {
		t.Errorf("half a pace later: %d jobs, wake at %v; want none, and %v", len(got), next, start.Add(pace))
	}
	now = start.Add(pace)
	if got, _, _, next = d.take(now); count(got, "wh_paced") != 1 || !next.Equal(start.Add(2*pace)) {
		t.Errorf("one pace later: %d paced jobs, wake at %v; want 1, and %v", count(got, "wh_paced"), next, start.Add(2*pace))
	}
	// A turn taken a little late (the timer's lateness) does not push the next one back; one
	// taken much later counts the next pace from then: two starts are never closer than
	// nine tenths of a pace.
	d.reserve([]string{"wh_paced", "wh_paced"})
	d.admit([]job{{deliveryID: "dlv_x", webhookID: "wh_paced", attempt: 1}, {deliveryID: "dlv_y", webhookID: "wh_paced", attempt: 1}})
	for _, c := range []struct {
		at, next time.Duration
	}{
		{2*pace + pace/20, 3 * pace},                 // 5 ms late: on schedule
		{3*pace + pace/2, 4*pace + pace/2},           // 50 ms late: from now on
		{4*pace + pace/2 + pace/10, 5*pace + pace/2}, // a tenth late: still on schedule
	} {
		now = start.Add(c.at)
		if got, _, _, _ = d.take(now); count(got, "wh_paced") != 1 {
			t.Errorf("at %v: %d paced jobs, want 1", c.at, count(got, "wh_paced"))
		}
		if l := d.lanes["wh_paced"]; !l.nextStart.Equal(start.Add(c.next)) {
			t.Errorf("a turn at %v: the next start is at %v, want %v", c.at, l.nextStart.Sub(start), c.next)
		}
	}
}
