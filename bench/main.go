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
	// The runs on servers of their own (issue 10).
	backlog       int
	slowAnswer    time.Duration
	steadyBacklog int64
	matchWebhooks int
	matchDuration time.Duration
	matchRate     int
	killAfter     time.Duration
	// The runs on PostgreSQL (issues 11 and 12).
	pg    string
	nodes int
}

// allRuns are the runs -runs may name, in the order they are made.
var allRuns = []string{"baseline", "throughput", "singlepublish", "batchsteady", "latency", "fanout", "isolation", "page", "filters",
	"match", "kill9", "backlog", "restart", "postgres", "cluster"}

// pgRuns are the runs that need -pg (and are made only when asked for).
var pgRuns = []string{"postgres", "cluster"}

// profiled are the runs -profile-run may name.
var profiled = []string{"single", "batch", "mixed", "singlepublish", "batchsteady", "latency", "isolation",
	"match", "match5k", "kill9", "backlog", "restart",
	"sqlite-latency", "sqlite-single", "sqlite-batch", "postgres-latency", "postgres-single", "postgres-batch",
	"cluster-1node", "cluster-3nodes", "cluster-latency"}

// serveArgs are the extra flags of hookyard serve: room for the fan-out webhooks beside the
// others under the per-person quota, then -serve-flags (a flag given twice: the last wins).
func (o options) serveArgs() []string {
	return append([]string{"--max-webhooks-per-user", strconv.Itoa(o.fanout + 100)}, strings.Fields(o.serveFlags)...)
}

// selected reports whether -runs names the run.
func (o options) selected(run string) bool { return slices.Contains(strings.Split(o.runs, ","), run) }

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
	flag.StringVar(&o.profilePart, "profile-run", "mixed", "run to profile: "+strings.Join(profiled, ", "))
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (database, server log)")
	flag.StringVar(&o.latencyCSV, "latency-csv", "", "write each event of the latency run (publish start in Unix ns, latency in µs) to this file")
	flag.StringVar(&o.serveFlags, "serve-flags", "", "extra flags for hookyard serve, space-separated (e.g. \"--per-webhook-concurrency 32\")")
	flag.StringVar(&o.pg, "pg", "", "a PostgreSQL server URL (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable): adds the postgres run (latency and throughput on PostgreSQL beside SQLite), each on a database of its own created there and dropped after")
	flag.IntVar(&o.nodes, "nodes", 0, "with -pg, adds the cluster run: this many nodes (at least 2) on one PostgreSQL database")
	flag.StringVar(&o.runs, "runs", strings.Join(slices.DeleteFunc(slices.Clone(allRuns), func(r string) bool { return slices.Contains(pgRuns, r) }), ","), "runs to make, comma-separated (figures of the others are 0; the ratios add baseline, restart adds backlog)")
	flag.IntVar(&o.backlog, "backlog", 1_000_000, "pending deliveries in the backlog and restart runs")
	flag.DurationVar(&o.slowAnswer, "slow-answer", 200*time.Millisecond, "how long the slow receiver of the backlog run takes to answer")
	flag.Int64Var(&o.steadyBacklog, "steady-max-backlog", 250_000, "the batch-steady run's publishers pause only while more deliveries than this wait")
	flag.IntVar(&o.matchWebhooks, "match-webhooks", 100_000, "webhooks stored in the large matching run (an event matches 10 of them)")
	flag.DurationVar(&o.matchDuration, "match-duration", 10*time.Second, "length of each steady-rate matching run")
	flag.IntVar(&o.matchRate, "match-rate", 500, "deliveries per second in the matching runs (events/s = this / webhooks matching each)")
	flag.DurationVar(&o.killAfter, "kill-after", 3*time.Second, "load before the kill -9 (after 1s of warm-up)")
	flag.Parse()
	given := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if o.pg != "" && !given["runs"] {
		o.runs += ",postgres"
	}
	if o.nodes > 0 && !given["runs"] {
		o.runs += ",cluster"
	}
	if (o.selected("postgres") || o.selected("cluster")) && o.pg == "" {
		fmt.Fprintln(os.Stderr, "bench: the postgres and cluster runs need -pg postgres://… (a server where the bench may create databases)")
		os.Exit(2)
	}
	if o.selected("cluster") && o.nodes < 2 {
		o.nodes = 3
	}
	for _, r := range strings.Split(o.runs, ",") {
		if !slices.Contains(allRuns, r) {
			fmt.Fprintf(os.Stderr, "bench: -runs: unknown run %q (known: %s)\n", r, strings.Join(allRuns, ", "))
			os.Exit(2)
		}
	}
	// The ratios are to the same run's baseline; the restart needs the backlog.
	if (o.selected("singlepublish") || o.selected("batchsteady")) && !o.selected("baseline") {
		o.runs += ",baseline"
	}
	if o.selected("restart") && !o.selected("backlog") {
		o.runs += ",backlog"
	}
	if o.cpuProfile != "" && !slices.Contains(profiled, o.profilePart) {
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
	// From the queue issue (10).
	SinglePublishDeliveriesPerS float64 `json:"single_publish_deliveries_per_s"`
	SinglePublishRatio          float64 `json:"single_publish_ratio"`
	BatchSteadyDeliveriesPerS   float64 `json:"batch_steady_deliveries_per_s"`
	BatchSteadyRatio            float64 `json:"batch_steady_ratio"`
	MatchP99Ms100kWebhooks      float64 `json:"match_p99_ms_100k_webhooks"`
	MatchP50Ms5kWebhooks        float64 `json:"match_p50_ms_5k_webhooks"`
	MatchP99Ms5kWebhooks        float64 `json:"match_p99_ms_5k_webhooks"`
	Kill9Duplicates             int     `json:"kill9_duplicates"`
	Kill9Bound                  float64 `json:"kill9_duplicates_bound"`
	Kill9Lost                   int     `json:"kill9_lost"`
	BacklogDeliveries           int     `json:"backlog_deliveries"`
	Backlog1MRSSMB              float64 `json:"backlog_1m_rss_mb"`
	Restart1MPendingS           float64 `json:"restart_1m_pending_s"`
	Restart1MRSSMB              float64 `json:"restart_1m_rss_mb"`
	// From the PostgreSQL issue (11): the same runs on both engines, fresh servers each.
	SQLiteLatencyP50Ms           float64 `json:"sqlite_latency_p50_ms,omitempty"`
	SQLiteLatencyP99Ms           float64 `json:"sqlite_latency_p99_ms,omitempty"`
	PostgresLatencyP50Ms         float64 `json:"postgres_latency_p50_ms,omitempty"`
	PostgresLatencyP99Ms         float64 `json:"postgres_latency_p99_ms,omitempty"`
	SQLiteSingleDeliveriesPerS   float64 `json:"sqlite_single_deliveries_per_s,omitempty"`
	PostgresSingleDeliveriesPerS float64 `json:"postgres_single_deliveries_per_s,omitempty"`
	PostgresSingleRatio          float64 `json:"postgres_single_ratio,omitempty"` // PostgreSQL / SQLite
	SQLiteBatchDeliveriesPerS    float64 `json:"sqlite_batch_deliveries_per_s,omitempty"`
	PostgresBatchDeliveriesPerS  float64 `json:"postgres_batch_deliveries_per_s,omitempty"`
	PostgresBatchRatio           float64 `json:"postgres_batch_ratio,omitempty"`
	// From the cluster issue (12).
	ClusterNodes                 int     `json:"cluster_nodes,omitempty"`
	ClusterCrossNodeP50Ms        float64 `json:"cluster_cross_node_p50_ms,omitempty"`
	ClusterCrossNodeP99Ms        float64 `json:"cluster_cross_node_p99_ms,omitempty"`
	ClusterSameNodeP99Ms         float64 `json:"cluster_same_node_p99_ms,omitempty"`
	ClusterOneNodeDeliveriesPerS float64 `json:"cluster_1_node_deliveries_per_s,omitempty"`
	ClusterDeliveriesPerS        float64 `json:"cluster_deliveries_per_s,omitempty"`
	ClusterDeliveriesRatio       float64 `json:"cluster_deliveries_ratio,omitempty"` // several nodes / one
	ClusterTakeoverS             float64 `json:"cluster_takeover_s,omitempty"`
	LoadAverage1m                float64 `json:"load_average_1m"` // /proc/loadavg at the end
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
	token, _, err := prepareDB(bin, db)
	if err != nil {
		return err
	}

	recv, err := startReceiver(o.slowAnswer)
	if err != nil {
		return err
	}
	defer recv.close()
	hold, err := startHold()
	if err != nil {
		return err
	}
	defer hold.close()

	srv, err := startServer(bin, db, filepath.Join(dir, "server.log"), o.cpuProfile != "", o.serveArgs())
	if err != nil {
		return err
	}
	defer srv.stop()
	fmt.Fprintf(os.Stderr, "server pid %d at %s; receiver at %s\n", srv.cmd.Process.Pid, srv.base, recv.url)
	b := &bench{o: o, dir: dir, bin: bin, api: newClient(srv.base, token, 512), srv: srv, recv: recv, hold: hold, db: db,
		rep: &report{}, fig: &figures{}}
	return b.all()
}

// prepareDB makes a database with the bench user (an admin) and returns an API token and the
// user's id.
func prepareDB(bin, db string) (token, userID string, err error) {
	out, err := command(bin, "user", "add", "--db", db, "--email", "bench@example.com", "--name", "Bench", "--admin", "--password", "bench password")
	if err != nil {
		return "", "", err
	}
	m := regexp.MustCompile(`\((usr_[0-9a-z]+)\)`).FindStringSubmatch(out)
	if m == nil {
		return "", "", fmt.Errorf("hookyard user add did not name the user's id: %q", out)
	}
	out, err = command(bin, "token", "add", "--db", db, "--email", "bench@example.com", "--name", "bench")
	if err != nil {
		return "", "", err
	}
	return strings.TrimSpace(out), m[1], nil
}

// bench drives one server. The runs that need a database of their own (a seeded one, a
// restart, a kill) get another bench from instance, sharing the receivers, table and figures.
type bench struct {
	dir  string // the temporary directory
	bin  string // the server binary
	db   string // the server's database file
	o    options
	api  *client
	srv  *server
	recv *receiver
	hold *hold
	rep  *report
	fig  *figures
	prj  string
	// projects, when set, are published to in turn instead of prj.
	projects []string
	// name names an instance's files (database, logs); starts counts its server's starts.
	name   string
	starts int
	// cpuNote says how busy the server and this program were during the last window.
	cpuNote string
	// pacingLag is how late the last steady run started its latest call (under its mutex).
	pacingLag time.Duration
	// calls are how long each publish call of the last steady run took (under its mutex).
	calls []time.Duration
	// spread, when set, are the clients of several nodes that publishers use in turn;
	// via is which of them the last steady run published each event to, by event id.
	spread []*client
	via    map[string]int
}

// publisher is the client the i-th publisher (or call) publishes through: spread in turn
// when set, else a client of this server.
func (b *bench) publisher(i, conns int) *client {
	if len(b.spread) > 0 {
		return b.spread[i%len(b.spread)]
	}
	return newClient(b.srv.base, b.api.token, conns)
}

// settle waits until the server has nothing pending, or nothing moves for a second (what
// is left waits for a retry: the dead endpoints'), at most 30 s, then a second more, so that
// one run's leftovers do not land in the next one's figures.
func (b *bench) settle() {
	deadline := time.Now().Add(30 * time.Second)
	last, still := -1.0, 0
	for time.Now().Before(deadline) {
		m := b.srv.metrics()
		if m != nil && m["hookyard_deliveries_pending"] == 0 {
			break
		}
		if now := m["hookyard_deliveries_pending"] + float64(b.recv.total.Load()); m != nil && now == last {
			if still++; still >= 10 {
				break
			}
		} else {
			last, still = now, 0
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

// project makes the organisation and project events are published to.
func (b *bench) project() error {
	var org, prj struct{ ID string }
	if err := b.api.do("POST", "/organizations", map[string]any{"name": "Bench"}, &org, 201); err != nil {
		return err
	}
	if err := b.api.do("POST", "/projects", map[string]any{"organizationId": org.ID, "name": "Load"}, &prj, 201); err != nil {
		return err
	}
	b.prj = prj.ID
	return nil
}

func (b *bench) all() error {
	fmt.Fprintf(os.Stderr, "load average at the start: %s\n", loadAverage())
	if err := b.project(); err != nil {
		return err
	}
	hook, err := b.webhook("Receiver", b.recv.url+"/hook")
	if err != nil {
		return err
	}
	// One delivery first: it opens the connections and gives the baseline a real payload.
	b.recv.setTracking(true)
	if _, _, err := b.publishOne(b.api); err != nil {
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
		{"singlepublish", b.singlePublish},
		{"batchsteady", b.batchSteady},
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
		// These run on servers of their own (the restart is part of the backlog run).
		{"match", b.match},
		{"kill9", b.kill9},
		{"backlog", b.backlogRun},
		// On PostgreSQL, on servers of their own.
		{"postgres", b.postgres},
		{"cluster", b.cluster},
	}
	for _, s := range steps {
		if !b.o.selected(strings.ReplaceAll(s.name, "-", "")) {
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
	b.rep.add("peak_rss_mb", fmt.Sprintf("%.1f MB", b.fig.PeakRSSMB), "< 150 MB", check(b.fig.PeakRSSMB < 150), "VmHWM of the main server process over the whole run (the runs on servers of their own report theirs)")
	if fails, err := b.srv.failedAttempts(); err == nil {
		b.rep.add("failed attempts", strconv.Itoa(fails), "", nil, "whole run, from /metrics (the dead endpoint's are still in flight)")
	}
	load := loadAverage()
	b.fig.LoadAverage1m, _ = strconv.ParseFloat(strings.Fields(load + " 0")[0], 64)
	b.rep.add("load average", load, "", nil, "/proc/loadavg at the end (1, 5, 15 min; 2 cores, shared)")

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
	prj := b.prj
	if len(b.projects) > 0 {
		prj = b.projects[n%len(b.projects)]
	}
	return map[string]any{"event": "TODO_CREATED", "projectId": prj,
		"previousValue": nil, "currentValue": map[string]any{"id": n, "name": "Write the quarterly report", "done": false}}
}

var seq atomic.Int64

// publishOne publishes one event and returns its id and how many deliveries it made.
func (b *bench) publishOne(c *client) (string, int, error) {
	var out struct {
		ID         string
		Deliveries int
	}
	err := c.do("POST", "/events", b.eventBody(int(seq.Add(1))), &out, 202)
	return out.ID, out.Deliveries, err
}

// publishBatch publishes n events at once and returns how many deliveries they made, and
// the events' ids.
func (b *bench) publishBatch(c *client, n int) (int, []string, error) {
	events := make([]any, n)
	for i := range events {
		events[i] = b.eventBody(int(seq.Add(1)))
	}
	var out struct {
		Deliveries int
		Events     []struct{ ID string }
	}
	err := c.do("POST", "/events/batch", map[string]any{"events": events}, &out, 202)
	ids := make([]string, len(out.Events))
	for i, e := range out.Events {
		ids[i] = e.ID
	}
	return out.Deliveries, ids, err
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
		rate, pubRate, drain, err := b.throughputRun(r.name, r.singles, r.batchs, b.o.maxBacklog, time.Second)
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

// throughputRun publishes from singles and batch publishers (pausing while more than
// maxBacklog deliveries wait to arrive) and returns the rate of arrivals at the receiver over
// the measuring window that follows warm-up, the rate of events published in that window,
// and how long the backlog took to drain after publishing stopped.
func (b *bench) throughputRun(name string, singles, batches int, maxBacklog int64, warm time.Duration) (rate, pubRate float64, drain time.Duration, err error) {
	var created, published atomic.Int64
	base := b.recv.total.Load()
	backlog := func() int64 { return created.Load() - (b.recv.total.Load() - base) }
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var failed atomic.Value
	publisher := func(batch bool, c *client) {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if backlog() > maxBacklog {
				time.Sleep(2 * time.Millisecond)
				continue
			}
			if batch {
				n, _, err := b.publishBatch(c, 100)
				if err != nil {
					failed.Store(err)
					return
				}
				created.Add(int64(n))
				published.Add(100)
			} else {
				_, n, err := b.publishOne(c)
				if err != nil {
					failed.Store(err)
					return
				}
				created.Add(int64(n))
				published.Add(1)
			}
		}
	}
	for i := range singles + batches {
		wg.Add(1)
		go publisher(i >= singles, b.publisher(i, 8))
	}
	time.Sleep(warm)
	profiled := b.srv.profile(name, b.o, b.o.throughput)
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
	if err := b.recv.waitTotal(base+created.Load(), 5*time.Minute); err != nil {
		return 0, 0, 0, err
	}
	return rate, pubRate, time.Since(stopped), nil
}

// steady publishes single events at rate per second for d, each call in its own goroutine
// so that a slow answer does not delay the next one, and returns when each call started, by
// event id.
func (b *bench) steady(rate int, d time.Duration) (map[string]time.Time, error) {
	clients := []*client{newClient(b.srv.base, b.api.token, 256)}
	if len(b.spread) > 0 {
		clients = b.spread
	}
	var mu sync.Mutex
	starts := map[string]time.Time{}
	b.pacingLag, b.calls, b.via = 0, nil, map[string]int{}
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
			id, _, err := b.publishOne(clients[i%len(clients)])
			if err != nil {
				failed.Store(err)
				return
			}
			took := time.Since(t)
			mu.Lock()
			starts[id] = t
			b.via[id] = i % len(clients)
			b.calls = append(b.calls, took)
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

// latencyRun publishes at -latency-rate for -latency-duration and returns each event's
// latency to its first arrival, the events' starts and the CPU note.
func (b *bench) latencyRun(name string) (lat []time.Duration, starts map[string]time.Time, cpuNote string, err error) {
	b.recv.reset(true)
	defer b.recv.setTracking(false)
	profiled := b.srv.profile(name, b.o, b.o.latency)
	cpu := b.cpuMeter()
	starts, err = b.steady(b.o.latencyRate, b.o.latency)
	if err != nil {
		return nil, nil, "", err
	}
	cpuNote = cpu()
	if err := profiled(); err != nil {
		return nil, nil, "", err
	}
	lat, err = b.latencies(starts, "")
	return lat, starts, cpuNote, err
}

func (b *bench) latency() error {
	lat, starts, cpuNote, err := b.latencyRun("latency")
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
	profiled := b.srv.profile("isolation", b.o, b.o.isolation)
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
	done      chan struct{} // closed when the process has exited
	exitErr   error         // how it exited (once done is closed)
}

var listening = regexp.MustCompile(`Open (http://127\.0\.0\.1:\d+)/ and sign in`)

func startServer(bin, db, logPath string, pprof bool, extra []string) (*server, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	s := &server{done: make(chan struct{})}
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
	go func() { s.exitErr = s.cmd.Wait(); pw.Close(); close(s.done) }()
	select {
	case s.base = <-found:
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("the server exited at start (%v); see %s", s.exitErr, logPath)
	case <-time.After(60 * time.Second):
		s.kill()
		return nil, fmt.Errorf("the server did not start within 60s; see %s", logPath)
	}
}

// stop asks the server to shut down (SIGTERM) and waits; after 15 s it kills it.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.kill()
	}
}

// kill kills the server (SIGKILL: no shutdown at all) and waits until it is gone.
func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// peakRSS reads the server's high-water mark of resident memory, in bytes.
func (s *server) peakRSS() (float64, error) { return s.procStatus("VmHWM") }

// memory reads the server's resident memory now and its high-water mark, in MB.
func (s *server) memory() (rssMB, hwmMB float64, err error) {
	rss, err := s.procStatus("VmRSS")
	if err != nil {
		return 0, 0, err
	}
	hwm, err := s.procStatus("VmHWM")
	return round(rss / (1 << 20)), round(hwm / (1 << 20)), err
}

// procStatus reads one memory field (in kB there) of /proc/<pid>/status, in bytes.
func (s *server) procStatus(field string) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc status", field)
}

// loadAverage is the first three fields of /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
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

// profile starts a CPU profile of the server over the next d for the named run when asked
// to, returning a function that waits for it and writes the file.
func (s *server) profile(run string, o options, d time.Duration) func() error {
	if o.cpuProfile == "" || o.profilePart != run {
		return func() error { return nil }
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

// receiver is the webhook endpoint: it answers 200 at once (on /slow, after slow) and notes
// what arrived.
type receiver struct {
	url      string
	srv      *http.Server
	slow     time.Duration
	total    atomic.Int64 // Hookyard deliveries (not baseline posts)
	byPath   sync.Map     // path → *atomic.Int64, Hookyard deliveries to it
	tracking atomic.Bool

	mu         sync.Mutex
	byEvent    map[string][]arrival
	byMessage  map[string]int // webhook-id header (the delivery id) → requests seen
	lastBody   []byte
	lastHeader http.Header
}

func startReceiver(slow time.Duration) (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{url: "http://" + ln.Addr().String(), slow: slow, byEvent: map[string][]arrival{}, byMessage: map[string]int{}}
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
	if req.URL.Path == "/slow" {
		time.Sleep(r.slow)
	}
	w.WriteHeader(http.StatusOK)
	if req.URL.Path == "/baseline" {
		return
	}
	r.total.Add(1)
	n, _ := r.byPath.LoadOrStore(req.URL.Path, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
	if r.tracking.Load() {
		r.mu.Lock()
		r.byEvent[p.ID] = append(r.byEvent[p.ID], arrival{p.Webhook.ID, at})
		r.byMessage[req.Header.Get("webhook-id")]++
		r.lastBody, r.lastHeader = body, req.Header.Clone()
		r.mu.Unlock()
	}
}

func (r *receiver) setTracking(on bool) { r.tracking.Store(on) }

// count is how many deliveries arrived on path.
func (r *receiver) count(path string) int64 {
	n, _ := r.byPath.LoadOrStore(path, new(atomic.Int64))
	return n.(*atomic.Int64).Load()
}

// reset forgets what arrived and sets tracking.
func (r *receiver) reset(track bool) {
	r.mu.Lock()
	r.byEvent = map[string][]arrival{}
	r.byMessage = map[string]int{}
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

// firstByWebhook is each webhook's first arrival of one event (under r.mu).
func firstByWebhook(got []arrival) map[string]time.Time {
	first := map[string]time.Time{}
	for _, a := range got {
		if t, ok := first[a.webhook]; !ok || a.at.Before(t) {
			first[a.webhook] = a.at
		}
	}
	return first
}

// deliveryLatencies returns, for every event in starts, the time from its start to its first
// arrival from each webhook, and how many of the n deliveries each event should make have
// not arrived.
func (r *receiver) deliveryLatencies(starts map[string]time.Time, n int) ([]time.Duration, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []time.Duration
	missing := 0
	for id, start := range starts {
		first := firstByWebhook(r.byEvent[id])
		missing += max(0, n-len(first))
		for _, at := range first {
			out = append(out, at.Sub(start))
		}
	}
	return out, missing
}

// undelivered counts the deliveries of the events (n webhooks each) that have not arrived.
func (r *receiver) undelivered(events []string, n int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	missing := 0
	for _, id := range events {
		missing += max(0, n-len(firstByWebhook(r.byEvent[id])))
	}
	return missing
}

// duplicates counts the requests that repeated a delivery already received (the same
// webhook-id), all requests, and the distinct deliveries.
func (r *receiver) duplicates() (dups, requests, deliveries int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.byMessage {
		requests += n
		dups += n - 1
	}
	return dups, requests, len(r.byMessage)
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
