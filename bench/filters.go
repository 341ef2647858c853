package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// The payload filter run (SPEC §9): fan-out to 1000 filtered webhooks, and the latency of a
// filtered webhook. Filters are compiled once per webhook when the server loads it, so what
// is measured here is the evaluation per event.

// passingFilter holds for every bench event (eventBody): three conditions of the kinds people
// write, on text, a yes/no and a number.
var passingFilter = map[string]any{"match": "all", "conditions": []map[string]any{
	{"path": "currentValue.name", "op": "startsWith", "value": "Write"},
	{"path": "currentValue.done", "op": "eq", "value": false},
	{"path": "currentValue.id", "op": "gte", "value": 0},
}}

// failingFilter leaves every bench event out, at its last condition.
var failingFilter = map[string]any{"match": "all", "conditions": []map[string]any{
	{"path": "currentValue.name", "op": "contains", "value": "report"},
	{"path": "event", "op": "in", "value": []string{"TODO_CREATED", "TODO_MOVED"}},
	{"path": "currentValue.done", "op": "eq", "value": true},
}}

func (b *bench) filteredWebhook(name, url string, filter map[string]any) (string, error) {
	var w struct{ ID string }
	err := b.api.do("POST", "/webhooks", map[string]any{"name": name, "url": url, "events": []string{}, "projectIds": []string{},
		"filter": filter}, &w, 201)
	return w.ID, err
}

// filters runs both measurements, with the bench's own first webhook (receiver) switched off
// so that only filtered webhooks receive.
func (b *bench) filters(receiver string) error {
	if err := b.api.do("POST", "/webhooks/"+receiver+"/disable", nil, nil, 200); err != nil {
		return err
	}
	if err := b.filteredLatency(); err != nil {
		return err
	}
	b.settle()
	return b.filteredFanOut()
}

// filteredLatency is the latency run for one filtered webhook.
func (b *bench) filteredLatency() error {
	id, err := b.filteredWebhook("Filtered", b.recv.url+"/filtered", passingFilter)
	if err != nil {
		return err
	}
	defer func() { _ = b.api.do("DELETE", "/webhooks/"+id, nil, nil, 204) }()
	b.recv.reset(true)
	defer b.recv.setTracking(false)
	d := min(b.o.latency, 10*time.Second)
	starts, err := b.steady(b.o.latencyRate, d)
	if err != nil {
		return err
	}
	lat, err := b.latencies(starts, id)
	if err != nil {
		return err
	}
	p50, p99 := pct(lat, 50), pct(lat, 99)
	b.fig.FilteredLatencyP99Ms = ms(p99)
	b.rep.add("filtered_latency_p99_ms", fmt.Sprintf("%.2f ms", ms(p99)), "< 10 ms", check(ms(p99) < 10),
		fmt.Sprintf("a webhook with a 3-condition filter, %d events/s for %s; p50 %.2f ms", b.o.latencyRate, d, ms(p50)))
	return nil
}

// filteredFanOut is the fan-out run with a filter on every webhook: fanout webhooks whose
// filter passes, and as many whose filter fails (evaluated, not sent), for one event at a
// time until the last passing one has it; three rounds, the median counts.
func (b *bench) filteredFanOut() error {
	n := b.o.fanout
	ids := make([]string, 2*n)
	created := time.Now()
	if err := parallel(2*n, 8, func(i int) error {
		var err error
		if i < n {
			ids[i], err = b.filteredWebhook(fmt.Sprintf("Filtered fan-out %04d", i), b.recv.url+"/fanout-filtered", passingFilter)
		} else {
			ids[i], err = b.filteredWebhook(fmt.Sprintf("Filtered out %04d", i), b.recv.url+"/filtered-out", failingFilter)
		}
		return err
	}); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "  created %d filtered webhooks in %s\n", 2*n, time.Since(created).Round(time.Millisecond))
	defer func() {
		_ = parallel(2*n, 8, func(i int) error { return b.api.do("DELETE", "/webhooks/"+ids[i], nil, nil, 204) })
	}()
	b.recv.reset(true)
	defer b.recv.setTracking(false)
	var rounds []time.Duration
	for range 3 {
		start := time.Now()
		id, _, err := b.publishOne(b.api)
		if err != nil {
			return err
		}
		last, err := b.recv.waitEvent(id, n, 60*time.Second)
		if err != nil {
			return err
		}
		rounds = append(rounds, last.Sub(start))
	}
	med := slices.Clone(rounds)
	slices.Sort(med)
	b.fig.Fanout1000FilteredMs = ms(med[1])
	each := make([]string, len(rounds))
	for i, r := range rounds {
		each[i] = fmt.Sprintf("%.0f", ms(r))
	}
	b.rep.add("fanout_1000_filtered_ms", fmt.Sprintf("%.0f ms", ms(med[1])), "< 1000 ms", check(ms(med[1]) < 1000),
		fmt.Sprintf("one event to %d webhooks whose filter passes, beside %d whose filter fails, until the last arrives; median of 3 rounds: %s ms",
			n, n, strings.Join(each, ", ")))
	return nil
}
