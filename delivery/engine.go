package delivery

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
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
}

// Engine sends every delivery: it fans events out to webhooks, sends at once, retries on
// schedule, switches failing webhooks off, and records every attempt.
//
// One dispatcher goroutine owns the queues (per webhook, FIFO) and a timer heap for retries;
// a fixed pool of workers sends; one writer goroutine stores results in batches. Nothing on
// the path from publish to the receiver polls.
type Engine struct {
	store  *store.Store
	client *Client
	cfg    Config
	log    *slog.Logger

	idxMu sync.Mutex // held while rebuilding idx
	idx   atomic.Pointer[matchIndex]

	submit  chan []job
	done    chan doneMsg
	work    chan job
	results chan store.AttemptOutcome

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
	loops      sync.WaitGroup // dispatcher and writer
	workers    sync.WaitGroup
}

// leaseTime is how long a claimed delivery stays with this process before it counts as lost.
func (e *Engine) leaseTime() time.Duration { return e.cfg.RequestTimeout + time.Minute }

// maxAttempts is the number of tries a delivery gets: the first, then one per retry delay.
func (e *Engine) maxAttempts() int { return len(e.cfg.RetrySchedule) + 1 }

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
	ctx, cancel := context.WithCancel(context.Background())
	return &Engine{
		store: st, client: client, cfg: cfg, log: cfg.Logger,
		submit:  make(chan []job, 1024),
		done:    make(chan doneMsg, cfg.Workers),
		work:    make(chan job, cfg.Workers),
		results: make(chan store.AttemptOutcome, 4*cfg.Workers),
		sendCtx: ctx, cancelSend: cancel,
		stop: make(chan struct{}),
	}
}

// job is one attempt waiting to be made.
type job struct {
	deliveryID string
	webhookID  string
	attempt    int // 1-based number of the attempt to make
	due        time.Time
	event      EventData
	claimed    bool // leased in the database already (fresh from publish)
}

// doneMsg tells the dispatcher an attempt finished.
type doneMsg struct {
	webhookID string
	ok        bool
	retry     *job // the next attempt, when there is one
}

// Start picks up what a previous run left pending, then starts sending.
func (e *Engine) Start(ctx context.Context) error {
	if err := e.store.ReleaseLeases(ctx); err != nil {
		return fmt.Errorf("release leases: %w", err)
	}
	if _, err := e.index(ctx); err != nil {
		return err
	}
	e.loops.Add(2)
	go e.dispatch()
	go e.write()
	for range e.cfg.Workers {
		e.workers.Add(1)
		go e.worker()
	}
	// Recover pending deliveries after the workers run, in pages, so a large backlog
	// streams in rather than sitting in memory before the first send.
	after := ""
	recovered := 0
	for {
		page, err := e.store.PendingDeliveries(ctx, after, 1000)
		if err != nil {
			return fmt.Errorf("load pending deliveries: %w", err)
		}
		if len(page) == 0 {
			break
		}
		jobs := make([]job, len(page))
		for i, p := range page {
			due := time.Now()
			if p.Delivery.NextAttemptAt != nil {
				due = *p.Delivery.NextAttemptAt
			}
			jobs[i] = job{deliveryID: p.Delivery.ID, webhookID: p.Delivery.WebhookID, attempt: p.Delivery.Attempts + 1,
				due: due, event: eventData(p.Event)}
		}
		e.submit <- jobs
		recovered += len(page)
		after = page[len(page)-1].Delivery.ID
	}
	if recovered > 0 {
		e.log.Info("resuming pending deliveries", "count", recovered)
	}
	return nil
}

// Stop stops taking new work, lets attempts in flight finish until ctx ends, then cancels the
// rest; whatever was not sent stays pending in the database for the next start.
func (e *Engine) Stop(ctx context.Context) {
	e.stopOnce.Do(func() { e.stopNow(ctx) })
}

func (e *Engine) stopNow(ctx context.Context) {
	close(e.stop)
	finished := make(chan struct{})
	go func() { e.workers.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-ctx.Done():
		e.cancelSend()
		<-finished
	}
	close(e.results)
	e.loops.Wait()
	// E-mail notices get until the deadline; they have their own timeouts too.
	sent := make(chan struct{})
	go func() { e.notices.Wait(); close(sent) }()
	select {
	case <-sent:
	case <-ctx.Done():
	}
	e.cancelSend()
	if err := e.store.ReleaseLeases(context.Background()); err != nil {
		e.log.Error("release leases at shutdown", "err", err)
	}
}

func eventData(ev store.Event) EventData {
	return EventData{ID: ev.ID, Type: ev.Type, OrganizationID: ev.OrganizationID, ProjectID: ev.ProjectID,
		CreatedAt: ev.CreatedAt, PreviousValue: ev.PreviousValue, CurrentValue: ev.CurrentValue}
}

// Enqueue hands stored pending deliveries (a resend or a replay) to the sender.
func (e *Engine) Enqueue(works []store.PendingWork) {
	jobs := make([]job, len(works))
	for i, w := range works {
		jobs[i] = job{deliveryID: w.Delivery.ID, webhookID: w.Delivery.WebhookID, attempt: w.Delivery.Attempts + 1,
			due: time.Now(), event: eventData(w.Event)}
	}
	e.enqueue(jobs)
}

func (e *Engine) enqueue(jobs []job) {
	select {
	case <-e.stop:
		// Stopping: the deliveries are stored and will be sent after the next start.
	case e.submit <- jobs:
	}
}

// EventInput is one event to publish, already validated.
type EventInput struct {
	Type           string
	OrganizationID string
	ProjectID      string
	PreviousValue  json.RawMessage
	CurrentValue   json.RawMessage
}

// Published is what a publish call reports for each event.
type Published struct {
	ID         string    `json:"id"`
	Event      string    `json:"event"`
	ProjectID  string    `json:"projectId"`
	CreatedAt  time.Time `json:"createdAt"`
	Deliveries int       `json:"deliveries"`
}

// Idempotency makes a publish repeatable: the same user and key get the first answer.
type Idempotency struct {
	UserID string
	Key    string
	// Fingerprint identifies the request: the key reused with another one is store.ErrKeyReused.
	Fingerprint string
	// Respond renders the answer to store with the events.
	Respond func([]Published) ([]byte, error)
}

// ErrStopping is returned by Publish while the engine shuts down.
var ErrStopping = errors.New("hookyard is shutting down")

// IdempotencyWindow is how long an Idempotency-Key's first answer is repeated.
const IdempotencyWindow = store.IdempotencyWindow

// Publish stores events with a delivery for every webhook that receives them (and a missed
// record for every disabled one that would have), in one transaction, then starts sending at
// once. With idem set and a key seen in the last 24 h, nothing is stored and replay holds the
// first answer.
func (e *Engine) Publish(ctx context.Context, publisherID string, in []EventInput, idem *Idempotency) (out []Published, replay []byte, err error) {
	select {
	case <-e.stop:
		return nil, nil, ErrStopping
	default:
	}
	if idem != nil {
		resp, err := e.store.IdempotentResponse(ctx, idem.UserID, idem.Key, idem.Fingerprint, time.Now().Add(-IdempotencyWindow))
		if err == nil {
			return nil, resp, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, nil, err
		}
	}
	idx, err := e.index(ctx)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now().UTC().Truncate(time.Millisecond) // stored times have millisecond precision
	lease := now.Add(e.leaseTime())
	var pub store.Publication
	var jobs []job
	out = make([]Published, len(in))
	for i, ev := range in {
		stored := store.Event{ID: e.store.NextID("evt"), Type: ev.Type, OrganizationID: ev.OrganizationID,
			ProjectID: ev.ProjectID, PreviousValue: ev.PreviousValue, CurrentValue: ev.CurrentValue,
			PublisherID: publisherID, CreatedAt: now}
		pub.Events = append(pub.Events, stored)
		out[i] = Published{ID: stored.ID, Event: ev.Type, ProjectID: ev.ProjectID, CreatedAt: now}
		ref := EventRef{Type: ev.Type, ProjectID: ev.ProjectID, OrganizationID: ev.OrganizationID}
		data := eventData(stored)
		for _, h := range idx.hooks {
			switch Match(h.webhook, h.owner, ref) {
			case Receives:
				d := store.Delivery{ID: e.store.NextID("dlv"), EventID: stored.ID, WebhookID: h.webhook.ID,
					EventType: ev.Type, CreatedAt: now, NextAttemptAt: &now, LeaseUntil: &lease}
				pub.Deliveries = append(pub.Deliveries, d)
				jobs = append(jobs, job{deliveryID: d.ID, webhookID: h.webhook.ID, attempt: 1, due: now, event: data, claimed: true})
				out[i].Deliveries++
			case Disabled:
				pub.Missed = append(pub.Missed, store.MissedEvent{WebhookID: h.webhook.ID, EventID: stored.ID})
			}
		}
	}
	if idem != nil {
		pub.IdempotencyUserID, pub.IdempotencyKey, pub.RequestHash = idem.UserID, idem.Key, idem.Fingerprint
		if pub.Response, err = idem.Respond(out); err != nil {
			return nil, nil, err
		}
	}
	if err := e.store.Publish(ctx, pub); errors.Is(err, store.ErrConflict) && idem != nil {
		resp, err := e.store.IdempotentResponse(ctx, idem.UserID, idem.Key, idem.Fingerprint, now.Add(-IdempotencyWindow))
		return nil, resp, err
	} else if err != nil {
		return nil, nil, err
	}
	e.cfg.Metrics.published(len(in), len(jobs))
	if len(jobs) > 0 {
		e.enqueue(jobs)
	}
	return out, nil, nil
}

// hookQueue is the dispatcher's state for one webhook.
type hookQueue struct {
	jobs     []job
	inflight int
	limit    int  // drops to 1 while requests fail and grows back by one per success
	runnable bool // listed in the dispatcher's ready ring
}

// dispatch is the single goroutine that decides what is sent next.
func (e *Engine) dispatch() {
	defer e.loops.Done()
	defer close(e.work)
	queues := map[string]*hookQueue{}
	var ready []string // webhooks with queued jobs and room in flight, round-robin
	var delayed delayHeap
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	inflight := 0
	stopping := false
	stop := e.stop // set to nil once seen, so a closed channel does not spin the loop

	queueFor := func(id string) *hookQueue {
		q := queues[id]
		if q == nil {
			q = &hookQueue{limit: e.cfg.PerWebhook}
			queues[id] = q
		}
		return q
	}
	markReady := func(id string, q *hookQueue) {
		if !q.runnable && len(q.jobs) > 0 && q.inflight < q.limit {
			q.runnable = true
			ready = append(ready, id)
		}
	}
	add := func(j job, now time.Time) {
		if j.due.After(now) {
			heap.Push(&delayed, j)
			return
		}
		q := queueFor(j.webhookID)
		q.jobs = append(q.jobs, j)
		markReady(j.webhookID, q)
	}
	resetTimer := func() {
		timer.Stop()
		if len(delayed) > 0 {
			timer.Reset(time.Until(delayed[0].due))
		}
	}
	for {
		// Send as much as the global and per-webhook limits allow, fairly across webhooks.
		for !stopping && inflight < e.cfg.Workers && len(ready) > 0 {
			id := ready[0]
			ready = ready[1:]
			q := queues[id]
			q.runnable = false
			if len(q.jobs) == 0 || q.inflight >= q.limit {
				continue
			}
			j := q.jobs[0]
			q.jobs[0] = job{}
			q.jobs = q.jobs[1:]
			q.inflight++
			inflight++
			e.work <- j
			markReady(id, q)
		}
		if stopping && inflight == 0 {
			return
		}
		select {
		case jobs := <-e.submit:
			now := time.Now()
			for _, j := range jobs {
				add(j, now)
			}
			resetTimer()
		case d := <-e.done:
			inflight--
			q := queueFor(d.webhookID)
			q.inflight--
			if d.ok {
				q.limit = min(q.limit+1, e.cfg.PerWebhook)
			} else {
				q.limit = 1
			}
			if d.retry != nil {
				add(*d.retry, time.Now())
				resetTimer()
			}
			markReady(d.webhookID, q)
			if q.inflight == 0 && len(q.jobs) == 0 && q.limit == e.cfg.PerWebhook {
				delete(queues, d.webhookID)
			}
		case <-timer.C:
			now := time.Now()
			for len(delayed) > 0 && !delayed[0].due.After(now) {
				j := heap.Pop(&delayed).(job)
				j.due = now
				add(j, now)
			}
			resetTimer()
		case <-stop:
			stopping, stop = true, nil
			timer.Stop()
		}
	}
}

// worker makes attempts until the dispatcher closes the work channel.
func (e *Engine) worker() {
	defer e.workers.Done()
	for j := range e.work {
		e.done <- e.attempt(j)
	}
}

// attempt sends one job and reports what it means; the outcome goes to the writer.
func (e *Engine) attempt(j job) doneMsg {
	ctx := e.sendCtx
	msg := doneMsg{webhookID: j.webhookID, ok: true}
	idx, err := e.index(ctx)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("load webhooks", "err", err)
		}
		retry := j
		retry.due = time.Now().Add(time.Second)
		msg.ok, msg.retry = false, &retry
		return msg
	}
	h, ok := idx.byID[j.webhookID]
	reason := ""
	switch {
	case e.justSwitchedOff(h):
		reason = "Cancelled: the webhook was switched off."
	case !ok || !h.webhook.Enabled:
		reason = "Cancelled: the webhook was switched off or deleted."
	case Match(h.webhook, h.owner, EventRef{Type: j.event.Type, ProjectID: j.event.ProjectID, OrganizationID: j.event.OrganizationID}) != Receives:
		// Checked again at every attempt: an owner who left the organisation, or a webhook
		// whose choices changed, must not get the event.
		reason = "Cancelled: the webhook no longer receives this event (its choices or its owner's access changed)."
	}
	if reason != "" {
		if err := e.store.CancelDelivery(ctx, j.deliveryID, reason); err != nil {
			e.log.Error("cancel delivery", "delivery", j.deliveryID, "err", err)
		}
		return msg
	}
	if !j.claimed {
		claimed, err := e.store.ClaimDelivery(ctx, j.deliveryID, time.Now().Add(e.leaseTime()))
		if err != nil && ctx.Err() == nil {
			e.log.Error("claim delivery; trying again shortly", "delivery", j.deliveryID, "err", err)
			retry := j
			retry.due = time.Now().Add(time.Second)
			msg.ok, msg.retry = false, &retry
			return msg
		}
		if err != nil || !claimed {
			return msg // no longer pending (cancelled, or done by a resend), or shutting down
		}
	}
	body, err := BuildPayload(h.webhook, j.event)
	if err != nil {
		e.log.Error("build payload", "delivery", j.deliveryID, "err", err)
		return msg
	}
	now := time.Now()
	res := e.client.Send(ctx, Request{URL: h.webhook.URL, Secrets: h.webhook.SigningSecrets(now),
		MessageID: j.deliveryID, Event: j.event.Type, Attempt: j.attempt, Body: body})
	if ctx.Err() != nil {
		// Shutdown cut the attempt short: it does not count, and the delivery stays pending.
		return msg
	}
	out := store.AttemptOutcome{Attempt: store.Attempt{
		DeliveryID: j.deliveryID, WebhookID: j.webhookID, Number: j.attempt, StartedAt: res.StartedAt,
		Duration: res.Duration, RequestHeaders: res.RequestHeaders, StatusCode: res.StatusCode,
		ResponseHeaders: res.ResponseHeaders, ResponseBody: string(res.ResponseBody), Truncated: res.Truncated,
		Error: res.Error, OK: res.OK(), HeadersTruncated: res.HeadersTruncated,
	}, Created: j.event.CreatedAt}
	switch {
	case res.OK():
		out.Status = store.DeliverySucceeded
	case res.StatusCode == http.StatusGone:
		out.Status = store.DeliveryFailed
		out.DisableReason = fmt.Sprintf("The receiver answered 410 Gone for %s, which means it no longer wants these requests.", j.event.Type)
	case j.attempt >= e.maxAttempts():
		out.Status = store.DeliveryFailed
		out.DisableReason = fmt.Sprintf("%d attempts failed for %s: %s", j.attempt, j.event.Type, res.Error)
	default:
		out.Status = store.DeliveryPending
		next := now.Add(e.retryDelay(j.attempt, res.RetryAfter))
		out.NextAttemptAt = &next
		retry := j
		retry.attempt, retry.due, retry.claimed = j.attempt+1, next, false
		msg.retry = &retry
	}
	msg.ok = res.OK()
	if out.DisableReason != "" {
		mark := time.Now()
		e.switchedOff.Store(j.webhookID, mark)
		e.marks.Store(j.deliveryID, mark)
	}
	e.cfg.Metrics.attempted(res, out.Status == store.DeliverySucceeded, j.event.CreatedAt)
	e.results <- out
	return msg
}

// justSwitchedOff reports whether the engine switched this webhook off itself and the
// stored state (as the index shows it) may not say so yet.
func (e *Engine) justSwitchedOff(h *hookState) bool {
	if h == nil {
		return false
	}
	v, ok := e.switchedOff.Load(h.webhook.ID)
	if !ok {
		return false
	}
	at := v.(time.Time).Truncate(time.Millisecond)
	if !h.webhook.Enabled || (h.webhook.LastDisabledAt != nil && !h.webhook.LastDisabledAt.Before(at)) {
		// The store knows: it is off (the normal checks apply), or it was switched back on
		// after this engine switched it off.
		e.switchedOff.Delete(h.webhook.ID)
		return false
	}
	return true
}

// retryDelay is the wait before the attempt after attempt n: the schedule ±10 % jitter, or
// longer when the receiver asked for it with Retry-After (already capped at an hour).
func (e *Engine) retryDelay(n int, retryAfter time.Duration) time.Duration {
	base := e.cfg.RetrySchedule[min(n-1, len(e.cfg.RetrySchedule)-1)]
	d := time.Duration(float64(base) * (0.9 + 0.2*rand.Float64()))
	return max(d, retryAfter)
}

// write stores attempt outcomes in batches: one transaction per batch keeps up with
// thousands of attempts a second on one SQLite writer, and a modest batch size bounds how
// long a publish waits for that writer.
func (e *Engine) write() {
	defer e.loops.Done()
	batch := make([]store.AttemptOutcome, 0, 128)
	for first := range e.results {
		batch = append(batch[:0], first)
	collect:
		for len(batch) < cap(batch) {
			select {
			case o, ok := <-e.results:
				if !ok {
					break collect
				}
				batch = append(batch, o)
			default:
				break collect
			}
		}
		disabled, err := e.store.RecordAttempts(context.Background(), batch)
		if err != nil {
			// One bad outcome must not lose the others: store them one by one.
			e.log.Error("record attempts; retrying one by one", "count", len(batch), "err", err)
			disabled = disabled[:0]
			for _, o := range batch {
				d, err := e.store.RecordAttempts(context.Background(), []store.AttemptOutcome{o})
				if err != nil {
					e.log.Error("record attempt", "delivery", o.Attempt.DeliveryID, "err", err)
				}
				disabled = append(disabled, d...)
			}
		}
		for _, id := range disabled {
			e.log.Warn("webhook switched off after failures", "webhook", id)
		}
		// Stored: the index now shows what was switched off, and an outcome whose switch-off
		// did not happen (its delivery was cancelled meanwhile) must not keep blocking.
		for _, o := range batch {
			if mark, ok := e.marks.LoadAndDelete(o.Attempt.DeliveryID); ok {
				e.switchedOff.CompareAndDelete(o.Attempt.WebhookID, mark)
			}
		}
		if len(disabled) > 0 && e.cfg.OnDisabled != nil {
			e.notices.Add(1)
			go func(ids []string) {
				defer e.notices.Done()
				e.cfg.OnDisabled(context.Background(), ids)
			}(append([]string(nil), disabled...))
		}
	}
}

// delayHeap orders waiting retries by due time.
type delayHeap []job

func (h delayHeap) Len() int           { return len(h) }
func (h delayHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h delayHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *delayHeap) Push(x any)        { *h = append(*h, x.(job)) }
func (h *delayHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	*h = old[:len(old)-1]
	return j
}
