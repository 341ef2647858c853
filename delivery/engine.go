package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"hookyard/store"
)

// Config tunes the engine (SPEC §6 flags).
type Config struct {
	RetrySchedule  []time.Duration // delays before attempts 2..n
	Workers        int             // requests in flight across all webhooks
	PerWebhook     int             // requests in flight to one webhook while it is healthy
	RequestTimeout time.Duration
	Logger         *slog.Logger
	Metrics        *Metrics
	// OnDisabled is told which webhooks the engine switched off (for e-mail notices).
	OnDisabled func(ctx context.Context, webhookIDs []string)
	// MaxHeld bounds the deliveries held in memory across all webhooks (0: 4 × Workers);
	// everything else waits queued in the database.
	MaxHeld int
	// NodeName names this node among several on one PostgreSQL database (--node-name;
	// "" means DefaultNodeName).
	NodeName string
}

// Engine sends every delivery. The queue lives in the database; the engine holds only a
// small window of what it is about to send. A delivery goes through these states (the
// names are the code's):
//
//	publish, resend, replay
//	        │
//	        ├── room in its lane ──────────────┐ stored held (leased): the fast path
//	        ▼                                  ▼
//	    queued ── due, and room ──► claimed ─► held (in its lane's window)
//	   (pending,   (ClaimDue)                  │ a slot is free (per-webhook limit, workers)
//	    no lease)                              ▼
//	        ▲                               in flight (the sender makes the attempt)
//	        │                                  │ the result writer stores the outcome
//	        └──────── retry: due = end of ─────┤
//	                  attempt + RetryPolicy    ├── 2xx ───────────────► succeeded
//	                                           ├── last attempt, 410 ─► failed (webhook off:
//	                                           │                         its pending → cancelled)
//	                                           └── webhook off/deleted/no longer matching ─► cancelled
//
// Roles: the publisher (Publish) matches events through the match index and hands them to
// the committer, which stores concurrent publishes in shared transactions (group commit);
// the dispatcher keeps one lane per webhook (window, limit, queued-since) and decides what
// is sent next; the claimer pages due deliveries in from the database as lanes have room;
// senders make attempts; the result writer stores outcomes in batches and, when the
// database cannot take them, keeps them and pauses sending until it can (a fault episode).
type Engine struct {
	store  *store.Store
	client *Client
	cfg    Config
	log    *slog.Logger
	retry  RetryPolicy

	idx     *matchIndex
	disp    *dispatcher
	commits *committer
	results *resultWriter
	claims  faultEpisodes
	member  *membership

	// switchedOff holds webhooks this engine has just decided to switch off (410, or attempts
	// exhausted), with when: until the writer has stored that, the cached index still shows
	// them on, and nothing more may be sent to them.
	switchedOff sync.Map // webhook id → time.Time
	// marks remembers, by delivery id, the switchedOff entry an outcome made, so the writer
	// removes exactly that entry once the outcome is stored.
	marks   sync.Map
	notices sync.WaitGroup

	sendCtx    context.Context // cancelled when shutdown stops waiting for attempts
	cancelSend context.CancelFunc
	stop       chan struct{}
	stopOnce   sync.Once
	loops      sync.WaitGroup // dispatcher, claimer, committer, result writer
	workers    sync.WaitGroup
	started    bool
}

// leaseTime is how long a held delivery stays with this process before it counts as lost.
func (e *Engine) leaseTime() time.Duration { return e.cfg.RequestTimeout + time.Minute }

// NewEngine prepares an engine; Start runs it.
func NewEngine(st *store.Store, client *Client, cfg Config) *Engine {
	if cfg.Workers <= 0 {
		cfg.Workers = 256
	}
	if cfg.PerWebhook <= 0 {
		cfg.PerWebhook = 8
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	if cfg.RetrySchedule == nil {
		cfg.RetrySchedule = []time.Duration{10 * time.Second, time.Minute, 10 * time.Minute, time.Hour}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxHeld <= 0 {
		cfg.MaxHeld = 4 * cfg.Workers
	}
	if cfg.NodeName == "" {
		cfg.NodeName = DefaultNodeName()
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Engine{
		store: st, client: client, cfg: cfg, log: cfg.Logger,
		retry:   RetryPolicy{Schedule: cfg.RetrySchedule},
		idx:     newMatchIndex(st),
		sendCtx: ctx, cancelSend: cancel,
		stop: make(chan struct{}),
	}
	e.disp = newDispatcher(dispatcherConfig{workers: cfg.Workers, perWebhook: cfg.PerWebhook,
		laneWindow: min(32*cfg.PerWebhook, cfg.MaxHeld), maxHeld: cfg.MaxHeld})
	e.member = newMembership(e, cfg.NodeName, st.Shared())
	e.disp.lease = e.member.lease
	e.disp.controls = e.idx.laneControls
	e.commits = newCommitter(st, cfg.Logger)
	e.claims = faultEpisodes{log: cfg.Logger, what: "claim pending deliveries"}
	e.results = newResultWriter(e, 4*cfg.Workers)
	cfg.Metrics.watchWrites(func() bool {
		return e.results.fault.fault() != "" || e.commits.fault.fault() != "" || e.claims.fault() != ""
	})
	return e
}

// Start frees what a previous run held, loads the match index and starts sending. The
// backlog stays in the database: Start only learns which webhooks have queued deliveries,
// in the background, so the server answers at once however large the backlog is.
func (e *Engine) Start(ctx context.Context) error {
	if !e.member.shared {
		// The only node: whatever is held was held by a run that ended.
		if err := e.store.ReleaseLeases(ctx); err != nil {
			return fmt.Errorf("release leases: %w", err)
		}
	}
	if err := e.idx.refresh(ctx); err != nil {
		return err
	}
	e.started = true
	e.loops.Add(3)
	go func() { defer e.loops.Done(); e.disp.run(e.stop) }()
	go func() { defer e.loops.Done(); e.claimLoop() }()
	go func() { defer e.loops.Done(); e.results.run() }()
	// SQLite takes one writer at a time, so one committer groups everything; PostgreSQL
	// commits side by side, so several committers keep its round trips from queueing.
	committers := 1
	if e.store.Shared() {
		committers = 4
	}
	for range committers {
		e.loops.Add(1)
		go func() { defer e.loops.Done(); e.commits.run() }()
	}
	for range e.cfg.Workers {
		e.workers.Add(1)
		go e.sender()
	}
	if e.member.shared {
		// Take this node's share first, then keep it; hear of work and changes from others.
		e.member.balance(ctx)
		go e.member.run(e.sendCtx)
		go func() {
			_ = e.store.Listen(e.sendCtx, []string{store.ChannelWork, store.ChannelShards}, e.member.notified)
		}()
	} else {
		go e.resumeShards(nil)
	}
	go e.cfg.Metrics.run(e.stop)
	return nil
}

// resumeShards tells the dispatcher which webhooks of the given shards (nil: all) have
// deliveries queued: from before the start, or from a node that held the shards before. It
// reads only which webhooks have queued work, not the backlog itself.
func (e *Engine) resumeShards(shards []int) {
	if shards != nil && len(shards) == 0 {
		return
	}
	queued, err := e.store.QueuedWebhooks(e.sendCtx)
	if err != nil {
		if e.sendCtx.Err() == nil {
			e.log.Error("find pending deliveries", "err", err)
		}
		return
	}
	n := 0
	for id, due := range queued {
		if shards == nil || slices.Contains(shards, store.ShardOf(id)) {
			e.disp.queuedWork(id, due)
			n++
		}
	}
	if n > 0 {
		e.log.Info("resuming pending deliveries", "webhooks", n)
	}
}

// claimLoop pages due deliveries in from the database for lanes with room.
func (e *Engine) claimLoop() {
	for reqs := range e.disp.claim {
		claims := make([]store.Claim, len(reqs))
		for i, r := range reqs {
			claims[i] = store.Claim{WebhookID: r.lane.id, Limit: r.limit, Ordered: r.ordered, Owner: r.owner}
		}
		now := time.Now()
		got, err := e.store.ClaimDue(context.Background(), now, now.Add(e.leaseTime()), claims)
		if err != nil {
			e.claims.failed("", err)
		} else {
			e.claims.ok()
		}
		e.disp.claimed(reqs, got, err)
	}
}

// Stop stops taking new work, lets attempts in flight finish until ctx ends, then cancels the
// rest; whatever was not sent stays pending in the database for the next start.
func (e *Engine) Stop(ctx context.Context) {
	e.stopOnce.Do(func() { e.stopNow(ctx) })
}

func (e *Engine) stopNow(ctx context.Context) {
	close(e.stop)
	if !e.started {
		return
	}
	finished := make(chan struct{})
	go func() { e.workers.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-ctx.Done():
		e.cancelSend()
		<-finished
	}
	e.commits.close()
	e.results.close(ctx)
	e.loops.Wait()
	// E-mail notices get until the deadline; they have their own timeouts too.
	sent := make(chan struct{})
	go func() { e.notices.Wait(); close(sent) }()
	select {
	case <-sent:
	case <-ctx.Done():
	}
	e.cancelSend()
	if err := e.store.ReleaseHeld(context.Background(), e.disp.heldIDs()); err != nil {
		e.log.Error("release held deliveries at shutdown", "err", err)
	}
	e.member.leave()
}

// Enqueue tells the sender about stored pending deliveries (a resend or a replay); they are
// claimed from the database in their turn.
func (e *Engine) Enqueue(works []store.PendingWork) {
	seen := map[string]bool{}
	for _, w := range works {
		if !seen[w.Delivery.WebhookID] {
			seen[w.Delivery.WebhookID] = true
			e.disp.queuedWork(w.Delivery.WebhookID, time.Now())
		}
	}
}

// Limited makes a request outside the queue (a test send or a health check) through the
// same per-webhook limit as deliveries: it waits for a free slot in the lane named laneID
// (the webhook id, or the URL of a webhook not saved yet), then calls send.
func (e *Engine) Limited(ctx context.Context, laneID string, send func() Result) (Result, error) {
	if err := e.disp.acquire(ctx, laneID); err != nil {
		return Result{}, err
	}
	sent := e.cfg.Metrics.sending()
	res := send()
	sent()
	s := signalFailure
	if res.OK() {
		s = signalSuccess
	}
	e.disp.finished(laneID, s, false)
	return res, nil
}

// ErrStopping is returned by Publish while the engine shuts down.
var ErrStopping = errors.New("hookyard is shutting down")

func eventData(ev store.Event) EventData {
	return EventData{ID: ev.ID, Type: ev.Type, OrganizationID: ev.OrganizationID, ProjectID: ev.ProjectID,
		CreatedAt: ev.CreatedAt, PreviousValue: ev.PreviousValue, CurrentValue: ev.CurrentValue}
}
