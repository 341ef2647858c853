package delivery

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hookyard/store"
)

// Metrics are the engine's Prometheus figures (README, "Metrics"). Labels never hold URLs or
// ids. A scrape never queries the database: the figures kept there (the backlog, switched-off
// webhooks, whether the database answers) are read in the background every RefreshEvery.
type Metrics struct {
	st           *store.Store
	refreshEvery time.Duration

	eventsPublished  prometheus.Counter
	deliveriesMade   prometheus.Counter
	attempts         *prometheus.CounterVec // outcome, cause
	retries          *prometheus.CounterVec // attempt
	finished         *prometheus.CounterVec // status
	switchedOffTotal *prometheus.CounterVec // reason
	inFlight         prometheus.Gauge
	attemptDuration  prometheus.Histogram
	endToEnd         prometheus.Histogram
	clusterNodes     prometheus.Gauge
	shardsHeld       prometheus.Gauge

	mu       sync.Mutex
	pending  int
	oldest   *time.Time
	disabled int
	storeUp  bool
	known    bool // the figures above have been read once
	// writesFailing reports whether the engine is in a write fault episode (set by the engine).
	writesFailing func() bool
}

// MetricsConfig shapes the figures to the engine's settings; zero values take the defaults
// of SPEC §6.
type MetricsConfig struct {
	RetrySchedule  []time.Duration
	RequestTimeout time.Duration
	Workers        int           // the global cap of requests in flight
	RefreshEvery   time.Duration // how often the figures kept in the database are read (5 s)
}

// NewMetrics registers the engine's figures on reg. Engine.Start refreshes the figures kept
// in the database in the background.
func NewMetrics(reg prometheus.Registerer, st *store.Store, cfgs ...MetricsConfig) *Metrics {
	var cfg MetricsConfig
	if len(cfgs) > 0 {
		cfg = cfgs[0]
	}
	if cfg.RetrySchedule == nil {
		cfg.RetrySchedule = []time.Duration{10 * time.Second, time.Minute, 10 * time.Minute, time.Hour}
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 256
	}
	if cfg.RefreshEvery <= 0 {
		cfg.RefreshEvery = 5 * time.Second
	}
	m := &Metrics{
		st: st, refreshEvery: cfg.RefreshEvery,
		eventsPublished: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookyard_events_published_total", Help: "Events accepted for delivery."}),
		deliveriesMade: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookyard_deliveries_created_total", Help: "Deliveries created by publishing (one per event and receiving webhook)."}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookyard_attempts_total",
			Help: "HTTP attempts by outcome (success, failure) and cause: the status class of the answer (2xx, 3xx, 4xx, 5xx), " +
				"or without one timeout, refused, reset, closed, dns, tls, blocked (outbound guard) or other."},
			[]string{"outcome", "cause"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookyard_retries_total", Help: "Attempts after the first, by attempt number (2 to 5)."},
			[]string{"attempt"}),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookyard_deliveries_finished_total",
			Help: "Deliveries the sender finished, by final status: succeeded, failed (attempts exhausted or 410), " +
				"cancelled (at its turn the webhook was off, deleted or no longer receiving the event)."},
			[]string{"status"}),
		switchedOffTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookyard_webhooks_switched_off_total",
			Help: "Webhooks the sender switched off, by reason: failures (a delivery's last attempt failed) or gone (410)."},
			[]string{"reason"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hookyard_requests_in_flight", Help: "Requests to receivers being made now (deliveries, test sends, health checks)."}),
		attemptDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hookyard_attempt_duration_seconds", Help: "Time from sending a request to its answer (at most the request timeout).",
			Buckets: attemptBuckets(cfg.RequestTimeout)}),
		endToEnd: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hookyard_delivery_latency_seconds",
			Help:    "Time from publishing an event to a receiver accepting it; the buckets above the request timeout end where each retry of the schedule lands.",
			Buckets: deliveryBuckets(cfg.RetrySchedule, cfg.RequestTimeout)}),
	}
	for _, s := range []string{"succeeded", "failed", "cancelled"} {
		m.finished.WithLabelValues(s)
	}
	for _, r := range []string{"failures", "gone"} {
		m.switchedOffTotal.WithLabelValues(r)
	}
	cached := func(name, help string, f func() float64) prometheus.GaugeFunc {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			m.mu.Lock()
			defer m.mu.Unlock()
			if !m.known {
				return 0
			}
			return f()
		})
	}
	m.clusterNodes = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "hookyard_cluster_nodes", Help: "Nodes serving this database, as this node last saw them (1 under SQLite)."})
	m.clusterNodes.Set(1)
	m.shardsHeld = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "hookyard_shards_held", Help: "Shards of the webhooks this node sends (of 64; all of them under SQLite)."})
	m.shardsHeld.Set(64)
	reg.MustRegister(m.clusterNodes, m.shardsHeld)
	reg.MustRegister(m.eventsPublished, m.deliveriesMade, m.attempts, m.retries, m.finished, m.switchedOffTotal,
		m.inFlight, m.attemptDuration, m.endToEnd,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hookyard_requests_in_flight_limit",
			Help: "The most requests in flight across all webhooks (--workers)."}, func() float64 { return float64(cfg.Workers) }),
		cached("hookyard_deliveries_pending", "Deliveries waiting for an attempt (read every few seconds).",
			func() float64 { return float64(m.pending) }),
		cached("hookyard_oldest_due_delivery_age_seconds", "How long the oldest due delivery has waited (0 when none is due).",
			func() float64 {
				if m.oldest == nil {
					return 0
				}
				return time.Since(*m.oldest).Seconds()
			}),
		cached("hookyard_webhooks_disabled", "Webhooks that are switched off (read every few seconds).",
			func() float64 { return float64(m.disabled) }),
		cached("hookyard_store_up", "1 when the database answered the last check (every few seconds), else 0.",
			func() float64 { return boolFloat(m.storeUp) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hookyard_store_writes_failing",
			Help: "1 while the database refuses writes (disk full, read-only, locked) and the engine waits for it, else 0."},
			func() float64 {
				m.mu.Lock()
				failing := m.writesFailing
				m.mu.Unlock()
				return boolFloat(failing != nil && failing())
			}),
	)
	return m
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// attemptBuckets fit one request: milliseconds up to the request timeout, which ends every
// attempt that got no answer.
func attemptBuckets(timeout time.Duration) []float64 {
	var out []float64
	for _, b := range []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120} {
		if b < timeout.Seconds() {
			out = append(out, b)
		}
	}
	return append(out, timeout.Seconds())
}

// deliveryBuckets fit the whole way from publish to acceptance: the attempt buckets for the
// first attempt, then one edge after each retry of the schedule could have been answered
// (its delay, plus 10 % jitter and a request timeout per attempt so far), so a histogram
// says how many deliveries needed how many attempts.
func deliveryBuckets(schedule []time.Duration, timeout time.Duration) []float64 {
	out := attemptBuckets(timeout)
	var wait time.Duration
	for i, d := range schedule {
		wait += d
		edge := (wait + wait/10 + time.Duration(i+2)*timeout).Seconds()
		if edge > out[len(out)-1] {
			out = append(out, edge)
		}
	}
	return out
}

// run refreshes the figures kept in the database until stop is closed.
func (m *Metrics) run(stop <-chan struct{}) {
	if m == nil {
		return
	}
	t := time.NewTicker(m.refreshEvery)
	defer t.Stop()
	for {
		m.refresh()
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

func (m *Metrics) refresh() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	up := m.st.Ping(ctx) == nil
	pending, oldest, err := m.st.PendingStats(ctx, "")
	disabled, err2 := m.st.CountDisabledWebhooks(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.storeUp, m.known = up, true
	if err == nil {
		m.pending, m.oldest = pending, oldest
	}
	if err2 == nil {
		m.disabled = disabled
	}
}

// watchWrites lets the figures say when the engine cannot write.
func (m *Metrics) watchWrites(failing func() bool) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.writesFailing = failing
	m.mu.Unlock()
}

func (m *Metrics) published(events, deliveries int) {
	if m == nil {
		return
	}
	m.eventsPublished.Add(float64(events))
	m.deliveriesMade.Add(float64(deliveries))
}

// sending counts a request to a receiver as in flight until the returned func is called.
func (m *Metrics) sending() func() {
	if m == nil {
		return func() {}
	}
	m.inFlight.Inc()
	return m.inFlight.Dec
}

// attempted counts one attempt (number n) of a delivery and, when it settled it, its status.
func (m *Metrics) attempted(r Result, n int, status store.DeliveryStatus, created time.Time) {
	if m == nil {
		return
	}
	outcome, cause := "failure", r.Cause
	if r.OK() {
		outcome = "success"
	}
	if cause == "" {
		cause = CauseOther
	}
	m.attempts.WithLabelValues(outcome, cause).Inc()
	if n > 1 {
		m.retries.WithLabelValues(strconv.Itoa(n)).Inc()
	}
	m.attemptDuration.Observe(r.Duration.Seconds())
	if status != store.DeliveryPending {
		m.finished.WithLabelValues(string(status)).Inc()
	}
	if status == store.DeliverySucceeded {
		m.endToEnd.Observe(time.Since(created).Seconds())
	}
}

// cancelled counts a delivery cancelled at its turn.
func (m *Metrics) cancelled() {
	if m == nil {
		return
	}
	m.finished.WithLabelValues(string(store.DeliveryCancelled)).Inc()
}

// switchedOff counts webhooks the sender switched off: those of disabled whose outcome in
// batch asked for it, by reason.
func (m *Metrics) switchedOff(disabled []string, batch []store.AttemptOutcome) {
	if m == nil {
		return
	}
	for _, o := range batch {
		if o.DisableReason == "" || !slices.Contains(disabled, o.Attempt.WebhookID) {
			continue
		}
		reason := "failures"
		if o.Attempt.StatusCode == 410 {
			reason = "gone"
		}
		m.switchedOffTotal.WithLabelValues(reason).Inc()
		disabled = slices.DeleteFunc(slices.Clone(disabled), func(id string) bool { return id == o.Attempt.WebhookID })
	}
}

func (m *Metrics) clusterSeen(nodes, shards int) {
	if m == nil {
		return
	}
	m.clusterNodes.Set(float64(nodes))
	m.shardsHeld.Set(float64(shards))
}
