package delivery_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"hookyard/delivery"
	"hookyard/store"
)

// The engine counts attempts by outcome and status class, and no label carries a URL or an
// id (SPEC §5 GET /metrics).
func TestEngineMetrics(t *testing.T) {
	w := newWorld(t)
	okRcv := newHookServer(t, nil)
	badRcv := newHookServer(t, status(http.StatusBadGateway))
	ok := w.hook("ok", okRcv.URL+"/hook", nil)
	bad := w.hook("bad", badRcv.URL+"/hook", nil)
	reg := prometheus.NewRegistry()
	e := w.start(engineOpts{cfg: delivery.Config{RetrySchedule: slowRetries, Metrics: delivery.NewMetrics(reg, w.st)}})
	pub := w.publish(e, w.ev("TODO_CREATED"))[0]
	w.waitStatus(w.deliveryOf(pub.ID, ok.ID).ID, store.DeliverySucceeded, 1)
	w.waitStatus(w.deliveryOf(pub.ID, bad.ID).ID, store.DeliveryPending, 1)

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
	for key, want := range map[string]float64{
		"hookyard_attempts_total outcome=success status_class=2xx": 1,
		"hookyard_attempts_total outcome=failure status_class=5xx": 1,
		"hookyard_events_published_total":                          1,
		"hookyard_deliveries_created_total":                        2,
		"hookyard_deliveries_pending":                              1,
		"hookyard_webhooks_disabled":                               0,
		"hookyard_attempt_duration_seconds count":                  2,
		"hookyard_delivery_latency_seconds count":                  1,
	} {
		if got, found := values[key]; !found || got != want {
			t.Errorf("%s = %v (present: %v), want %v", key, got, found, want)
		}
	}
	series := 0
	for key := range values {
		if strings.HasPrefix(key, "hookyard_attempts_total") {
			series++
		}
	}
	if series != 2 {
		t.Errorf("hookyard_attempts_total has %d series, want 2: %v", series, values)
	}
}
