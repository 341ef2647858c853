package delivery_test

import (
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hookyard/delivery"
	"hookyard/store"
)

// gather reads every figure of reg as "name label=value …" → value (a histogram as its count),
// failing t when a label carries a URL or an id (SPEC §5 GET /metrics).
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				key += " " + l.GetName() + "=" + l.GetValue()
				v := strings.ToLower(l.GetValue())
				for _, bad := range []string{"http", "wh_", "dlv_", "evt_", "127.0.0.1"} {
					if strings.Contains(v, bad) {
						t.Errorf("%s: label %s=%q contains %q", f.GetName(), l.GetName(), l.GetValue(), bad)
					}
				}
			}
			switch {
			case m.GetCounter() != nil:
				values[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				values[key] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				values[key+" count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return values
}

// wantFigures waits until every figure has its value (the store's are read in the background).
func wantFigures(t *testing.T, reg *prometheus.Registry, want map[string]float64) map[string]float64 {
	t.Helper()
	var values map[string]float64
	deadline := time.Now().Add(10 * time.Second)
	for {
		values = gather(t, reg)
		var wrong []string
		for key, v := range want {
			if got, found := values[key]; !found || got != v {
				wrong = append(wrong, key)
			}
		}
		if len(wrong) == 0 {
			return values
		}
		if time.Now().After(deadline) {
			slices.Sort(wrong)
			for _, key := range wrong {
				got, found := values[key]
				t.Errorf("%s = %v (present: %v), want %v", key, got, found, want[key])
			}
			return values
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The engine counts attempts by outcome and cause, finished deliveries by status, and reads
// the backlog and the store's health in the background, not at every scrape.
func TestEngineMetrics(t *testing.T) {
	w := newWorld(t)
	okRcv := newHookServer(t, nil)
	badRcv := newHookServer(t, status(http.StatusBadGateway))
	ok := w.hook("ok", okRcv.URL+"/hook", nil)
	bad := w.hook("bad", badRcv.URL+"/hook", nil)
	reg := prometheus.NewRegistry()
	m := delivery.NewMetrics(reg, w.st, delivery.MetricsConfig{Workers: 16, RefreshEvery: 20 * time.Millisecond})
	e := w.start(engineOpts{cfg: delivery.Config{RetrySchedule: slowRetries, Workers: 16, Metrics: m}})
	pub := w.publish(e, w.ev("TODO_CREATED"))[0]
	w.waitStatus(w.deliveryOf(pub.ID, ok.ID).ID, store.DeliverySucceeded, 1)
	w.waitStatus(w.deliveryOf(pub.ID, bad.ID).ID, store.DeliveryPending, 1)

	values := wantFigures(t, reg, map[string]float64{
		"hookyard_attempts_total cause=2xx outcome=success":    1,
		"hookyard_attempts_total cause=5xx outcome=failure":    1,
		"hookyard_events_published_total":                      1,
		"hookyard_deliveries_created_total":                    2,
		"hookyard_deliveries_finished_total status=succeeded":  1,
		"hookyard_deliveries_finished_total status=failed":     0,
		"hookyard_deliveries_pending":                          1,
		"hookyard_webhooks_disabled":                           0,
		"hookyard_webhooks_switched_off_total reason=failures": 0,
		"hookyard_requests_in_flight":                          0,
		"hookyard_requests_in_flight_limit":                    16,
		"hookyard_store_up":                                    1,
		"hookyard_store_writes_failing":                        0,
		"hookyard_attempt_duration_seconds count":              2,
		"hookyard_delivery_latency_seconds count":              1,
	})
	series := 0
	for key := range values {
		if strings.HasPrefix(key, "hookyard_attempts_total") || strings.HasPrefix(key, "hookyard_retries_total") {
			series++
		}
	}
	if series != 2 {
		t.Errorf("hookyard_attempts_total and hookyard_retries_total have %d series, want 2: %v", series, values)
	}
}

// Failures are counted by cause, retries by attempt number, exhausted and gone deliveries as
// failed, and the webhooks switched off by reason.
func TestEngineMetricsFailures(t *testing.T) {
	w := newWorld(t)
	down := newHookServer(t, status(http.StatusInternalServerError))
	gone := newHookServer(t, status(http.StatusGone))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/hook"
	l.Close()
	hooks := []store.Webhook{w.hook("down", down.URL+"/hook", nil), w.hook("gone", gone.URL+"/hook", nil), w.hook("closed", closed, nil)}
	reg := prometheus.NewRegistry()
	m := delivery.NewMetrics(reg, w.st, delivery.MetricsConfig{RefreshEvery: 20 * time.Millisecond})
	e := w.start(engineOpts{cfg: delivery.Config{Metrics: m}})
	pub := w.publish(e, w.ev("TODO_CREATED"))[0]
	for h, attempts := range map[int]int{0: 5, 1: 1, 2: 5} {
		w.waitStatus(w.deliveryOf(pub.ID, hooks[h].ID).ID, store.DeliveryFailed, attempts)
		waitUntil(t, hooks[h].Name+" is switched off", func() bool { return !w.webhook(hooks[h].ID).Enabled })
	}
	wantFigures(t, reg, map[string]float64{
		"hookyard_attempts_total cause=5xx outcome=failure":     5,
		"hookyard_attempts_total cause=4xx outcome=failure":     1,
		"hookyard_attempts_total cause=refused outcome=failure": 5,
		"hookyard_retries_total attempt=2":                      2,
		"hookyard_retries_total attempt=5":                      2,
		"hookyard_deliveries_finished_total status=failed":      3,
		"hookyard_webhooks_switched_off_total reason=failures":  2,
		"hookyard_webhooks_switched_off_total reason=gone":      1,
		"hookyard_webhooks_disabled":                            3,
		"hookyard_deliveries_pending":                           0,
	})
}

// The latency buckets fit the retry schedule: after those of one attempt (up to the request
// timeout), one edge for each retry, where a delivery answered at that attempt lands.
func TestMetricsBucketsFitTheRetrySchedule(t *testing.T) {
	w := newWorld(t)
	reg := prometheus.NewRegistry()
	delivery.NewMetrics(reg, w.st) // the defaults: 10 s timeout, 10s,1m,10m,1h
	bounds := map[string][]float64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if h := f.GetMetric()[0].GetHistogram(); h != nil {
			for _, b := range h.GetBucket() {
				bounds[f.GetName()] = append(bounds[f.GetName()], b.GetUpperBound())
			}
		}
	}
	attempt, latency := bounds["hookyard_attempt_duration_seconds"], bounds["hookyard_delivery_latency_seconds"]
	if len(attempt) == 0 || attempt[0] > 0.001 || attempt[len(attempt)-1] != 10 {
		t.Errorf("attempt buckets %v, want milliseconds up to the 10 s timeout", attempt)
	}
	// 10 s + 10 % jitter + a timeout for each attempt so far, and so on for 1m, 10m, 1h.
	for _, edge := range []float64{31, 107, 777, 4747} {
		if !slices.Contains(latency, edge) {
			t.Errorf("latency buckets %v have no edge at %v s", latency, edge)
		}
	}
	if latency[len(latency)-1] != 4747 {
		t.Errorf("latency buckets %v go past the last retry", latency)
	}
}

// A scrape reads no database: the backlog figure is the one read in the background, however
// often it is scraped in between.
func TestMetricsScrapeReadsNoDatabase(t *testing.T) {
	w := newWorld(t)
	rcv := newHookServer(t, status(http.StatusBadGateway))
	h := w.hook("bad", rcv.URL+"/hook", nil)
	reg := prometheus.NewRegistry()
	m := delivery.NewMetrics(reg, w.st, delivery.MetricsConfig{RefreshEvery: time.Hour})
	e := w.start(engineOpts{cfg: delivery.Config{RetrySchedule: slowRetries, Metrics: m}})
	wantFigures(t, reg, map[string]float64{"hookyard_store_up": 1, "hookyard_deliveries_pending": 0})
	pub := w.publish(e, w.ev("TODO_CREATED"))[0]
	w.waitStatus(w.deliveryOf(pub.ID, h.ID).ID, store.DeliveryPending, 1)
	for range 5 {
		if got := gather(t, reg)["hookyard_deliveries_pending"]; got != 0 {
			t.Fatalf("hookyard_deliveries_pending = %v at a scrape, want the 0 read at start (the next read is an hour away)", got)
		}
	}
}
