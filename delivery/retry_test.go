package delivery_test

import (
	"math"
	"testing"
	"time"

	"hookyard/delivery"
)

// distinctSlots is a retry schedule whose slots all differ, so a delay taken from the wrong
// slot shows.
var distinctSlots = []time.Duration{100 * time.Millisecond, 300 * time.Millisecond, 900 * time.Millisecond}

// Each retry waits the delay of its own slot of the schedule (the one after attempt n is
// slot n), counted from when attempt n finished, jittered by at most ±10 %; a longer
// Retry-After wins, a shorter one does not shorten the wait.
func TestRetryPolicyNextTakesEachAttemptsOwnSlot(t *testing.T) {
	finished := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	at := func(j float64) delivery.RetryPolicy {
		return delivery.RetryPolicy{Schedule: distinctSlots, Jitter: func() float64 { return j }}
	}
	if n := at(0.5).MaxAttempts(); n != 4 {
		t.Errorf("MaxAttempts with 3 delays = %d, want 4", n)
	}
	for i, slot := range distinctSlots {
		n := i + 1
		for _, c := range []struct {
			jitter float64
			want   time.Duration
		}{
			{0.5, slot},                            // the middle of the jitter: the slot itself
			{0, slot * 9 / 10},                     // the low end: -10 %
			{math.Nextafter(1, 0), slot * 11 / 10}, // the high end: just under +10 %
		} {
			got := at(c.jitter).Next(n, 0, finished).Sub(finished)
			if (got - c.want).Abs() > time.Microsecond {
				t.Errorf("Next(%d) with jitter %v: %v after the attempt ended, want %v (slot %d of %v)",
					n, c.jitter, got, c.want, n, distinctSlots)
			}
		}
	}
	p := at(0.5)
	if got := p.Next(1, 5*time.Second, finished).Sub(finished); got != 5*time.Second {
		t.Errorf("Next(1) with Retry-After 5s: %v, want 5s (the receiver asked for longer than the schedule)", got)
	}
	if got := p.Next(3, 10*time.Millisecond, finished).Sub(finished); got != 900*time.Millisecond {
		t.Errorf("Next(3) with Retry-After 10ms: %v, want the schedule's 900ms", got)
	}
}

// Without a jitter source the policy draws one: delays spread over the whole ±10 % around
// each slot and never leave it, so retries of many deliveries do not arrive in lockstep.
func TestRetryPolicyJittersWithinTenPercent(t *testing.T) {
	p := delivery.RetryPolicy{Schedule: distinctSlots}
	finished := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const draws = 1000
	for i, slot := range distinctSlots {
		lo, hi := slot*9/10, slot*11/10
		seen := map[time.Duration]bool{}
		least, most := hi, lo
		for range draws {
			d := p.Next(i+1, 0, finished).Sub(finished)
			if d < lo || d > hi {
				t.Fatalf("Next(%d) waited %v, outside %v ± 10 %% [%v, %v]", i+1, d, slot, lo, hi)
			}
			seen[d] = true
			least, most = min(least, d), max(most, d)
		}
		// A uniform draw misses the outer fifth of either end in 1000 tries with
		// probability 0.9^1000: never.
		if len(seen) < draws*9/10 || least > slot*92/100 || most < slot*108/100 {
			t.Errorf("Next(%d) over %d calls: %d distinct delays between %v and %v; want them spread over %v ± 10 %%",
				i+1, draws, len(seen), least, most, slot)
		}
	}
}
