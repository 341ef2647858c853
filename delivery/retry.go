package delivery

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"hookyard/store"
)

// RetryPolicy decides when a failed attempt is tried again: after the schedule's delay for
// that attempt (SPEC §2: 10s, 1m, 10m, 1h by default) with ±10 % jitter, counted from the
// end of the attempt, or later when the receiver asked with Retry-After.
type RetryPolicy struct {
	Schedule []time.Duration // delays before attempts 2..n
	// Jitter returns a number in [0, 1); nil means math/rand.
	Jitter func() float64
}

// MaxAttempts is the number of tries a delivery gets: the first, then one per delay.
func (p RetryPolicy) MaxAttempts() int { return len(p.Schedule) + 1 }

// Next returns when the attempt after attempt number n is due, given the receiver's
// Retry-After (0 when none; already capped at an hour) and when attempt n finished.
func (p RetryPolicy) Next(n int, retryAfter time.Duration, finishedAt time.Time) time.Time {
	base := p.Schedule[min(max(n, 1)-1, len(p.Schedule)-1)]
	jitter := p.Jitter
	if jitter == nil {
		jitter = rand.Float64
	}
	d := time.Duration(float64(base) * (0.9 + 0.2*jitter()))
	return finishedAt.Add(max(d, retryAfter))
}

// verdict is what one attempt's result means for its delivery.
type verdict struct {
	status        store.DeliveryStatus // pending (try again), succeeded, or failed
	disableReason string               // set when the webhook must be switched off
}

// classify judges attempt number n of maxAttempts from its result. It is pure: no clock,
// no store.
func classify(res Result, n, maxAttempts int, eventType string) verdict {
	switch {
	case res.OK():
		return verdict{status: store.DeliverySucceeded}
	case res.StatusCode == http.StatusGone:
		return verdict{status: store.DeliveryFailed, disableReason: fmt.Sprintf(
			"The receiver answered 410 Gone for %s, which means it no longer wants these requests.", eventType)}
	case n >= maxAttempts:
		return verdict{status: store.DeliveryFailed, disableReason: fmt.Sprintf(
			"%d attempts failed for %s: %s", n, eventType, res.Error)}
	}
	return verdict{status: store.DeliveryPending}
}
