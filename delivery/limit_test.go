package delivery

import "testing"

// A webhook's limit starts at the maximum, drops straight to 1 on any failure (not halfway),
// and grows back by one per success (not straight back to the maximum), never above it;
// a request that sent nothing changes nothing.
func TestConcurrencyLimitDropsToOneAndGrowsBackOneBySuccess(t *testing.T) {
	l := newConcurrencyLimit(8)
	if l.cur != 8 || !l.full() {
		t.Fatalf("a new limit is %d (full %v), want the maximum 8", l.cur, l.full())
	}
	l.observe(signalFailure)
	if l.cur != 1 || l.full() {
		t.Fatalf("after one failure from 8 the limit is %d, want 1", l.cur)
	}
	l.observe(signalNone)
	if l.cur != 1 {
		t.Errorf("a request that sent nothing moved the limit to %d, want it to stay 1", l.cur)
	}
	for want := 2; want <= 8; want++ {
		l.observe(signalSuccess)
		if l.cur != want || l.full() != (want == 8) {
			t.Fatalf("success %d after the failure: limit %d (full %v), want %d", want-1, l.cur, l.full(), want)
		}
	}
	l.observe(signalSuccess)
	if l.cur != 8 {
		t.Errorf("a success at the maximum made the limit %d, want it to stay 8", l.cur)
	}
	// A failure midway through the recovery drops it to 1 again.
	l.observe(signalFailure)
	l.observe(signalSuccess)
	l.observe(signalSuccess)
	l.observe(signalFailure)
	if l.cur != 1 {
		t.Errorf("a failure at limit 3 left it at %d, want 1", l.cur)
	}
}
