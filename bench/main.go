// Command bench measures Hookyard as a whole program: it builds the binary, starts it on a
// fresh temporary database with a real HTTP receiver on loopback, drives it through the JSON
// API and prints the figures of the delivery engine's targets as a table, then one line of
// JSON. Run it with `make bench` (or `go run ./bench -h` for the knobs).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"
)

type options struct {
	throughput  time.Duration
	latency     time.Duration
	latencyRate int
	isolation   time.Duration
	fanout      int
	baselineC   int
	maxBacklog  int64
	cpuProfile  string
	profilePart string
	keep        bool
	runs        string
	latencyCSV  string
	serveFlags  string
}

func main() {
	var o options
	flag.DurationVar(&o.throughput, "throughput-duration", 5*time.Second, "measuring window of each throughput run (after 1s of warm-up)")
	flag.DurationVar(&o.latency, "latency-duration", 20*time.Second, "length of the steady-rate latency run")
	flag.IntVar(&o.latencyRate, "latency-rate", 200, "events per second in the latency and isolation runs")
	flag.DurationVar(&o.isolation, "isolation-duration", 5*time.Second, "length of the isolation run")
	flag.IntVar(&o.fanout, "fanout-webhooks", 1000, "webhooks in the fan-out run")
	flag.IntVar(&o.baselineC, "baseline-concurrency", 8, "concurrent posters for the raw baseline (Hookyard's default per-webhook limit is 8)")
	flag.Int64Var(&o.maxBacklog, "max-backlog", 20000, "publishers pause while more deliveries than this wait to arrive")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the server to this file (builds it with a pprof listener)")
	flag.StringVar(&o.profilePart, "profile-run", "mixed", "run to profile: single, batch, mixed, latency or isolation")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (database, server log)")
	flag.StringVar(&o.latencyCSV, "latency-csv", "", "write each event of the latency run (publish start in Unix ns, latency in µs) to this file")
	flag.StringVar(&o.serveFlags, "serve-flags", "", "extra flags for hookyard serve, space-separated (e.g. \"--per-webhook-concurrency 32\")")
	flag.StringVar(&o.runs, "runs", "baseline,throughput,latency,fanout,isolation,page,filters", "runs to make, comma-separated (figures of the others are 0)")
	flag.Parse()
	for _, r := range strings.Split(o.runs, ",") {
		if !slices.Contains([]string{"baseline", "throughput", "latency", "fanout", "isolation", "page", "filters"}, r) {
			fmt.Fprintf(os.Stderr, "bench: -runs: unknown run %q\n", r)
			os.Exit(2)
		}
	}
	if o.cpuProfile != "" && !slices.Contains([]string{"single", "batch", "mixed", "latency", "isolation"}, o.profilePart) {
		fmt.Fprintf(os.Stderr, "bench: -profile-run: unknown run %q\n", o.profilePart)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// figures is the final JSON line; the keys are fixed by the issue.
type figures struct {
	BaselinePostPerS float64 `json:"baseline_post_per_s"`
	DeliveriesPerS   float64 `json:"deliveries_per_s"`
	DeliveriesRatio  float64 `json:"deliveries_ratio"`
	LatencyP50Ms     float64 `json:"latency_p50_ms"`
	LatencyP95Ms     float64 `json:"latency_p95_ms"`
	LatencyP99Ms     float64 `json:"latency_p99_ms"`
	Fanout1000Ms     float64 `json:"fanout_1000_ms"`
	IsolationP99Ms   float64 `json:"isolation_p99_ms"`
	PeakRSSMB        float64 `json:"peak_rss_mb"`
	// From the health issue: the webhook page with a million attempts stored.
	WebhookPageMs1MAttempts float64 `json:"webhook_page_ms_1m_attempts"`
	// From the delivery-controls issue (bench/filters.go).
	Fanout1000FilteredMs float64 `json:"fanout_1000_filtered_ms"`
	FilteredLatencyP99Ms float64 `json:"filtered_latency_p99_ms"`
}

// row is one line of the printed table.
type row struct{ name, value, target, verdict, note string }

type report struct{ rows []row }

func (r *report) add(name, value, target string, ok *bool, note ...string) {
	v := ""
	if ok != nil {
		v = "ok"
		if !*ok {
			v = "MISSED"
		}
	}
	r.rows = append(r.rows, row{name, value, target, v, strings.Join(note, "; ")})
	fmt.Fprintf(os.Stderr, "  %s: %s %s\n", name, value, strings.Join(note, "; "))
}

func check(b bool) *bool { return &b }

func run(o options) error {
	dir, err := os.MkdirTemp("", "bench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(os.Stderr, "keeping", dir)
	} else {
		defer os.RemoveAll(dir)
		// Ctrl-C: the server dies with this program (Pdeathsig); the directory goes too.
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		go func() {
			<-sig
			os.RemoveAll(dir)
			os.Exit(130)
		}()
	}
	fmt.Fprintln(os.Stderr, "building the server…")
	bin := filepath.Join(dir, "server-under-bench")
	if err := build(bin, dir, o.cpuProfile != ""); err != nil {
		return err
	}
	db := filepath.Join(dir, "h.db")
	if _, err := command(bin, "user", "add", "--db", db, "--email", "bench@example.com", "--name", "Bench", "--admin", "--password", "bench password"); err != nil {
		return err
	}
	out, err := command(bin, "token", "add", "--db", db, "--email", "bench@example.com", "--name", "bench")
	if err != nil {
		return err
	}
	token := strings.TrimSpace(out)

	recv, err := startReceiver()
	if err != nil {
		return err
	}
	defer recv.close()
	hold, err := startHold()
	if err != nil {
		return err
	}
	defer hold.close()

	srv, err := startServer(bin, db, filepath.Join(dir, "server.log"), o.cpuProfile != "", strings.Fields(o.serveFlags))
	if err != nil {
		return err
	}
	defer srv.stop()
	fmt.Fprintf(os.Stderr, "server pid %d at %s; receiver at %s\n", srv.cmd.Process.Pid, srv.base, recv.url)
	b := &bench{o: o, api: newClient(srv.base, token, 512), srv: srv, recv: recv, hold: hold, db: db}
	return b.all()
}

type bench struct {
	db   string // the server's database file
	o    options
	api  *client
	srv  *server
	recv *receiver
	hold *hold
	rep  report
	fig  figures
	prj  string
	// cpuNote says how busy the server and this program were during the last window.
	cpuNote string
	// pacingLag is how late the last steady run started its latest call (under its mutex).
	pacingLag time.Duration
}

// settle waits until the server has nothing pending (at most 30 s), then a second more, so
// that one run's leftovers do not land in the next one's figures.
func (b *bench) settle() {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := b.srv.metrics(); m != nil && m["hookyard_deliveries_pending"] == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)
}

// cpuMeter starts measuring the CPU time of the server and of this program; the returned
// function stops and describes it as cores in use.
func (b *bench) cpuMeter() func() string {
	start, srv0, self0 := time.Now(), cpuTime(b.srv.cmd.Process.Pid), cpuTime(os.Getpid())
	return func() string {
		wall := time.Since(start).Seconds()
		return fmt.Sprintf("CPU: server %.2f cores, bench (publishers+receiver) %.2f cores",
			(cpuTime(b.srv.cmd.Process.Pid)-srv0)/wall, (cpuTime(os.Getpid())-self0)/wall)
	}
}

// cpuTime is the user+system CPU seconds a process has used, from /proc/<pid>/stat.
func cpuTime(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which is in parentheses and may hold spaces).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ is 100 on Linux
}

func (b *bench) all() error {
	var org, prj struct{ ID string }
	if err := b.api.do("POST", "/organizations", map[string]any{"name": "Bench"}, &org, 201); err != nil {
		return err
	}
	if err := b.api.do("POST", "/projects", map[string]any{"organizationId": org.ID, "name": "Load"}, &prj, 201); err != nil {
		return err
	}
	b.prj = prj.ID
	hook, err := b.webhook("Receiver", b.recv.url+"/hook")
	if err != nil {
		return err
	}
	// One delivery first: it opens the connections and gives the baseline a real payload.
	b.recv.setTracking(true)
	if _, err := b.publishOne(b.api); err != nil {
		return err
	}
	if err := b.recv.waitTotal(1, 10*time.Second); err != nil {
		return err
	}
	b.recv.setTracking(false)

	steps := []struct {
		name string
		fn   func() error
	}{
		{"baseline", b.baseline},
		{"throughput", b.throughput},
		{"latency", b.latency},
		{"fan-out", func() error {
			// The first webhook is switched off so that only the fan-out webhooks count.
			if err := b.api.do("POST", "/webhooks/"+hook+"/disable", nil, nil, 200); err != nil {
				return err
			}
			return b.fanOut()
		}},
		{"filters", func() error { return b.filters(hook) }},
		{"isolation", b.isolation},
		{"page", func() error { return b.webhookPage(b.db) }},
	}
	for _, s := range steps {
		if !slices.Contains(strings.Split(b.o.runs, ","), strings.ReplaceAll(s.name, "-", "")) {
			continue
		}
		b.settle()
		fmt.Fprintf(os.Stderr, "== %s\n", s.name)
		if err := s.fn(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}

	rss, err := b.srv.peakRSS()
	if err != nil {
		return err
	}
	b.fig.PeakRSSMB = round(rss / (1 << 20))
	b.rep.add("peak_rss_mb", fmt.Sprintf("%.1f MB", b.fig.PeakRSSMB), "< 150 MB", check(b.fig.PeakRSSMB < 150), "VmHWM of the server process over the whole run")
	if fails, err := b.srv.failedAttempts(); err == nil {
		b.rep.add("failed attempts", strconv.Itoa(fails), "", nil, "whole run, from /metrics (the dead endpoint's are still in flight)")
	}

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nfigure\tmeasured\ttarget\t\tnotes")
	fmt.Fprintln(tw, "------\t--------\t------\t\t-----")
	for _, r := range b.rep.rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.name, r.value, r.target, r.verdict, r.note)
	}
	tw.Flush()
	line, err := json.Marshal(b.fig)
	if err != nil {
		return err
	}
	fmt.Println()
	fmt.Println(string(line))
	return nil
}

func (b *bench) webhook(name, url string) (string, error) {
	var w struct{ ID string }
	err := b.api.do("POST", "/webhooks", map[string]any{"name": name, "url": url, "events": []string{}, "projectIds": []string{}}, &w, 201)
	return w.ID, err
}

func (b *bench) eventBody(n int) map[string]any {
	return map[string]any{"event": "TODO_CREATED", "projectId": b.prj,
		"previousValue": nil, "currentValue": map[string]any{"id": n, "name": "Write the quarterly report", "done": false}}
}

var seq atomic.Int64

// publishOne publishes one event and returns its id.
func (b *bench) publishOne(c *client) (string, error) {
	var out struct {
		ID         string
		Deliveries int
	}
	err := c.do("POST", "/events", b.eventBody(int(seq.Add(1))), &out, 202)
	return out.ID, err
}

// publishBatch publishes n events at once and returns how many deliveries they made.
func (b *bench) publishBatch(c *client, n int) (int, error) {
	events := make([]any, n)
	for i := range events {
		events[i] = b.eventBody(int(seq.Add(1)))
	}
	var out struct{ Deliveries int }
	err := c.do("POST", "/events/batch", map[string]any{"events": events}, &out, 202)
	return out.Deliveries, err
}

// baseline is the receiver's raw rate: the last real payload, with its headers, posted by
// keep-alive clients as fast as they go.
func (b *bench) baseline() error {
	body, header := b.recv.sample()
	c := newClient(b.recv.url, "", 512)
	stop := make(chan struct{})
	var n atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	for range b.o.baselineC {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("POST", b.recv.url+"/baseline", bytes.NewReader(body))
				req.Header = header.Clone()
				resp, err := c.http.Do(req)
				if err != nil {
					failed.Store(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				n.Add(1)
			}
		}()
	}
	time.Sleep(time.Second)
	start, from := time.Now(), n.Load()
	time.Sleep(b.o.throughput)
	rate := float64(n.Load()-from) / time.Since(start).Seconds()
	close(stop)
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		return err
	}
	b.fig.BaselinePostPerS = round(rate)
	b.rep.add("baseline_post_per_s", fmt.Sprintf("%.0f", rate), "", nil,
		fmt.Sprintf("raw POSTs of a real payload to the same receiver, %d keep-alive clients", b.o.baselineC))
	return nil
}

// throughput publishes as fast as the server takes it (pausing while the backlog is over
// max-backlog) and counts arrivals at the receiver over a fixed window, for single publishes,
// batches of 100, and both at once.
func (b *bench) throughput() error {
	runs := []struct {
		name            string
		singles, batchs int
	}{
		{"single", 16, 0},
		{"batch", 0, 4},
		{"mixed", 8, 2},
	}
	for _, r := range runs {
		rate, pubRate, drain, err := b.throughputRun(r.name, r.singles, r.batchs)
		if err != nil {
			return fmt.Errorf("%s run: %w", r.name, err)
		}
		label := map[string]string{
			"single": fmt.Sprintf("deliveries/s, single publishes only (%d publishers)", r.singles),
			"batch":  fmt.Sprintf("deliveries/s, batches of 100 only (%d publishers)", r.batchs),
			"mixed":  fmt.Sprintf("deliveries_per_s: %d single + %d batch publishers", r.singles, r.batchs),
		}[r.name]
		ratio := 0.0
		if b.fig.BaselinePostPerS > 0 {
			ratio = rate / b.fig.BaselinePostPerS
		}
		var ok *bool
		target := ""
		if r.name == "mixed" {
			b.fig.DeliveriesPerS, b.fig.DeliveriesRatio = round(rate), math.Round(ratio*1000)/1000
			ok, target = check(rate >= 5000), "≥ 5000"
		}
		b.rep.add(label, fmt.Sprintf("%.0f", rate), target, ok, fmt.Sprintf("%.1f%% of baseline; events published %.0f/s; backlog drained %s after publishing stopped; %s",
			ratio*100, pubRate, drain.Round(time.Millisecond), b.cpuNote))
	}
	return nil
}

func (b *bench) throughputRun(name string, singles, batches int) (rate, pubRate float64, drain time.Duration, err error) {
	var created, published atomic.Int64
	base := b.recv.total.Load()
	backlog := func() int64 { return created.Load() - (b.recv.total.Load() - base) }
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var failed atomic.Value
	publisher := func(batch bool) {
		defer wg.Done()
		c := newClient(b.srv.base, b.api.token, 8)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if backlog() > b.o.maxBacklog {
				time.Sleep(2 * time.Millisecond)
				continue
			}
			if batch {
				n, err := b.publishBatch(c, 100)
				if err != nil {
					failed.Store(err)
					return
				}
				created.Add(int64(n))
				published.Add(100)
			} else {
				if _, err := b.publishOne(c); err != nil {
					failed.Store(err)
					return
				}
				created.Add(1)
				published.Add(1)
			}
		}
	}
	for range singles {
		wg.Add(1)
		go publisher(false)
	}
	for range batches {
		wg.Add(1)
		go publisher(true)
	}
	time.Sleep(time.Second)
	profiled := b.srv.profile(name, b.o)
	cpu := b.cpuMeter()
	m0 := b.srv.metrics()
	start, fromArr, fromPub := time.Now(), b.recv.total.Load(), published.Load()
	time.Sleep(b.o.throughput)
	elapsed := time.Since(start).Seconds()
	rate = float64(b.recv.total.Load()-fromArr) / elapsed
	pubRate = float64(published.Load()-fromPub) / elapsed
	m1 := b.srv.metrics()
	b.cpuNote = cpu()
	if n := m1["hookyard_attempt_duration_seconds_count"] - m0["hookyard_attempt_duration_seconds_count"]; n > 0 {
		mean := (m1["hookyard_attempt_duration_seconds_sum"] - m0["hookyard_attempt_duration_seconds_sum"]) / n
		// Little's law: requests in flight = rate × time each takes.
		b.cpuNote += fmt.Sprintf("; mean attempt %.2f ms, so %.1f requests in flight on average", mean*1000, rate*mean)
	}
	close(stop)
	wg.Wait()
	if err := profiled(); err != nil {
		return 0, 0, 0, err
	}
	if err, ok := failed.Load().(error); ok {
		return 0, 0, 0, err
	}
	stopped := time.Now()
	if err := b.recv.waitTotal(base+created.Load(), 2*time.Minute); err != nil {
		return 0, 0, 0, err
	}
	return rate, pubRate, time.Since(stopped), nil
}

// steady publishes single events at rate per second for d, each call in its own goroutine
// so that a slow answer does not delay the next one, and returns when each call started, by
// event id.
func (b *bench) steady(rate int, d time.Duration) (map[string]time.Time, error) {
	c := newClient(b.srv.base, b.api.token, 256)
	var mu sync.Mutex
	starts := map[string]time.Time{}
	b.pacingLag = 0
	var failed atomic.Value
	var wg sync.WaitGroup
	every := time.Second / time.Duration(rate)
	begin := time.Now()
	for i := 0; ; i++ {
		at := begin.Add(time.Duration(i) * every)
		if at.Sub(begin) >= d {
			break
		}
		time.Sleep(time.Until(at))
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.Now()
			id, err := b.publishOne(c)
			if err != nil {
				failed.Store(err)
				return
			}
			mu.Lock()
			starts[id] = t
			// How late this program itself started the call: a large lag means the machine
			// stalled everyone, not only the server.
			b.pacingLag = max(b.pacingLag, t.Sub(at))
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		return nil, err
	}
	return starts, nil
}

// latencies waits for every event in starts to arrive from webhook (any webhook when "") and
// returns each one's time from the start of its publish call to its first arrival.
func (b *bench) latencies(starts map[string]time.Time, webhook string) ([]time.Duration, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, missing := b.recv.firstArrivals(starts, webhook)
		if missing == 0 {
			return got, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d events never arrived", missing, len(starts))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (b *bench) latency() error {
	b.recv.reset(true)
	defer b.recv.setTracking(false)
	profiled := b.srv.profile("latency", b.o)
	cpu := b.cpuMeter()
	starts, err := b.steady(b.o.latencyRate, b.o.latency)
	if err != nil {
		return err
	}
	cpuNote := cpu()
	if err := profiled(); err != nil {
		return err
	}
	lat, err := b.latencies(starts, "")
	if err != nil {
		return err
	}
	if b.o.latencyCSV != "" {
		if err := b.recv.writeCSV(b.o.latencyCSV, starts); err != nil {
			return err
		}
	}
	p50, p95, p99 := pct(lat, 50), pct(lat, 95), pct(lat, 99)
	b.fig.LatencyP50Ms, b.fig.LatencyP95Ms, b.fig.LatencyP99Ms = ms(p50), ms(p95), ms(p99)
	what := fmt.Sprintf("publish call start → receiver, %d events/s for %s (%d events)", b.o.latencyRate, b.o.latency, len(lat))
	b.rep.add("latency_p50_ms", fmt.Sprintf("%.2f ms", ms(p50)), "< 2 ms", check(ms(p50) < 2), what)
	b.rep.add("latency_p95_ms", fmt.Sprintf("%.2f ms", ms(p95)), "", nil, cpuNote)
	lag := b.pacingLag
	b.rep.add("latency_p99_ms", fmt.Sprintf("%.2f ms", ms(p99)), "< 10 ms", check(ms(p99) < 10))
	b.rep.add("latency max", fmt.Sprintf("%.2f ms", ms(slices.Max(lat))), "", nil,
		fmt.Sprintf("this program started a call up to %.1f ms late (a large figure means the whole machine stalled)", ms(lag)))
	return nil
}

// fanOut creates the webhooks, then publishes one event at a time and times it until the
// last of them has arrived: three rounds, the median counts.
func (b *bench) fanOut() error {
	n := b.o.fanout
	ids := make([]string, n)
	created := time.Now()
	if err := parallel(n, 8, func(i int) error {
		var err error
		ids[i], err = b.webhook(fmt.Sprintf("Fan-out %04d", i), b.recv.url+"/fanout")
		return err
	}); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "  created %d webhooks in %s\n", n, time.Since(created).Round(time.Millisecond))
	b.recv.reset(true)
	defer b.recv.setTracking(false)
	var rounds []time.Duration
	for range 3 {
		start := time.Now()
		id, err := b.publishOne(b.api)
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
	b.fig.Fanout1000Ms = ms(med[1])
	var each []string
	for _, r := range rounds {
		each = append(each, fmt.Sprintf("%.0f", ms(r)))
	}
	b.rep.add("fanout_1000_ms", fmt.Sprintf("%.0f ms", ms(med[1])), "< 1000 ms", check(ms(med[1]) < 1000),
		fmt.Sprintf("one event to %d webhooks until the last arrives; median of 3 rounds: %s ms", n, strings.Join(each, ", ")))
	deleted := time.Now()
	if err := parallel(n, 8, func(i int) error { return b.api.do("DELETE", "/webhooks/"+ids[i], nil, nil, 204) }); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "  deleted them in %s\n", time.Since(deleted).Round(time.Millisecond))
	return nil
}

// isolation: one healthy webhook beside ten whose endpoint accepts connections and never
// answers, at a steady rate; the healthy one's latency must not suffer.
func (b *bench) isolation() error {
	healthy, err := b.webhook("Healthy", b.recv.url+"/healthy")
	if err != nil {
		return err
	}
	for i := range 10 {
		if _, err := b.webhook(fmt.Sprintf("Dead %d", i), b.hold.url+"/dead"); err != nil {
			return err
		}
	}
	b.recv.reset(true)
	defer b.recv.setTracking(false)
	profiled := b.srv.profile("isolation", b.o)
	cpu := b.cpuMeter()
	starts, err := b.steady(b.o.latencyRate, b.o.isolation)
	if err != nil {
		return err
	}
	cpuNote := cpu()
	if err := profiled(); err != nil {
		return err
	}
	lat, err := b.latencies(starts, healthy)
	if err != nil {
		return err
	}
	p50, p99 := pct(lat, 50), pct(lat, 99)
	b.fig.IsolationP99Ms = ms(p99)
	b.rep.add("isolation_p99_ms", fmt.Sprintf("%.2f ms", ms(p99)), "< 20 ms", check(ms(p99) < 20),
		fmt.Sprintf("healthy webhook beside 10 that never answer, %d events/s for %s; p50 %.2f ms; %d connections held by the dead endpoint; %s; calls started up to %.1f ms late",
			b.o.latencyRate, b.o.isolation, ms(p50), b.hold.accepted.Load(), cpuNote, ms(b.pacingLag)))
	return nil
}

// parallel runs fn(0..n-1) on k goroutines and returns the first error.
func parallel(n, k int, fn func(int) error) error {
	var next atomic.Int64
	errs := make(chan error, k)
	for range k {
		go func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					errs <- nil
					return
				}
				if err := fn(i); err != nil {
					next.Store(int64(n))
					errs <- err
					return
				}
			}
		}()
	}
	var first error
	for range k {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func pct(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) float64 { return round(float64(d) / float64(time.Millisecond)) }

func round(f float64) float64 { return math.Round(f*100) / 100 }

// ---- the server under test ----

// build compiles the module's main package; with pprof, an extra file (added through
// -overlay, so the source tree is untouched) serves net/http/pprof on $BENCH_PPROF_ADDR.
func build(out, dir string, pprof bool) error {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	args := []string{"build", "-o", out}
	if pprof {
		src := filepath.Join(dir, "pprof.go")
		code := "package main\n\nimport (\n\t\"net/http\"\n\t_ \"net/http/pprof\"\n\t\"os\"\n\t\"runtime\"\n)\n\n" +
			"func init() {\n\tif a := os.Getenv(\"BENCH_PPROF_ADDR\"); a != \"\" {\n\t\truntime.SetBlockProfileRate(10000)\n\t\truntime.SetMutexProfileFraction(10)\n\t\tgo http.ListenAndServe(a, nil)\n\t}\n}\n"
		if err := os.WriteFile(src, []byte(code), 0o600); err != nil {
			return err
		}
		overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(root, "zz_bench_pprof.go"): src}})
		ov := filepath.Join(dir, "overlay.json")
		if err := os.WriteFile(ov, overlay, 0o600); err != nil {
			return err
		}
		args = append(args, "-overlay", ov)
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(cmd.Args[1:], " "), err, b)
	}
	return nil
}

func command(bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = cleanEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hookyard %s: %w: %s", args[0], err, stderr.String())
	}
	return string(out), nil
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKYARD_") && !strings.HasPrefix(kv, "BENCH_") {
			env = append(env, kv)
		}
	}
	return env
}

type server struct {
	cmd       *exec.Cmd
	base      string
	pprofAddr string
	exited    chan error
}

var listening = regexp.MustCompile(`Open (http://127\.0\.0\.1:\d+)/ and sign in`)

func startServer(bin, db, logPath string, pprof bool, extra []string) (*server, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	s := &server{exited: make(chan error, 1)}
	s.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--allow-private-targets", "--log-format", "json"}, extra...)...)
	s.cmd.Env = cleanEnv()
	// If this program dies (Ctrl-C, a closed pipe), the server goes with it.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if pprof {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		s.pprofAddr = ln.Addr().String()
		ln.Close()
		s.cmd.Env = append(s.cmd.Env, "BENCH_PPROF_ADDR="+s.pprofAddr)
	}
	pr, pw := io.Pipe()
	s.cmd.Stdout, s.cmd.Stderr = pw, pw
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			fmt.Fprintln(logFile, sc.Text())
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(logFile, pr)
		logFile.Close()
	}()
	go func() { s.exited <- s.cmd.Wait(); pw.Close() }()
	select {
	case s.base = <-found:
		return s, nil
	case err := <-s.exited:
		return nil, fmt.Errorf("the server exited at start (%v); see %s", err, logPath)
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		return nil, fmt.Errorf("the server did not start within 30s; see %s", logPath)
	}
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// peakRSS reads the server's high-water mark of resident memory, in bytes.
func (s *server) peakRSS() (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// failedAttempts sums hookyard_attempts_total{outcome="failure"} from /metrics.
func (s *server) failedAttempts() (int, error) {
	m := s.metrics()
	if m == nil {
		return 0, errors.New("no metrics")
	}
	total := 0.0
	for k, v := range m {
		if strings.HasPrefix(k, `hookyard_attempts_total{outcome="failure"`) {
			total += v
		}
	}
	return int(total), nil
}

// metrics reads /metrics into series → value (nil when it cannot).
func (s *server) metrics() map[string]float64 {
	resp, err := http.Get(s.base + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
				out[line[:i]] = v
			}
		}
	}
	return out
}

// profile starts a CPU profile of the server for the named run when asked to, returning
// a function that waits for it and writes the file.
func (s *server) profile(run string, o options) func() error {
	if o.cpuProfile == "" || o.profilePart != run {
		return func() error { return nil }
	}
	d := map[string]time.Duration{"latency": o.latency, "isolation": o.isolation}[run]
	if d == 0 {
		d = o.throughput
	}
	secs := int(math.Ceil(d.Seconds()))
	kinds := map[string]string{"profile": o.cpuProfile, "block": o.cpuProfile + ".block", "mutex": o.cpuProfile + ".mutex"}
	done := make(chan error, len(kinds))
	for kind, file := range kinds {
		go func() {
			resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", s.pprofAddr, kind, secs))
			if err != nil {
				done <- err
				return
			}
			defer resp.Body.Close()
			f, err := os.Create(file)
			if err != nil {
				done <- err
				return
			}
			_, err = io.Copy(f, resp.Body)
			done <- errors.Join(err, f.Close())
		}()
	}
	return func() error {
		var errs []error
		for range kinds {
			errs = append(errs, <-done)
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "  CPU, block and mutex profiles of the %s run written to %s{,.block,.mutex}\n", run, o.cpuProfile)
		return nil
	}
}

// ---- clients and receivers ----

type client struct {
	base, token string
	http        *http.Client
}

func newClient(base, token string, conns int) *client {
	return &client{base: base, token: token, http: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		Proxy: nil, MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute,
	}}}
}

// do calls /api/v1: body JSON-encoded, answer decoded into out; any status but want is an error.
func (c *client) do(method, path string, body, out any, want int) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+"/api/v1"+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

type arrival struct {
	webhook string
	at      time.Time
}

// receiver is the webhook endpoint: it answers 200 at once and notes what arrived.
type receiver struct {
	url      string
	srv      *http.Server
	total    atomic.Int64 // Hookyard deliveries (not baseline posts)
	tracking atomic.Bool

	mu         sync.Mutex
	byEvent    map[string][]arrival
	lastBody   []byte
	lastHeader http.Header
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{url: "http://" + ln.Addr().String(), byEvent: map[string][]arrival{}}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *receiver) close() { _ = r.srv.Close() }

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(req.Body)
	var p struct {
		ID      string `json:"id"`
		Webhook struct {
			ID string `json:"id"`
		} `json:"webhook"`
	}
	if err != nil || json.Unmarshal(body, &p) != nil || p.ID == "" {
		http.Error(w, "not a Hookyard payload", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
	if req.URL.Path == "/baseline" {
		return
	}
	r.total.Add(1)
	if r.tracking.Load() {
		r.mu.Lock()
		r.byEvent[p.ID] = append(r.byEvent[p.ID], arrival{p.Webhook.ID, at})
		r.lastBody, r.lastHeader = body, req.Header.Clone()
		r.mu.Unlock()
	}
}

func (r *receiver) setTracking(on bool) { r.tracking.Store(on) }

// reset forgets what arrived and sets tracking.
func (r *receiver) reset(track bool) {
	r.mu.Lock()
	r.byEvent = map[string][]arrival{}
	r.mu.Unlock()
	r.tracking.Store(track)
}

func (r *receiver) sample() ([]byte, http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastBody, r.lastHeader
}

func (r *receiver) waitTotal(n int64, within time.Duration) error {
	deadline := time.Now().Add(within)
	for r.total.Load() < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d deliveries arrived within %s", r.total.Load(), n, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// waitEvent waits until event id has arrived n times and returns the last arrival's time.
func (r *receiver) waitEvent(id string, n int, within time.Duration) (time.Time, error) {
	deadline := time.Now().Add(within)
	for {
		r.mu.Lock()
		got := r.byEvent[id]
		var last time.Time
		if len(got) >= n {
			for _, a := range got {
				if a.at.After(last) {
					last = a.at
				}
			}
		}
		count := len(got)
		r.mu.Unlock()
		if count >= n {
			return last, nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("event %s arrived %d times of %d within %s", id, count, n, within)
		}
		time.Sleep(time.Millisecond)
	}
}

// firstArrivals returns, for every event in starts that has arrived (from webhook, or any
// when ""), the time from its start to its first arrival, and how many have not arrived.
func (r *receiver) firstArrivals(starts map[string]time.Time, webhook string) ([]time.Duration, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []time.Duration
	missing := 0
	for id, start := range starts {
		var first time.Time
		for _, a := range r.byEvent[id] {
			if (webhook == "" || a.webhook == webhook) && (first.IsZero() || a.at.Before(first)) {
				first = a.at
			}
		}
		if first.IsZero() {
			missing++
			continue
		}
		out = append(out, first.Sub(start))
	}
	return out, missing
}

// writeCSV writes "start_unix_ns,latency_us" for each event in starts, in order of start.
func (r *receiver) writeCSV(path string, starts map[string]time.Time) error {
	type line struct {
		start time.Time
		lat   time.Duration
	}
	var lines []line
	r.mu.Lock()
	for id, start := range starts {
		if got := r.byEvent[id]; len(got) > 0 {
			lines = append(lines, line{start, got[0].at.Sub(start)})
		}
	}
	r.mu.Unlock()
	slices.SortFunc(lines, func(a, b line) int { return a.start.Compare(b.start) })
	var buf bytes.Buffer
	buf.WriteString("start_unix_ns,latency_us\n")
	for _, l := range lines {
		fmt.Fprintf(&buf, "%d,%d\n", l.start.UnixNano(), l.lat.Microseconds())
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// hold accepts connections, reads what comes, and never answers: a dead endpoint.
type hold struct {
	url      string
	ln       net.Listener
	accepted atomic.Int64
	mu       sync.Mutex
	conns    []net.Conn
}

func startHold() (*hold, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &hold{url: "http://" + ln.Addr().String(), ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.accepted.Add(1)
			h.mu.Lock()
			h.conns = append(h.conns, c)
			h.mu.Unlock()
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	return h, nil
}

func (h *hold) close() {
	h.ln.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.conns {
		c.Close()
	}
}
