package main

// The runs of the PostgreSQL issues (11 and 12): the latency and throughput runs on
// PostgreSQL beside SQLite, and several nodes on one PostgreSQL database — latency across
// nodes, deliveries/s with several nodes next to one, and the takeover after a kill -9.

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"hookyard/store"
)

func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// createDatabase makes a database of its own on the -pg server and returns its URL.
func (b *bench) createDatabase() (string, error) {
	u, err := url.Parse(b.o.pg)
	if err != nil || !isPostgres(b.o.pg) {
		return "", fmt.Errorf("-pg: not a postgres:// URL: %q", b.o.pg)
	}
	conn, err := sql.Open("pgx", b.o.pg)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	var r [6]byte
	_, _ = rand.Read(r[:])
	name := "b_" + hex.EncodeToString(r[:])
	if _, err := conn.Exec("CREATE DATABASE " + name); err != nil {
		return "", fmt.Errorf("create a database on -pg: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// dropDatabase drops a database createDatabase made (its sessions too).
func dropDatabase(db string) {
	u, err := url.Parse(db)
	if err != nil {
		return
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	conn, err := sql.Open("pgx", u.String())
	if err != nil {
		return
	}
	defer conn.Close()
	if _, err := conn.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
		fmt.Fprintf(os.Stderr, "  could not drop the database %s: %v\n", name, err)
	}
}

// engineFigures are one engine's latency and throughput.
type engineFigures struct {
	p50, p99, single, batch float64
	latNote, singleNote     string
	batchNote               string
}

// measureEngine makes the latency run and the single and batch throughput runs on a fresh
// server of this engine (one webhook to the fast receiver), named engine.
func (b *bench) measureEngine(engine, db string) (engineFigures, error) {
	var f engineFigures
	if db == "" {
		db = filepath.Join(b.dir, engine+".db")
	}
	in, err := b.instanceOn(engine, db, nil)
	if err != nil {
		return f, err
	}
	defer in.close()
	if _, err := in.webhook("Receiver", b.recv.url+"/"+engine); err != nil {
		return f, err
	}
	if _, _, err := in.publishOne(in.api); err != nil { // warm-up: connections, caches
		return f, err
	}
	in.settle()
	lat, _, cpuNote, err := in.latencyRun(engine + "-latency")
	if err != nil {
		return f, err
	}
	f.p50, f.p99 = ms(pct(lat, 50)), ms(pct(lat, 99))
	f.latNote = fmt.Sprintf("%d events/s for %s; max %.2f ms; the publish call itself p50 %.2f / p99 %.2f ms; calls started up to %.1f ms late; %s; load %s",
		b.o.latencyRate, b.o.latency, ms(pct(lat, 100)), ms(pct(in.calls, 50)), ms(pct(in.calls, 99)), ms(in.pacingLag), cpuNote, loadAverage())
	in.settle()
	rate, pubRate, drain, err := in.throughputRun(engine+"-single", 16, 0, b.o.maxBacklog, time.Second)
	if err != nil {
		return f, err
	}
	f.single = round(rate)
	f.singleNote = fmt.Sprintf("16 single publishers; events %.0f/s; drained %s after; %s; load %s", pubRate, drain.Round(time.Millisecond), in.cpuNote, loadAverage())
	in.settle()
	rate, pubRate, drain, err = in.throughputRun(engine+"-batch", 0, 4, b.o.maxBacklog, time.Second)
	if err != nil {
		return f, err
	}
	f.batch = round(rate)
	f.batchNote = fmt.Sprintf("4 publishers of batches of 100; events %.0f/s; drained %s after; %s; load %s", pubRate, drain.Round(time.Millisecond), in.cpuNote, loadAverage())
	return f, nil
}

// postgres makes the latency and throughput runs on SQLite, then on PostgreSQL, each on a
// fresh server and database, and sets them side by side.
func (b *bench) postgres() error {
	fmt.Fprintln(os.Stderr, "  on SQLite")
	lite, err := b.measureEngine("sqlite", "")
	if err != nil {
		return err
	}
	db, err := b.createDatabase()
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "  on PostgreSQL")
	pg, err := b.measureEngine("postgres", db)
	if err != nil {
		return err
	}
	f := b.fig
	f.SQLiteLatencyP50Ms, f.SQLiteLatencyP99Ms, f.PostgresLatencyP50Ms, f.PostgresLatencyP99Ms = lite.p50, lite.p99, pg.p50, pg.p99
	f.SQLiteSingleDeliveriesPerS, f.PostgresSingleDeliveriesPerS = lite.single, pg.single
	f.SQLiteBatchDeliveriesPerS, f.PostgresBatchDeliveriesPerS = lite.batch, pg.batch
	f.PostgresSingleRatio, f.PostgresBatchRatio = round3(pg.single/max(1, lite.single)), round3(pg.batch/max(1, lite.batch))
	b.rep.add("sqlite latency p50 / p99", fmt.Sprintf("%.2f / %.2f ms", lite.p50, lite.p99), "", nil, lite.latNote)
	b.rep.add("postgres latency p50 / p99", fmt.Sprintf("%.2f / %.2f ms", pg.p50, pg.p99), "p99 < 10 ms", check(pg.p99 < 10),
		fmt.Sprintf("p99 %.2f× SQLite's", pg.p99/max(0.01, lite.p99)), pg.latNote)
	b.rep.add("sqlite single deliveries/s", fmt.Sprintf("%.0f", lite.single), "", nil, lite.singleNote)
	b.rep.add("postgres single deliveries/s", fmt.Sprintf("%.0f", pg.single), "≥ 0.5× SQLite", check(f.PostgresSingleRatio >= 0.5),
		fmt.Sprintf("%.3f of SQLite's", f.PostgresSingleRatio), pg.singleNote)
	b.rep.add("sqlite batch deliveries/s", fmt.Sprintf("%.0f", lite.batch), "", nil, lite.batchNote)
	b.rep.add("postgres batch deliveries/s", fmt.Sprintf("%.0f", pg.batch), "≥ 0.5× SQLite", check(f.PostgresBatchRatio >= 0.5),
		fmt.Sprintf("%.3f of SQLite's", f.PostgresBatchRatio), pg.batchNote)
	return nil
}

// cluster starts one node on a fresh PostgreSQL database, measures its deliveries/s, starts
// the others (-nodes in all) and waits until they share the shards; then measures the
// deliveries/s of all of them, the latency of events published on one node and sent by
// another, and the time another node takes over a webhook after a kill -9 of its sender.
func (b *bench) cluster() error {
	db, err := b.createDatabase()
	if err != nil {
		return err
	}
	in, err := b.instanceOn("node1", db, nil)
	if err != nil {
		dropDatabase(db)
		return err
	}
	defer in.close()
	leases, err := sql.Open("pgx", db)
	if err != nil {
		return err
	}
	defer leases.Close()
	nodes := []*server{in.srv}
	defer func() { // in.close stops in.srv; a killed node's stop returns at once
		for _, n := range nodes {
			if n != in.srv {
				n.stop()
			}
		}
	}()
	const hooks = 8 // spread over the shards, so that every node sends some
	var spread []string
	for i := range hooks {
		id, err := in.webhook(fmt.Sprintf("Spread %d", i), b.recv.url+"/cluster")
		if err != nil {
			return err
		}
		spread = append(spread, id)
	}
	if _, _, err := in.publishOne(in.api); err != nil {
		return err
	}
	in.settle()
	one, _, _, err := in.throughputRun("cluster-1node", 8, 2, b.o.maxBacklog, time.Second)
	if err != nil {
		return err
	}
	oneNote := in.cpuNote

	// The other nodes.
	for i := 2; i <= b.o.nodes; i++ {
		srv, err := startServer(b.bin, db, filepath.Join(b.dir, fmt.Sprintf("node%d.log", i)), b.o.cpuProfile != "",
			append(b.o.serveArgs(), "--node-name", fmt.Sprintf("node%d", i)))
		if err != nil {
			return err
		}
		nodes = append(nodes, srv)
		fmt.Fprintf(os.Stderr, "  node%d pid %d at %s\n", i, srv.cmd.Process.Pid, srv.base)
	}
	byName := func(name string) int { // node1's name is the default one
		for i := 2; i <= len(nodes); i++ {
			if name == fmt.Sprintf("node%d", i) {
				return i - 1
			}
		}
		return 0
	}
	t0 := time.Now()
	shares, err := waitBalanced(leases, len(nodes), time.Minute)
	if err != nil {
		return err
	}
	balanced := time.Since(t0)
	in.spread = nil
	for _, n := range nodes {
		in.spread = append(in.spread, newClient(n.base, in.api.token, 256))
	}
	owners := map[int]int{}
	for _, id := range spread {
		o, err := owner(leases, id)
		if err != nil {
			return err
		}
		owners[byName(o)]++
	}
	in.settle()
	all, _, _, err := in.throughputRun("cluster-3nodes", 8, 2, b.o.maxBacklog, time.Second)
	if err != nil {
		return err
	}
	b.fig.ClusterNodes, b.fig.ClusterOneNodeDeliveriesPerS, b.fig.ClusterDeliveriesPerS = len(nodes), round(one), round(all)
	b.fig.ClusterDeliveriesRatio = round3(all / max(1, one))
	b.rep.add("cluster 1 node deliveries/s", fmt.Sprintf("%.0f", one), "", nil,
		fmt.Sprintf("8 single + 2 batch publishers, %d webhooks, one node on PostgreSQL; %s; load %s", hooks, oneNote, loadAverage()))
	b.rep.add(fmt.Sprintf("cluster %d nodes deliveries/s", len(nodes)), fmt.Sprintf("%.0f", all), "no collapse (≥ 0.8× 1 node)",
		check(all >= 0.8*one), fmt.Sprintf("%.3f of one node's; the same publishers spread over the nodes; the %d webhooks sent by node1..%d: %v; shards held %v, %s after the others started; %s; load %s",
			b.fig.ClusterDeliveriesRatio, hooks, len(nodes), ownerCounts(owners, len(nodes)), shares, balanced.Round(100*time.Millisecond), node1Only(in.cpuNote), loadAverage()))

	// Latency: one webhook, events published on each node in turn.
	for _, id := range spread {
		if err := in.api.do("POST", "/webhooks/"+id+"/disable", nil, nil, 200); err != nil {
			return err
		}
	}
	hook, err := in.webhook("Latency", b.recv.url+"/clusterlatency")
	if err != nil {
		return err
	}
	time.Sleep(2 * time.Second) // the change reaches every node
	name, err := owner(leases, hook)
	if err != nil {
		return err
	}
	sender := byName(name)
	in.settle()
	lat, starts, cpuNote, err := in.latencyRun("cluster-latency")
	if err != nil {
		return err
	}
	var cross, same []time.Duration
	b.recv.mu.Lock()
	for id, start := range starts {
		for _, a := range b.recv.byEvent[id][:min(1, len(b.recv.byEvent[id]))] {
			if in.via[id] == sender {
				same = append(same, a.at.Sub(start))
			} else {
				cross = append(cross, a.at.Sub(start))
			}
		}
	}
	b.recv.mu.Unlock()
	if after, err := owner(leases, hook); err != nil || byName(after) != sender {
		fmt.Fprintf(os.Stderr, "  the latency webhook changed sender during the run (%s → %s)\n", name, after)
	}
	b.fig.ClusterCrossNodeP50Ms, b.fig.ClusterCrossNodeP99Ms, b.fig.ClusterSameNodeP99Ms = ms(pct(cross, 50)), ms(pct(cross, 99)), ms(pct(same, 99))
	b.rep.add("cluster cross-node p50 / p99", fmt.Sprintf("%.2f / %.2f ms", ms(pct(cross, 50)), ms(pct(cross, 99))), "p99 < 10 ms",
		check(ms(pct(cross, 99)) < 10), fmt.Sprintf("%d events/s published on the %d nodes in turn for %s, one webhook sent by node%d: the %d events published on the others; the %d on node%d itself: p50 %.2f / p99 %.2f ms; all %d: max %.2f ms; the publish call itself p50 %.2f / p99 %.2f ms; calls started up to %.1f ms late; %s; load %s",
			b.o.latencyRate, len(nodes), b.o.latency, sender+1, len(cross), len(same), sender+1, ms(pct(same, 50)), ms(pct(same, 99)),
			len(lat), ms(pct(lat, 100)), ms(pct(in.calls, 50)), ms(pct(in.calls, 99)), ms(in.pacingLag), node1Only(cpuNote), loadAverage()))

	// Takeover: events every 20 ms on the other nodes; kill -9 the sender.
	var survivors []*client
	for i, c := range in.spread {
		if i != sender {
			survivors = append(survivors, c)
		}
	}
	in.spread = survivors
	b.recv.reset(true)
	defer b.recv.setTracking(false)
	var mu sync.Mutex
	var takeoverStarts []time.Time
	var ids []string
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			case <-time.After(20 * time.Millisecond):
			}
			t := time.Now()
			id, _, err := in.publishOne(survivors[i%len(survivors)])
			if err != nil {
				done <- err
				return
			}
			mu.Lock()
			ids, takeoverStarts = append(ids, id), append(takeoverStarts, t)
			mu.Unlock()
		}
	}()
	time.Sleep(time.Second)
	nodes[sender].kill()
	killed := time.Now()
	if sender == 0 {
		in.srv = nodes[1] // settle and close talk to a live node
	}
	var takeover time.Duration
	var lateEvents int
	for deadline := killed.Add(2 * time.Minute); takeover == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			close(stop)
			<-done
			return fmt.Errorf("the webhook sent by node%d had no event from another node within 2 minutes of its kill", sender+1)
		}
		mu.Lock()
		b.recv.mu.Lock()
		for i, id := range ids {
			if takeoverStarts[i].Before(killed) {
				continue
			}
			if got := b.recv.byEvent[id]; len(got) > 0 {
				takeover = got[0].at.Sub(killed)
				lateEvents = len(ids) - i
				break
			}
		}
		b.recv.mu.Unlock()
		mu.Unlock()
	}
	close(stop)
	if err := <-done; err != nil {
		return err
	}
	b.fig.ClusterTakeoverS = round(takeover.Seconds())
	b.rep.add("cluster takeover", fmt.Sprintf("%.2f s", takeover.Seconds()), "≤ 15 s", check(takeover <= 15*time.Second),
		fmt.Sprintf("kill -9 of node%d, the sender of a webhook, while events were published every 20 ms on the others; the kill → the first event published after it arrives from another node (%d events published after the kill by then); leases last 10 s; load %s",
			sender+1, lateEvents, loadAverage()))
	return nil
}

// waitBalanced waits until n nodes hold live leases on all the shards, each at least half
// its fair share, and returns how many each holds.
func waitBalanced(db *sql.DB, n int, within time.Duration) ([]int, error) {
	deadline := time.Now().Add(within)
	for {
		rows, err := db.Query(`SELECT node, count(*) FROM shard_leases WHERE node IS NOT NULL AND expires_at > $1 GROUP BY node`, time.Now().UnixMilli())
		if err != nil {
			return nil, err
		}
		var counts []int
		for rows.Next() {
			var node string
			var c int
			if err := rows.Scan(&node, &c); err != nil {
				rows.Close()
				return nil, err
			}
			counts = append(counts, c)
		}
		rows.Close()
		ok, total := len(counts) == n, 0
		for _, c := range counts {
			total += c
			ok = ok && c >= store.Shards/n/2
		}
		if ok && total == store.Shards {
			return counts, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the %d nodes did not share the %d shards within %s (live leases per node: %v)", n, store.Shards, within, counts)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// owner is the node holding a live lease on the webhook's shard.
func owner(db *sql.DB, webhookID string) (string, error) {
	var node string
	err := db.QueryRow(`SELECT node FROM shard_leases WHERE shard = $1 AND node IS NOT NULL AND expires_at > $2`,
		store.ShardOf(webhookID), time.Now().UnixMilli()).Scan(&node)
	if err != nil {
		return "", fmt.Errorf("the sender of webhook %s: %w", webhookID, err)
	}
	return node, nil
}

// ownerCounts says how many webhooks each node sends ("3, 2, 3").
func ownerCounts(owners map[int]int, n int) string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprint(owners[i]))
	}
	return strings.Join(out, ", ")
}

// node1Only says that a CPU note measured only the first node.
func node1Only(cpuNote string) string {
	return strings.Replace(cpuNote, "CPU: server", "CPU: node1 (the others not measured)", 1)
}
