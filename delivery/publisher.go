package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"hookyard/store"
)

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

// IdempotencyWindow is how long an Idempotency-Key's first answer is repeated.
const IdempotencyWindow = store.IdempotencyWindow

// UnavailableError says the database cannot take writes right now: a publish is refused
// (503 with Retry-After), never acknowledged without being stored.
type UnavailableError struct {
	Reason string // plain words: "the disk holding the database is full"
	Err    error
}

func (e *UnavailableError) Error() string { return "the database cannot take writes: " + e.Reason }
func (e *UnavailableError) Unwrap() error { return e.Err }

// Publish stores events with a delivery for every webhook that receives them (and a missed
// record for every disabled one that would have), then starts sending at once. Concurrent
// publishes share one transaction (group commit); each call returns after its own events
// are committed. With idem set and a key seen in the last 24 h, nothing is stored and
// replay holds the first answer.
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
	if err := e.idx.refresh(ctx); err != nil {
		return nil, nil, err
	}
	now := time.Now().UTC().Truncate(time.Millisecond) // stored times have millisecond precision
	var pub store.Publication
	var targets []string // webhook of each delivery, in order
	var payloads []*EventData
	out = make([]Published, len(in))
	for i, ev := range in {
		stored := store.Event{ID: e.store.NextID("evt"), Type: ev.Type, OrganizationID: ev.OrganizationID,
			ProjectID: ev.ProjectID, PreviousValue: ev.PreviousValue, CurrentValue: ev.CurrentValue,
			PublisherID: publisherID, CreatedAt: now}
		pub.Events = append(pub.Events, stored)
		out[i] = Published{ID: stored.ID, Event: ev.Type, ProjectID: ev.ProjectID, CreatedAt: now}
		var data *EventData
		if len(ev.PreviousValue)+len(ev.CurrentValue) <= heldPayloadMax {
			d := eventData(stored)
			data = &d
		}
		ref := RefOf(eventData(stored))
		e.idx.candidates(ref, func(h *hookState) {
			switch h.match(ref) {
			case Receives:
				id := e.store.NextID("dlv")
				pub.Deliveries = append(pub.Deliveries, store.Delivery{ID: id, MessageID: id, EventID: stored.ID,
					WebhookID: h.webhook.ID, EventType: ev.Type, CreatedAt: now, NextAttemptAt: &now})
				targets = append(targets, h.webhook.ID)
				payloads = append(payloads, data)
				out[i].Deliveries++
			case Disabled:
				pub.Missed = append(pub.Missed, store.MissedEvent{WebhookID: h.webhook.ID, EventID: stored.ID})
			}
		})
	}
	if idem != nil {
		pub.IdempotencyUserID, pub.IdempotencyKey, pub.RequestHash = idem.UserID, idem.Key, idem.Fingerprint
		if pub.Response, err = idem.Respond(out); err != nil {
			return nil, nil, err
		}
	}
	// Deliveries with room in their lane are stored held and sent straight after the
	// commit; the others are stored queued and claimed in their turn.
	owners, remote := e.disp.reserve(targets)
	lease := now.Add(e.leaseTime())
	var fresh []job
	var reserved []string
	queued, elsewhere := map[string]bool{}, map[string]bool{}
	for i := range pub.Deliveries {
		d := &pub.Deliveries[i]
		switch {
		case owners[i] != "":
			d.LeaseUntil, d.LeaseOwner = &lease, owners[i]
			reserved = append(reserved, d.WebhookID)
			fresh = append(fresh, job{deliveryID: d.ID, webhookID: d.WebhookID, eventID: d.EventID, messageID: d.MessageID, attempt: 1,
				ev: payloads[i], owner: owners[i]})
		case remote[i]:
			elsewhere[d.WebhookID] = true
		default:
			queued[d.WebhookID] = true
		}
	}
	err = e.commits.commit(ctx, pub)
	if err != nil {
		e.disp.unreserve(reserved)
		if errors.Is(err, store.ErrConflict) && idem != nil {
			resp, err := e.store.IdempotentResponse(ctx, idem.UserID, idem.Key, idem.Fingerprint, now.Add(-IdempotencyWindow))
			return nil, resp, err
		}
		return nil, nil, err
	}
	e.cfg.Metrics.published(len(in), len(pub.Deliveries))
	e.disp.admit(fresh)
	for id := range queued {
		e.disp.queuedWork(id, now)
	}
	if len(elsewhere) > 0 {
		// Stored already: a lost notice only delays them until their node's next scan.
		if err := e.store.NotifyWork(ctx, slices.Collect(maps.Keys(elsewhere))); err != nil {
			e.log.Warn("tell other nodes of new deliveries; they find them at their next scan", "err", err)
		}
	}
	return out, nil, nil
}

// committer stores publications in shared transactions: while one commit runs, the next
// publishes gather, and go in together (group commit). Each caller is answered after the
// transaction holding its publication commits.
type committer struct {
	store  *store.Store
	in     chan *commitReq
	fault  faultEpisodes
	groups atomic.Int64 // transactions committed (or tried), for metrics and tests
}

type commitReq struct {
	pub  store.Publication
	err  error
	done chan struct{}
}

// maxGroup bounds one group commit, so one transaction stays short.
const maxGroup = 256

func newCommitter(st *store.Store, log *slog.Logger) *committer {
	return &committer{store: st, in: make(chan *commitReq, maxGroup), fault: faultEpisodes{log: log, what: "store events"}}
}

// commit stores pub with whatever else is being published now.
func (c *committer) commit(ctx context.Context, pub store.Publication) error {
	r := &commitReq{pub: pub, done: make(chan struct{})}
	select {
	case c.in <- r:
	case <-ctx.Done():
		return ctx.Err()
	}
	<-r.done // once handed over, the outcome is waited for: it may be committed
	return r.err
}

func (c *committer) close() { close(c.in) }

func (c *committer) run() {
	group := make([]*commitReq, 0, maxGroup)
	pubs := make([]store.Publication, 0, maxGroup)
	for first := range c.in {
		group = append(group[:0], first)
	collect:
		for len(group) < maxGroup {
			select {
			case r, ok := <-c.in:
				if !ok {
					break collect
				}
				group = append(group, r)
			default:
				break collect
			}
		}
		pubs = pubs[:0]
		for _, r := range group {
			pubs = append(pubs, r.pub)
		}
		c.groups.Add(1)
		errs, err := c.store.PublishGroup(context.Background(), pubs)
		if err != nil {
			if reason := store.WriteFault(err); reason != "" {
				c.fault.failed("", err)
				err = &UnavailableError{Reason: reason, Err: err}
			} else {
				err = fmt.Errorf("store events: %w", err)
			}
		} else {
			c.fault.ok()
		}
		for i, r := range group {
			r.err = err
			if err == nil {
				r.err = errs[i]
			}
			close(r.done)
		}
		clear(pubs)
	}
}
