package delivery

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"hookyard/store"
)

// job is one held delivery waiting for, or making, its next attempt. It carries ids, not the
// payload: the event is loaded when the request is about to be sent, unless a fresh publish
// left a small copy (ev) on the way.
type job struct {
	deliveryID string
	webhookID  string
	eventID    string
	messageID  string // webhook-id: the same on every attempt, resend and replay
	attempt    int    // 1-based number of the attempt to make
	ev         *EventData
	owner      string // the lease it is held under ("node@start#epoch")
}

// heldPayloadMax is the largest event a fresh job keeps in memory; bigger ones are loaded
// again when sent, so the window's memory stays small whatever the payloads.
const heldPayloadMax = 8 << 10

// dispatcherConfig bounds what the dispatcher holds.
type dispatcherConfig struct {
	workers    int // requests in flight, all webhooks
	perWebhook int // requests in flight to one webhook while it is healthy
	laneWindow int // held deliveries (waiting + in flight) per webhook
	maxHeld    int // held deliveries, all webhooks
}

// dispatcher decides what is sent next. It keeps, per webhook, a lane: a small window of
// held deliveries, the requests in flight and the webhook's concurrency limit, its pacing
// (when its next request may start), and whether (and from when) more of its deliveries
// wait queued in the database. Lanes take turns (round robin), so a webhook with a million
// queued deliveries and one with a single fresh event are served alike. Nothing polls:
// publishes, finished requests, stored retries, due times and paced starts wake the loop.
type dispatcher struct {
	cfg   dispatcherConfig
	work  chan job        // to the senders; capacity cfg.workers, so handing out never blocks
	claim chan []claimReq // to the claimer; one batch at a time
	kick  chan struct{}
	now   func() time.Time
	// lease says under which lease this node sends a webhook, or that another node does.
	lease func(webhookID string) (string, bool)
	// controls are a webhook's pacing and ordering (SPEC §9).
	controls func(webhookID string) laneControls

	mu       sync.Mutex
	lanes    map[string]*lane
	ready    []*lane // lanes with something to send and room in flight, in turn
	wanting  []*lane // lanes with room and due work queued in the database
	timers   laneTimers
	inflight int  // requests being made, all lanes (deliveries and direct sends)
	held     int  // deliveries held in memory: windows + reserved + claiming + in flight
	claiming bool // a claim batch is with the claimer
	paused   bool // results cannot be written: send nothing new until they can
	stopping bool
}

// lane is the dispatcher's state for one webhook (or, for direct sends before a webhook
// exists, one URL).
type lane struct {
	id       string
	window   []job // held and due, waiting for a slot
	reserved int   // fresh deliveries promised a place, while their publish commits
	asked    int   // deliveries asked for in the claim now running
	inflight int
	limit    concurrencyLimit
	direct   []*directReq // test sends and health checks waiting for a slot

	queued   bool      // the database may hold queued deliveries for this webhook
	due      time.Time // when the first of them is due (while queued)
	noted    bool      // more were queued while a claim ran (merged when it returns)
	notedDue time.Time

	inReady, inWanting bool

	// Pacing: the next request may start at nextStart; paced says a timer is set for then,
	// and the lane waits for it, out of the ready list.
	nextStart time.Time
	paced     bool
	// unsettled counts, for an ordered webhook, deliveries handed out whose outcome is not
	// stored yet: until it is, the next one in publish order cannot be known.
	unsettled int
}

type claimReq struct {
	lane    *lane
	limit   int
	owner   string
	ordered bool // claim the oldest pending delivery only (SPEC §9 ordered)
}

// directReq is a test send or health check waiting for a slot in its webhook's lane.
type directReq struct {
	granted   chan struct{}
	cancelled bool
}

func newDispatcher(cfg dispatcherConfig) *dispatcher {
	return &dispatcher{
		cfg:      cfg,
		work:     make(chan job, cfg.workers),
		claim:    make(chan []claimReq, 1),
		kick:     make(chan struct{}, 1),
		now:      time.Now,
		lanes:    map[string]*lane{},
		lease:    func(string) (string, bool) { return "", true },
		controls: func(string) laneControls { return laneControls{} },
	}
}

func (d *dispatcher) wake() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

func (d *dispatcher) laneFor(id string) *lane {
	l := d.lanes[id]
	if l == nil {
		l = &lane{id: id, limit: newConcurrencyLimit(d.cfg.perWebhook)}
		d.lanes[id] = l
	}
	return l
}

// room is how many more deliveries the lane may hold. An ordered lane holds one at a time,
// until its outcome is stored.
func (d *dispatcher) room(l *lane) int {
	held := len(l.window) + l.reserved + l.asked + l.inflight
	if d.controls(l.id).ordered {
		return 1 - held - l.unsettled
	}
	return d.cfg.laneWindow - held
}

// inflightCap is how many requests the lane may have in flight: its concurrency limit, or
// one for an ordered webhook.
func (d *dispatcher) inflightCap(l *lane) int {
	if d.controls(l.id).ordered {
		return 1
	}
	return l.limit.cur
}

func (d *dispatcher) markReady(l *lane) {
	if !l.inReady && (len(l.window) > 0 || len(l.direct) > 0) && l.inflight < d.inflightCap(l) {
		l.inReady = true
		d.ready = append(d.ready, l)
	}
}

// markWanting lists the lane for a claim when it has due queued work and enough room: half a
// window, or any room once it has nothing left to send, so claims come in useful batches.
func (d *dispatcher) markWanting(l *lane, now time.Time) {
	if l.inWanting || !l.queued || l.asked > 0 || l.due.After(now) {
		return
	}
	room := d.room(l)
	if room <= 0 || (room < d.cfg.laneWindow/2 && len(l.window)+l.inflight > 0) {
		return
	}
	l.inWanting = true
	d.wanting = append(d.wanting, l)
}

// schedule makes sure a queued lane is claimed for when its work falls due.
func (d *dispatcher) schedule(l *lane, now time.Time) {
	if !l.queued {
		return
	}
	if l.due.After(now) {
		heap.Push(&d.timers, laneTimer{lane: l, due: l.due})
		return
	}
	d.markWanting(l, now)
}

// forget drops a lane that holds nothing and remembers nothing (a paced lane remembers when
// its next request may start until then).
func (d *dispatcher) forget(l *lane) {
	if len(l.window) == 0 && l.reserved == 0 && l.asked == 0 && l.inflight == 0 && len(l.direct) == 0 &&
		!l.queued && !l.noted && l.limit.full() && !l.inReady && !l.inWanting && !l.paced && l.unsettled == 0 &&
		!l.nextStart.After(d.now()) && d.lanes[l.id] == l {
		delete(d.lanes, l.id)
	}
}

// reserve promises fresh deliveries a place in their lanes' windows, so they can be stored
// already held and sent the moment their publish commits (the fast path). A delivery whose
// webhook has older due work queued, or no room, gets no promise: it is stored queued and
// claimed in its turn; so is one that another node sends, and every delivery of an ordered
// webhook (claimed in publish order from the database). owners[i] is the lease the i-th
// got its promise under, "" for none; remote[i] says another node sends it.
func (d *dispatcher) reserve(webhookIDs []string) (owners []string, remote []bool) {
	owners, remote = make([]string, len(webhookIDs)), make([]bool, len(webhookIDs))
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	for i, id := range webhookIDs {
		owner, ok := d.lease(id)
		if !ok {
			remote[i] = true
			continue
		}
		if d.stopping {
			continue
		}
		l := d.laneFor(id)
		if (l.queued && !l.due.After(now)) || l.asked > 0 || d.room(l) <= 0 || d.held >= d.cfg.maxHeld || d.controls(id).ordered {
			continue
		}
		l.reserved++
		d.held++
		owners[i] = owner
	}
	return owners, remote
}

// admit takes the fresh jobs whose publish committed into their windows; unreserve returns
// the promises of a publish that failed.
func (d *dispatcher) admit(jobs []job) {
	d.mu.Lock()
	for _, j := range jobs {
		l := d.laneFor(j.webhookID)
		l.reserved--
		l.window = append(l.window, j)
		d.markReady(l)
	}
	d.mu.Unlock()
	d.wake()
}

func (d *dispatcher) unreserve(webhookIDs []string) {
	d.mu.Lock()
	for _, id := range webhookIDs {
		l := d.laneFor(id)
		l.reserved--
		d.held--
		d.forget(l)
	}
	d.mu.Unlock()
}

// queuedWork notes that deliveries of a webhook wait queued in the database from due on
// (stored by a publish without room, a retry, a resend or replay, or found at start). Call
// it only after they are committed.
func (d *dispatcher) queuedWork(webhookID string, due time.Time) {
	if _, ok := d.lease(webhookID); !ok {
		return // another node sends it
	}
	d.mu.Lock()
	d.noteQueued(d.laneFor(webhookID), due)
	d.mu.Unlock()
	d.wake()
}

// settled is told that the outcomes of these deliveries' attempts are stored (one webhook id
// per outcome): an ordered lane may then claim the next delivery in publish order.
func (d *dispatcher) settled(webhookIDs []string) {
	woke := false
	d.mu.Lock()
	now := d.now()
	for _, id := range webhookIDs {
		l := d.lanes[id]
		if l == nil || l.unsettled == 0 {
			continue
		}
		l.unsettled--
		if _, ok := d.lease(id); ok {
			d.noteQueued(l, now)
		}
		d.forget(l)
		woke = true
	}
	d.mu.Unlock()
	if woke {
		d.wake()
	}
}

// noteQueued is queuedWork with d.mu held.
func (d *dispatcher) noteQueued(l *lane, due time.Time) {
	switch {
	case l.asked > 0:
		// A claim is running and may not have seen them: merge when it returns.
		if !l.noted || due.Before(l.notedDue) {
			l.noted, l.notedDue = true, due
		}
	case !l.queued || due.Before(l.due):
		l.queued, l.due = true, due
		d.schedule(l, d.now())
	default:
		d.markWanting(l, d.now())
	}
}

// claimed takes a claim batch's outcome: the held deliveries join their windows, and each
// lane learns when its next queued delivery is due. A failed claim leaves the lanes queued
// and tries again a second later.
func (d *dispatcher) claimed(reqs []claimReq, got []store.Claimed, err error) {
	d.mu.Lock()
	defer d.wake()
	defer d.mu.Unlock()
	d.claiming = false
	now := d.now()
	for i, r := range reqs {
		l := r.lane
		d.held -= l.asked
		l.asked = 0
		if err != nil {
			l.queued, l.due = true, now.Add(time.Second)
		} else {
			c := got[i]
			for _, it := range c.Items {
				l.window = append(l.window, job{deliveryID: it.DeliveryID, webhookID: it.WebhookID,
					eventID: it.EventID, messageID: it.MessageID, attempt: it.Attempts + 1, owner: r.owner})
			}
			d.held += len(c.Items)
			l.queued = c.NextDue != nil
			if l.queued {
				l.due = *c.NextDue
			}
		}
		if l.noted {
			if !l.queued || l.notedDue.Before(l.due) {
				l.queued, l.due = true, l.notedDue
			}
			l.noted = false
		}
		d.markReady(l)
		d.schedule(l, now)
		d.forget(l)
	}
}

// finished is told that a request of the lane ended, and what it said about the receiver.
// held is true for a delivery (false for a direct send, which holds no delivery).
func (d *dispatcher) finished(laneID string, s signal, held bool) {
	d.mu.Lock()
	l := d.laneFor(laneID)
	l.inflight--
	d.inflight--
	if held {
		d.held--
	}
	l.limit.observe(s)
	d.markReady(l)
	d.markWanting(l, d.now())
	d.forget(l)
	d.mu.Unlock()
	d.wake()
}

// acquire waits for a slot in a lane for a request made outside the queue (a test send or a
// health check), so those share the webhook's limit with its deliveries. Call finished with
// held=false afterwards.
func (d *dispatcher) acquire(ctx context.Context, laneID string) error {
	r := &directReq{granted: make(chan struct{}, 1)}
	d.mu.Lock()
	if d.stopping {
		d.mu.Unlock()
		return ErrStopping
	}
	l := d.laneFor(laneID)
	l.direct = append(l.direct, r)
	d.markReady(l)
	d.mu.Unlock()
	d.wake()
	select {
	case <-r.granted:
		return nil
	case <-ctx.Done():
		d.mu.Lock()
		defer d.mu.Unlock()
		select {
		case <-r.granted: // granted meanwhile: give the slot back
			l.inflight--
			d.inflight--
			d.markReady(l)
			d.forget(l)
		default:
			r.cancelled = true
		}
		return ctx.Err()
	}
}

// pause stops handing out new requests (true) or resumes (false).
func (d *dispatcher) pause(on bool) {
	d.mu.Lock()
	d.paused = on
	d.mu.Unlock()
	d.wake()
}

// take hands out what may be sent now, fairly across lanes, and the claims to make.
func (d *dispatcher) take(now time.Time) (jobs []job, grants []*directReq, claims []claimReq, next time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.timers) > 0 && !d.timers[0].due.After(now) {
		t := heap.Pop(&d.timers).(laneTimer)
		l := t.lane
		switch {
		case t.paced:
			if l.paced && d.lanes[l.id] == l {
				l.paced = false
				d.markReady(l)
			}
		case l.queued && l.due.Equal(t.due) && d.lanes[l.id] == l:
			d.markWanting(l, now)
		}
	}
	for !d.paused && !d.stopping && d.inflight < d.cfg.workers && len(d.ready) > 0 {
		l := d.ready[0]
		d.ready = d.ready[1:]
		l.inReady = false
		if l.inflight >= d.inflightCap(l) {
			continue
		}
		// Direct sends first: a person is waiting for them.
		for len(l.direct) > 0 && l.direct[0].cancelled {
			l.direct = l.direct[1:]
		}
		switch {
		case len(l.direct) > 0:
			grants = append(grants, l.direct[0])
			l.direct = l.direct[1:]
		case len(l.window) > 0:
			if d.waitsItsTurn(l, now) {
				continue // its timer lists it again
			}
			jobs = append(jobs, l.window[0])
			if d.controls(l.id).ordered {
				l.unsettled++
			}
			l.window[0] = job{}
			l.window = l.window[1:]
		default:
			d.forget(l)
			continue
		}
		l.inflight++
		d.inflight++
		d.markReady(l)
	}
	if !d.claiming && !d.paused && !d.stopping {
		keep := d.wanting[:0]
		for _, l := range d.wanting {
			room := min(d.room(l), d.cfg.maxHeld-d.held)
			switch {
			case !l.queued || l.asked > 0 || l.due.After(now) || d.lanes[l.id] != l:
				l.inWanting = false
			case room <= 0 && d.room(l) <= 0:
				l.inWanting = false // listed again when a request of its own ends
			case room <= 0 || len(claims) >= 64:
				keep = append(keep, l) // waits for room elsewhere, or the next batch
			default:
				l.inWanting = false
				owner, ok := d.lease(l.id)
				if !ok {
					continue // its shard moved to another node
				}
				l.asked = room
				d.held += room
				claims = append(claims, claimReq{lane: l, limit: room, owner: owner, ordered: d.controls(l.id).ordered})
			}
		}
		clear(d.wanting[len(keep):])
		d.wanting = keep
		d.claiming = len(claims) > 0
	}
	if len(d.timers) > 0 {
		next = d.timers[0].due
	}
	return jobs, grants, claims, next
}

// waitsItsTurn paces a lane's requests (SPEC §9): it reports true, and sets a timer, while
// the lane's next request may not start yet; otherwise it takes the turn. Starts are spaced
// one pace apart. A turn taken a little late (the timer fired up to a tenth of a pace late)
// does not move the ones after it, so high rates are not slowed by timer lateness; a turn
// later than that, or a lane that was idle, counts the next pace from now.
func (d *dispatcher) waitsItsTurn(l *lane, now time.Time) bool {
	pace := d.controls(l.id).pace
	if pace <= 0 {
		return false
	}
	if now.Before(l.nextStart) {
		if !l.paced {
			l.paced = true
			heap.Push(&d.timers, laneTimer{lane: l, due: l.nextStart, paced: true})
		}
		return true
	}
	start := l.nextStart
	if now.Sub(start) > pace/10 {
		start = now
	}
	l.nextStart = start.Add(pace)
	return false
}

// run hands out work until stop is closed and nothing is in flight; then it closes work.
func (d *dispatcher) run(stop <-chan struct{}) {
	defer close(d.work)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		jobs, grants, claims, next := d.take(d.now())
		for _, j := range jobs {
			d.work <- j
		}
		for _, g := range grants {
			g.granted <- struct{}{}
		}
		if len(claims) > 0 {
			d.claim <- claims
		}
		d.mu.Lock()
		done := d.stopping && d.inflight == 0 && !d.claiming
		d.mu.Unlock()
		if done {
			close(d.claim)
			return
		}
		timer.Stop()
		if !next.IsZero() {
			timer.Reset(time.Until(next))
		}
		select {
		case <-d.kick:
		case <-timer.C:
		case <-stop:
			d.mu.Lock()
			d.stopping = true
			d.mu.Unlock()
			stop = nil
		}
	}
}

// drop forgets the held deliveries of webhooks another node now sends (their shard moved):
// the new holder puts them back in the queue when it takes the shard over. Requests in
// flight finish, their outcomes fenced by the lease they were made under.
func (d *dispatcher) drop(gone func(webhookID string) bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, l := range d.lanes {
		if !gone(id) {
			continue
		}
		d.held -= len(l.window)
		l.window = nil
		l.queued, l.noted = false, false
		l.unsettled = 0 // their outcomes are fenced off
	}
}

// waitIdle waits, up to limit, until no request of the matching lanes is in flight.
func (d *dispatcher) waitIdle(ctx context.Context, match func(webhookID string) bool, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		busy := false
		d.mu.Lock()
		for id, l := range d.lanes {
			if l.inflight > 0 && match(id) {
				busy = true
				break
			}
		}
		d.mu.Unlock()
		if !busy {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// heldIDs lists the deliveries held in windows (not in flight), for release at shutdown.
func (d *dispatcher) heldIDs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var ids []string
	for _, l := range d.lanes {
		for _, j := range l.window {
			ids = append(ids, j.deliveryID)
		}
	}
	return ids
}

// laneTimer wakes a lane when its first queued delivery falls due, or (paced) when its next
// request may start. Entries go stale when the lane's due time changes; they are checked
// when they fire.
type laneTimer struct {
	lane  *lane
	due   time.Time
	paced bool
}

type laneTimers []laneTimer

func (h laneTimers) Len() int           { return len(h) }
func (h laneTimers) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h laneTimers) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *laneTimers) Push(x any)        { *h = append(*h, x.(laneTimer)) }
func (h *laneTimers) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}
