package delivery

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hookyard/store"
)

// Metrics are the engine's Prometheus figures. Labels never hold URLs or ids.
type Metrics struct {
	eventsPublished prometheus.Counter
	deliveriesMade  prometheus.Counter
	attempts        *prometheus.CounterVec
	attemptDuration prometheus.Histogram
	endToEnd        prometheus.Histogram
	clusterNodes    prometheus.Gauge
	shardsHeld      prometheus.Gauge
}

// NewMetrics registers the engine's figures, and gauges read from the store at scrape time,
// on reg.
func NewMetrics(reg prometheus.Registerer, st *store.Store) *Metrics {
	m := &Metrics{
		eventsPublished: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookyard_events_published_total", Help: "Events accepted for delivery."}),
		deliveriesMade: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookyard_deliveries_created_total", Help: "Deliveries created by publishing (one per event and receiving webhook)."}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookyard_attempts_total", Help: "HTTP attempts by outcome (success, failure) and status class (2xx…5xx, none)."},
			[]string{"outcome", "status_class"}),
		attemptDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hookyard_attempt_duration_seconds", Help: "Time from sending a request to its answer.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14)}),
		endToEnd: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hookyard_delivery_latency_seconds", Help: "Time from publishing an event to a receiver accepting it.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 16)}),
	}
	gauge := func(name, help string, f func(pending int, oldest *time.Time, disabled int) float64) prometheus.GaugeFunc {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			pending, oldest, err := st.PendingStats(ctx, "")
			if err != nil {
				return -1
			}
			disabled, err := st.CountDisabledWebhooks(ctx)
			if err != nil {
				return -1
			}
			return f(pending, oldest, disabled)
		})
	}
	m.clusterNodes = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "hookyard_cluster_nodes", Help: "Nodes serving this database, as this node last saw them (1 under SQLite)."})
	m.clusterNodes.Set(1)
	m.shardsHeld = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "hookyard_shards_held", Help: "Shards of the webhooks this node sends (of 64; all of them under SQLite)."})
	m.shardsHeld.Set(64)
	reg.MustRegister(m.clusterNodes, m.shardsHeld)
	reg.MustRegister(m.eventsPublished, m.deliveriesMade, m.attempts, m.attemptDuration, m.endToEnd,
		gauge("hookyard_deliveries_pending", "Deliveries waiting for an attempt.",
			func(p int, _ *time.Time, _ int) float64 { return float64(p) }),
		gauge("hookyard_oldest_due_delivery_age_seconds", "How long the oldest due delivery has waited (0 when none is due).",
			func(_ int, o *time.Time, _ int) float64 {
				if o == nil {
					return 0
				}
				return time.Since(*o).Seconds()
			}),
		gauge("hookyard_webhooks_disabled", "Webhooks that are switched off.",
			func(_ int, _ *time.Time, d int) float64 { return float64(d) }),
	)
	return m
}

func (m *Metrics) published(events, deliveries int) {
	if m == nil {
		return
	}
	m.eventsPublished.Add(float64(events))
	m.deliveriesMade.Add(float64(deliveries))
}

func (m *Metrics) attempted(r Result, delivered bool, created time.Time) {
	if m == nil {
		return
	}
	outcome, class := "failure", "none"
	if r.OK() {
		outcome = "success"
	}
	if r.StatusCode > 0 {
		class = strconv.Itoa(r.StatusCode/100) + "xx"
	}
	m.attempts.WithLabelValues(outcome, class).Inc()
	m.attemptDuration.Observe(r.Duration.Seconds())
	if delivered {
		m.endToEnd.Observe(time.Since(created).Seconds())
	}
}

func (m *Metrics) clusterSeen(nodes, shards int) {
	if m == nil {
		return
	}
	m.clusterNodes.Set(float64(nodes))
	m.shardsHeld.Set(float64(shards))
}
