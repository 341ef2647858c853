package main

// The runs of the durable-queue issue (10): publish rates against the same run's baseline,
// matching among many stored webhooks, a kill -9 mid-load, and a backlog of a million
// deliveries: its memory, and a restart with it pending.

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ratio is rate as a fraction of the same run's baseline (0 without one).
func (b *bench) ratio(rate float64) float64 {
	if b.fig.BaselinePostPerS == 0 {
		return 0
	}
	return rate / b.fig.BaselinePostPerS
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// singlePublish: 8 publishers of single events to the fast receiver; deliveries arriving per
// second over the window.
func (b *bench) singlePublish() error {
	const publishers = 8
	rate, pubRate, drain, err := b.throughputRun("singlepublish", publishers, 0, b.o.maxBacklog, time.Second)
	if err != nil {
		return err
	}
	ratio := b.ratio(rate)
	b.fig.SinglePublishDeliveriesPerS, b.fig.SinglePublishRatio = round(rate), round3(ratio)
	b.rep.add("single_publish_deliveries_per_s", fmt.Sprintf("%.0f", rate), "", nil,
		fmt.Sprintf("%d publishers of single events, fast receiver, %s window after 1s; events published %.0f/s; drained %s after; %s; load %s",
			publishers, b.o.throughput, pubRate, drain.Round(time.Millisecond), b.cpuNote, loadAverage()))
	b.rep.add("single_publish_ratio", fmt.Sprintf("%.3f", ratio), "≥ 0.15", check(ratio >= 0.15),
		fmt.Sprintf("of this run's baseline_post_per_s (%.0f)", b.fig.BaselinePostPerS))
	return nil
}

// batchSteady: batch publishers as fast as the server takes them (pausing only past
// -steady-max-backlog); deliveries arriving per second at the receiver WHILE they publish,
// over a window after 2 s of warm-up (so the queue in the database is deep by then).
func (b *bench) batchSteady() error {
	const publishers = 4
	rate, pubRate, drain, err := b.throughputRun("batchsteady", 0, publishers, b.o.steadyBacklog, 2*time.Second)
	if err != nil {
		return err
	}
	ratio := b.ratio(rate)
	b.fig.BatchSteadyDeliveriesPerS, b.fig.BatchSteadyRatio = round(rate), round3(ratio)
	b.rep.add("batch_steady_deliveries_per_s", fmt.Sprintf("%.0f", rate), "", nil,
		fmt.Sprintf("%d publishers of batches of 100, arrivals over %s after 2s of warm-up while publishing; events accepted %.0f/s meanwhile; backlog drained %s after publishing stopped; %s; load %s",
			publishers, b.o.throughput, pubRate, drain.Round(time.Millisecond), b.cpuNote, loadAverage()))
	b.rep.add("batch_steady_ratio", fmt.Sprintf("%.3f", ratio), "≥ 0.25", check(ratio >= 0.25),
		fmt.Sprintf("of this run's baseline_post_per_s (%.0f)", b.fig.BaselinePostPerS))
	return nil
}

// matchResult is what one matching run measured.
type matchResult struct {
	p50, p99, callP50, callP99 time.Duration
	deliveries                 int
	note                       string
}

// match publishes at a steady rate among many stored webhooks of which each event matches a
// few: 100,000 (-match-webhooks) with 10 matching, and 5,000 with 100 matching, both making
// -match-rate deliveries per second (well below what the server can send, so that the
// figure is the cost of an event, not of a queue).
func (b *bench) match() error {
	big, err := b.matchCase("match", b.o.matchWebhooks, 10, max(1, b.o.matchRate/10))
	if err != nil {
		return err
	}
	b.fig.MatchP99Ms100kWebhooks = ms(big.p99)
	b.rep.add("match_p99_ms_100k_webhooks", fmt.Sprintf("%.2f ms", ms(big.p99)), "< 10 ms", check(ms(big.p99) < 10), big.note)
	small, err := b.matchCase("match5k", 5000, 100, max(1, b.o.matchRate/100))
	if err != nil {
		return err
	}
	b.fig.MatchP50Ms5kWebhooks, b.fig.MatchP99Ms5kWebhooks = ms(small.p50), ms(small.p99)
	b.rep.add("match p50 / p99, 5,000 webhooks", fmt.Sprintf("%.2f / %.2f ms", ms(small.p50), ms(small.p99)), "p99 < 10 ms",
		check(ms(small.p99) < 10), small.note)
	return nil
}

func (b *bench) matchCase(name string, total, matching, rate int) (matchResult, error) {
	var res matchResult
	seedStart := time.Now()
	var seeded time.Duration
	in, err := b.instance(name, func(db, userID string) ([]string, error) {
		p, err := seedWebhooks(db, userID, b.recv.url+"/match", total, total/matching)
		seeded = time.Since(seedStart)
		return p, err
	})
	if err != nil {
		return res, err
	}
	defer in.close()
	started := time.Since(seedStart) - seeded
	fmt.Fprintf(os.Stderr, "  %d webhooks stored in %s; the server listened %s later\n", total, seeded.Round(time.Millisecond), started.Round(time.Millisecond))
	// Warm-up: connections, caches, the lanes of the webhooks.
	_, n, err := in.publishOne(in.api)
	if err != nil {
		return res, err
	}
	if n != matching {
		return res, fmt.Errorf("an event made %d deliveries among %d webhooks, not %d", n, total, matching)
	}
	if _, err := in.steady(rate, time.Second); err != nil {
		return res, err
	}
	b.recv.reset(true)
	defer b.recv.setTracking(false)
	profiled := in.srv.profile(name, b.o, b.o.matchDuration)
	cpu := in.cpuMeter()
	starts, err := in.steady(rate, b.o.matchDuration)
	if err != nil {
		return res, err
	}
	cpuNote := cpu()
	if err := profiled(); err != nil {
		return res, err
	}
	var lat []time.Duration
	for deadline := time.Now().Add(time.Minute); ; {
		var missing int
		lat, missing = b.recv.deliveryLatencies(starts, matching)
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("%d of %d deliveries never arrived", missing, len(starts)*matching)
		}
		time.Sleep(20 * time.Millisecond)
	}
	res.p50, res.p99, res.deliveries = pct(lat, 50), pct(lat, 99), len(lat)
	res.callP50, res.callP99 = pct(in.calls, 50), pct(in.calls, 99)
	res.note = fmt.Sprintf("%d webhooks stored, each event matches %d; %d events/s for %s; publish call start → receiver, each of %d deliveries; p50 %.2f ms; the publish call itself p50 %.2f / p99 %.2f ms; calls started up to %.1f ms late; %s; load %s",
		total, matching, rate, b.o.matchDuration, res.deliveries, ms(res.p50), ms(res.callP50), ms(res.callP99), ms(in.pacingLag), cpuNote, loadAverage())
	return res, nil
}

// kill9 kills the server (SIGKILL) while publishers and deliveries run at full speed, starts
// it again, and counts what the receiver got twice (same webhook-id) and what it never got.
func (b *bench) kill9() error {
	if b.o.killAfter < time.Second {
		return fmt.Errorf("-kill-after must be at least 1s (the last second measures the delivery rate)")
	}
	in, err := b.instance("kill9", nil)
	if err != nil {
		return err
	}
	defer in.close()
	const hooks, singles, batches, path = 4, 8, 2, "/kill9"
	for i := range hooks {
		if _, err := in.webhook(fmt.Sprintf("Fast %d", i), b.recv.url+path); err != nil {
			return err
		}
	}
	b.recv.reset(true)
	defer b.recv.setTracking(false)
	base := b.recv.count(path)
	var made atomic.Int64
	var mu sync.Mutex
	var acked []string // events whose publish was answered 202
	stop := make(chan struct{})
	var wg sync.WaitGroup
	publisher := func(batch bool) {
		defer wg.Done()
		c := newClient(in.srv.base, in.api.token, 2)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if made.Load()-(b.recv.count(path)-base) > b.o.maxBacklog {
				time.Sleep(2 * time.Millisecond)
				continue
			}
			var ids []string
			var n int
			var err error
			if batch {
				n, ids, err = in.publishBatch(c, 100)
			} else {
				var id string
				id, n, err = in.publishOne(c)
				ids = []string{id}
			}
			if err != nil {
				return // the kill (a publish cut short is not acknowledged)
			}
			made.Add(int64(n))
			mu.Lock()
			acked = append(acked, ids...)
			mu.Unlock()
		}
	}
	for i := range singles + batches {
		wg.Add(1)
		go publisher(i >= singles)
	}
	time.Sleep(time.Second)
	profiled := in.srv.profile("kill9", b.o, b.o.killAfter-time.Second)
	time.Sleep(b.o.killAfter - time.Second)
	if err := profiled(); err != nil {
		return err
	}
	r0, t0 := b.recv.count(path), time.Now()
	time.Sleep(time.Second)
	rate := float64(b.recv.count(path)-r0) / time.Since(t0).Seconds()
	in.srv.kill()
	killed := time.Now()
	close(stop)
	wg.Wait()
	mu.Lock()
	events := append([]string(nil), acked...)
	mu.Unlock()
	seenAtKill := b.recv.count(path) - base

	if err := in.start(); err != nil {
		return err
	}
	lost := 0
	for deadline := time.Now().Add(3 * time.Minute); ; {
		lost = b.recv.undelivered(events, hooks)
		if m := in.srv.metrics(); lost == 0 && m != nil && m["hookyard_deliveries_pending"] == 0 {
			break
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "  %d acknowledged deliveries had not arrived 3 minutes after the restart\n", lost)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	recovered := time.Since(killed)
	time.Sleep(500 * time.Millisecond) // a late duplicate still counts
	dups, requests, deliveries := b.recv.duplicates()
	per := b.o.serveFlag("per-webhook-concurrency", 8)
	inflight := min(b.o.serveFlag("workers", 256), hooks*per)
	bound := float64(inflight) + rate*0.05
	b.fig.Kill9Duplicates, b.fig.Kill9Bound, b.fig.Kill9Lost = dups, round(bound), lost
	b.rep.add("kill9_duplicates", strconv.Itoa(dups), fmt.Sprintf("≤ %.0f", bound), check(float64(dups) <= bound),
		fmt.Sprintf("bound = %d in flight (%d webhooks × per-webhook limit %d) + 50 ms of results at %.0f deliveries/s (the last second before the kill); %d events acknowledged before the kill, %d deliveries of them lost; the receiver had %d requests at the kill, %d in all for %d deliveries; everything had arrived %s after the kill; load %s",
			inflight, hooks, per, rate, len(events), lost, seenAtKill, requests, deliveries, recovered.Round(time.Millisecond), loadAverage()))
	return nil
}

// backlogRun publishes -backlog deliveries for a receiver that answers in -slow-answer, in
// batches as fast as the server takes them, and reads the server's memory with them pending;
// then (with run restart) stops and starts the server with that backlog.
func (b *bench) backlogRun() error {
	in, err := b.instance("backlog", nil)
	if err != nil {
		return err
	}
	defer in.close()
	if _, err := in.webhook("Slow receiver", b.recv.url+"/slow"); err != nil {
		return err
	}
	n := b.o.backlog
	const size, publishers = 500, 4
	c := newClient(in.srv.base, in.api.token, publishers)
	sent0 := b.recv.count("/slow")
	var made atomic.Int64
	start := time.Now()
	profiled := in.srv.profile("backlog", b.o, 10*time.Second)
	err = parallel((n+size-1)/size, publishers, func(i int) error {
		d, _, err := in.publishBatch(c, min(size, n-i*size))
		if made.Add(int64(d)); i%200 == 0 {
			fmt.Fprintf(os.Stderr, "\r  %d published", made.Load())
		}
		return err
	})
	took := time.Since(start)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return err
	}
	if err := profiled(); err != nil {
		return err
	}
	rss, hwm, err := in.srv.memory()
	if err != nil {
		return err
	}
	pending := int(in.srv.metrics()["hookyard_deliveries_pending"])
	b.fig.BacklogDeliveries, b.fig.Backlog1MRSSMB = n, hwm
	b.rep.add("backlog_1m_rss_mb", fmt.Sprintf("%.1f MB", hwm), "< 150 MB", check(hwm < 150),
		fmt.Sprintf("VmHWM (peak) of the server with %d pending; VmRSS now %.1f MB; %d deliveries published in batches of %d by %d publishers in %s (%.0f/s) while %d were sent to a receiver answering in %s; load %s",
			pending, rss, made.Load(), size, publishers, took.Round(time.Millisecond), float64(made.Load())/took.Seconds(),
			b.recv.count("/slow")-sent0, b.o.slowAnswer, loadAverage()))
	if !b.o.selected("restart") {
		return nil
	}
	return in.restartWithBacklog(pending)
}

// restartWithBacklog stops the server (SIGTERM) with the backlog pending, starts it again
// and times until /healthz answers 200 and a new publish is accepted; then reads its memory
// over the next 5 s, while it sends from the backlog.
func (b *bench) restartWithBacklog(pending int) error {
	t0 := time.Now()
	b.srv.stop()
	stopped := time.Since(t0)
	start := time.Now()
	if err := b.start(); err != nil {
		return err
	}
	listening := time.Since(start)
	profiled := b.srv.profile("restart", b.o, 5*time.Second)
	if err := b.srv.waitHealthy(time.Minute); err != nil {
		return err
	}
	healthy := time.Since(start)
	for deadline := time.Now().Add(time.Minute); ; {
		_, _, err := b.publishOne(b.api)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no publish accepted within a minute of the restart: %w", err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	accepted := time.Since(start)
	sent0 := b.recv.count("/slow")
	time.Sleep(5 * time.Second)
	sent := b.recv.count("/slow") - sent0
	rss, hwm, err := b.srv.memory()
	if err != nil {
		return err
	}
	if err := profiled(); err != nil {
		return err
	}
	b.fig.Restart1MPendingS, b.fig.Restart1MRSSMB = round(accepted.Seconds()), hwm
	b.rep.add("restart_1m_pending_s", fmt.Sprintf("%.2f s", accepted.Seconds()), "< 3 s", check(accepted < 3*time.Second),
		fmt.Sprintf("start → first publish accepted with %d pending; listening after %s, /healthz 200 after %s; the SIGTERM stop took %s; load %s",
			pending, listening.Round(time.Millisecond), healthy.Round(time.Millisecond), stopped.Round(time.Millisecond), loadAverage()))
	b.rep.add("restart_1m_rss_mb", fmt.Sprintf("%.1f MB", hwm), "< 150 MB", check(hwm < 150),
		fmt.Sprintf("VmHWM over the first %s after the restart; VmRSS %.1f MB; %d sent from the backlog in the last 5 s", time.Since(start).Round(time.Second), rss, sent))
	return nil
}
