package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"hookyard/store"
)

// The sending controls of a webhook (SPEC §9) other than filters and headers: pacing and
// ordering.

// Pacing bounds (SPEC §9 rateLimitPerSecond).
const (
	minRate = 0.1
	maxRate = 10000
)

// rateProblem says what is wrong with a rate, or "".
func rateProblem(r float64) string {
	if r < minRate || r > maxRate {
		return "Give a number of requests per second from 0.1 to 10000, or leave it empty (null in the API) for no limit."
	}
	return ""
}

// readRate reads the API's "rateLimitPerSecond": absent leaves it, null removes the limit.
func readRate(raw json.RawMessage, fe fieldErrors) store.Setting[*float64] {
	if len(raw) == 0 {
		return store.Setting[*float64]{}
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return store.Setting[*float64]{Set: true}
	}
	var r float64
	if err := json.Unmarshal(raw, &r); err != nil {
		fe.add("rateLimitPerSecond", rateProblem(0))
		return store.Setting[*float64]{}
	}
	fe.add("rateLimitPerSecond", rateProblem(r))
	return store.Setting[*float64]{Set: true, To: &r}
}

// numberText writes a rate as a person would: "5", "2.5", "0.1".
func numberText(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) }

// orderingText says how an ordered webhook's queue stands: what the oldest pending delivery
// waits for, and how many wait behind it. head is nil when nothing is pending.
func orderingText(head *store.Delivery, waiting int, now time.Time) string {
	out := "Sent one at a time, in publish order."
	if head == nil {
		return out
	}
	behind := waiting - 1
	switch {
	case behind <= 0 && head.Attempts == 0:
		return out
	case head.Attempts > 0 && head.NextAttemptAt != nil && head.NextAttemptAt.After(now):
		return out + fmt.Sprintf(" %s back behind a delivery waiting for its retry at %s (attempt %d failed: %s).",
			countText(behind, waiting > waitingCap, "delivery is held", "deliveries are held"),
			head.NextAttemptAt.UTC().Format("15:04:05 UTC"), head.Attempts, head.LastError)
	}
	return out + " " + countText(behind, waiting > waitingCap, "delivery waits its turn", "deliveries wait their turn") + "."
}

// countText is "1 delivery waits", "3 deliveries wait", "more than 10000 deliveries wait".
func countText(n int, capped bool, one, many string) string {
	switch {
	case capped:
		return fmt.Sprintf("More than %d %s", waitingCap, many)
	case n == 1:
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// waitingCap bounds the count of waiting deliveries a page shows.
const waitingCap = 10000

// pacingText says how a paced webhook is doing: "Paced at 5 per second; 120 waiting."
func pacingText(rate *float64, waiting int) string {
	if rate == nil {
		return ""
	}
	out := "Paced at " + numberText(*rate) + " per second"
	if *rate < 1 {
		out += fmt.Sprintf(" (one request every %s seconds)", numberText(1 / *rate))
	}
	switch {
	case waiting > waitingCap:
		out += fmt.Sprintf("; more than %d waiting", waitingCap)
	case waiting > 0:
		out += fmt.Sprintf("; %d waiting", waiting)
	default:
		out += "; none waiting"
	}
	return out + "."
}
