package delivery

import (
	"context"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hookyard/store"
)

// Several nodes on one PostgreSQL database (SPEC §8). The webhooks are divided into
// store.Shards shards; each node holds leases on its fair share of them, renewed by
// heartbeats, and sends only the webhooks of its shards — so the per-webhook limit and the
// order of one webhook hold across the cluster. A publish on any node stores its deliveries;
// those of shards held here go straight to this node's sender, the others are announced to
// their holder with one NOTIFY. A node that stops gives its shards back at once; one that
// dies loses them when its leases expire.
//
// Under SQLite there is one node: it holds every shard, without leases.

const (
	shardLease      = 10 * time.Second // how long a lease lasts unless renewed
	shardRenew      = 2 * time.Second  // how often leases are renewed and shares rebalanced
	shardMargin     = 2 * time.Second  // a lease this close to its end is no longer used to send
	backstopRescan  = 10 * time.Second // how often held shards are searched for queued work anyway
	nodeAliveWithin = shardLease       // a node without a heartbeat for this long is gone
)

// DefaultNodeName is the host name and process id.
func DefaultNodeName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}

// membership is this node's part of the cluster: the shards it holds and under which lease.
type membership struct {
	e       *Engine
	node    string
	started time.Time
	shared  bool // several nodes may share the database
	token   string

	mu    sync.RWMutex
	held  [store.Shards]shardHold
	nodes []store.Node // as the last balance saw them

	kick      chan struct{}
	releasing atomic.Bool // shards are being given back
}

type shardHold struct {
	held  bool
	epoch int64
	until time.Time
}

func newMembership(e *Engine, node string, shared bool) *membership {
	started := time.Now()
	return &membership{e: e, node: node, started: started, shared: shared,
		token: node + "@" + strconv.FormatInt(started.UnixMilli(), 10), kick: make(chan struct{}, 1)}
}

// lease returns the lease under which this node may send for a webhook now ("" and false
// when another node sends it).
func (m *membership) lease(webhookID string) (string, bool) {
	if !m.shared {
		return m.token, true
	}
	sh := store.ShardOf(webhookID)
	m.mu.RLock()
	h := m.held[sh]
	m.mu.RUnlock()
	if !h.held || time.Now().After(h.until.Add(-shardMargin)) {
		return "", false
	}
	return m.token + "#" + strconv.FormatInt(h.epoch, 10), true
}

// heldShards lists the shards held now.
func (m *membership) heldShards() []int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []int
	for sh, h := range m.held {
		if h.held {
			out = append(out, sh)
		}
	}
	return out
}

// run keeps this node's leases and shares until ctx ends, then gives them back.
func (m *membership) run(ctx context.Context) {
	if !m.shared {
		return
	}
	tick := time.NewTicker(shardRenew)
	defer tick.Stop()
	lastScan := time.Now()
	for {
		m.balance(ctx)
		if time.Since(lastScan) > backstopRescan {
			lastScan = time.Now()
			m.e.resumeShards(m.heldShards())
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-m.kick:
		}
	}
}

// wake makes the next balance happen now (another node gave shards up).
func (m *membership) wake() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// balance renews this node's leases, takes free or expired shards up to its fair share and
// gives back what is beyond it.
func (m *membership) balance(ctx context.Context) {
	st := m.e.store
	if err := st.Heartbeat(ctx, m.node, m.started); err != nil {
		m.e.claims.failed("heartbeat", err)
		return
	}
	nodes, err := st.Nodes(ctx, time.Now().Add(-nodeAliveWithin))
	if err != nil {
		return
	}
	fair := int(math.Ceil(float64(store.Shards) / float64(max(1, len(nodes)))))
	m.mu.Lock()
	m.nodes = nodes
	m.mu.Unlock()

	leases, err := st.ShardLeases(ctx)
	if err != nil {
		return
	}
	now := time.Now()
	var mine, free []int
	for _, l := range leases {
		switch {
		case l.Node == m.node && !l.ExpiresAt.Before(now):
			mine = append(mine, l.Shard)
		case l.Node == "" || l.ExpiresAt.Before(now):
			free = append(free, l.Shard)
		}
	}
	// Beyond the fair share: give the last ones back, once nothing of theirs is in flight.
	var giveBack []int
	for len(mine) > fair {
		giveBack = append(giveBack, mine[len(mine)-1])
		mine = mine[:len(mine)-1]
	}
	if len(mine) < fair {
		// Spread the takers: start at a place that differs per node.
		start := store.ShardOf(m.node) % max(1, len(free))
		free = append(free[start:], free[:start]...)
		mine = append(mine, free[:min(len(free), fair-len(mine))]...)
	}
	got, err := st.TakeShards(ctx, m.node, mine, now.Add(shardLease))
	if err != nil {
		m.e.claims.failed("renew shard leases", err)
		return
	}
	m.e.claims.ok()
	var gained, lost []int
	m.mu.Lock()
	was := m.held
	var next [store.Shards]shardHold
	for _, l := range got {
		next[l.Shard] = shardHold{held: true, epoch: l.Epoch, until: l.ExpiresAt}
	}
	for _, sh := range giveBack {
		// Keep sending what is in flight under the old lease until it is released below.
		next[sh] = shardHold{}
	}
	m.held = next
	m.mu.Unlock()
	m.e.cfg.Metrics.clusterSeen(len(nodes), len(got))
	for sh := range store.Shards {
		switch {
		case next[sh].held && (!was[sh].held || was[sh].epoch != next[sh].epoch):
			gained = append(gained, sh)
		case !next[sh].held && was[sh].held:
			lost = append(lost, sh)
		}
	}
	if len(lost) > 0 {
		m.e.disp.drop(func(webhookID string) bool { return slices.Contains(lost, store.ShardOf(webhookID)) })
		m.e.log.Info("shards moved to other nodes", "node", m.node, "shards", len(lost))
	}
	if len(giveBack) > 0 && m.releasing.CompareAndSwap(false, true) {
		// Not renewed any more; given back once their requests in flight have finished (in
		// the background: the other leases must go on being renewed meanwhile).
		go func() {
			defer m.releasing.Store(false)
			m.e.disp.waitIdle(ctx, func(webhookID string) bool { return slices.Contains(giveBack, store.ShardOf(webhookID)) }, m.e.cfg.RequestTimeout)
			if err := st.ReleaseShards(ctx, m.node, giveBack); err == nil {
				_ = st.Notify(ctx, store.ChannelShards, m.node)
			}
		}()
	}
	if len(gained) > 0 {
		m.e.takeOver(gained)
	}
}

// Nodes lists the nodes serving this database with the shares they send, as this node saw
// them at its last heartbeat; under SQLite, this node alone.
func (e *Engine) Nodes() []store.Node {
	m := e.member
	if !m.shared {
		return []store.Node{{Name: m.node, StartedAt: m.started, HeartbeatAt: time.Now(), Shards: store.Shards}}
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.nodes)
}

// leave gives every shard back at once and removes this node (clean shutdown).
func (m *membership) leave() {
	if !m.shared {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.e.store.ForgetNode(ctx, m.node); err != nil {
		m.e.log.Error("give shards back", "err", err)
		return
	}
	_ = m.e.store.Notify(ctx, store.ChannelShards, m.node)
}

// notified handles a notification from another node.
func (m *membership) notified(channel, payload string) {
	switch channel {
	case "":
		// (Re)connected: anything announced meanwhile is found by a scan.
		m.e.resumeShards(m.heldShards())
	case store.ChannelShards:
		if payload != m.node {
			m.wake()
		}
	case store.ChannelWork:
		now := time.Now()
		for _, id := range strings.Split(payload, ",") {
			if _, ok := m.lease(id); ok {
				m.e.disp.queuedWork(id, now)
			}
		}
	}
}

// takeOver starts sending for newly held shards: deliveries a former holder still held are
// put back in the queue, then the shards' queued work is found.
func (e *Engine) takeOver(shards []int) {
	byShard := map[int][]string{}
	for _, id := range e.idx.ids() {
		if sh := store.ShardOf(id); slices.Contains(shards, sh) {
			byShard[sh] = append(byShard[sh], id)
		}
	}
	for _, ids := range byShard {
		owner, ok := e.member.lease(ids[0])
		if !ok {
			continue
		}
		if err := e.store.ReleaseHeldOf(e.sendCtx, ids, owner); err != nil {
			e.log.Error("take over held deliveries", "err", err)
		}
	}
	e.resumeShards(shards)
}
