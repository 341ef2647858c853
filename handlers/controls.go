package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"hookyard/store"
)

// The sending controls of a webhook (SPEC §9) other than filters and headers: pacing.

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
