package delivery

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"hookyard/store"
)

// matchIndex is the engine's view of every webhook with its owner's access, arranged so that
// matching an event looks only at the webhooks that could receive it: each webhook is filed
// under the (event type, scope) pairs it covers, where the type is one it chose or "*" (all
// events) and the scope is a project it chose, an organisation its owner belongs to (all
// projects, member), or "*" (all projects, admin). An event of type T in project P of
// organisation O has its candidates under (T|*, P|O|*): six lookups, whatever the number of
// webhooks stored. Changes reported by the store are applied one webhook or one owner at a
// time; only an unlisted change (an organisation deleted) rebuilds it all.
type matchIndex struct {
	store *store.Store

	version atomic.Int64 // the store change the index reflects
	mu      sync.RWMutex
	hooks   map[string]*hookState
	byOwner map[string]map[string]bool // owner id → webhook ids
	owners  map[string]Access
	buckets map[bucket]map[string]*hookState
	loaded  bool

	// controls holds each webhook's sending controls for the dispatcher, which reads them
	// without taking mu (a reload holds mu while it reads the database).
	controls sync.Map // webhook id → laneControls
}

// laneControls are the settings of a webhook that shape its lane (SPEC §9).
type laneControls struct {
	pace    time.Duration // least time between two starts; 0 for none
	ordered bool          // one at a time, in publish order
}

func controlsOf(w store.Webhook) laneControls {
	c := laneControls{ordered: w.Ordered}
	if r := w.RateLimitPerSecond; r != nil && *r > 0 {
		c.pace = time.Duration(float64(time.Second) / *r)
	}
	return c
}

// laneControls returns a webhook's sending controls (none for a webhook it does not hold).
func (x *matchIndex) laneControls(id string) laneControls {
	c, _ := x.controls.Load(id)
	lc, _ := c.(laneControls)
	return lc
}

type bucket struct{ typ, scope string }

type hookState struct {
	webhook store.Webhook
	owner   Access
	filter  *Filter // the webhook's filter, compiled when it was loaded
}

func newHookState(w store.Webhook, owner Access) *hookState {
	return &hookState{webhook: w, owner: owner, filter: FilterOf(w)}
}

// match decides whether the webhook receives ev (Match, with the compiled filter).
func (h *hookState) match(ev EventRef) Reason { return Match(h.webhook, h.filter, h.owner, ev) }

func newMatchIndex(st *store.Store) *matchIndex {
	x := &matchIndex{store: st}
	x.version.Store(-1) // not loaded
	return x
}

// keys lists the buckets a webhook is filed under.
func (h *hookState) keys() []bucket {
	types := h.webhook.Events
	if len(types) == 0 {
		types = []string{"*"}
	}
	var scopes []string
	switch {
	case len(h.webhook.ProjectIDs) > 0:
		for _, p := range h.webhook.ProjectIDs {
			scopes = append(scopes, "p:"+p)
		}
	case h.owner.Admin:
		scopes = []string{"*"}
	default:
		for o := range h.owner.Organizations {
			scopes = append(scopes, "o:"+o)
		}
	}
	keys := make([]bucket, 0, len(types)*len(scopes))
	for _, t := range types {
		for _, s := range scopes {
			keys = append(keys, bucket{t, s})
		}
	}
	return keys
}

// candidates calls fn for every webhook that could receive the event (Match decides).
func (x *matchIndex) candidates(ref EventRef, fn func(*hookState)) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, t := range [2]string{ref.Type, "*"} {
		for _, s := range [3]string{"p:" + ref.ProjectID, "o:" + ref.OrganizationID, "*"} {
			for _, h := range x.buckets[bucket{t, s}] {
				fn(h)
			}
		}
	}
}

// webhook returns a copy of one webhook's state.
func (x *matchIndex) webhook(id string) (hookState, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	h, ok := x.hooks[id]
	if !ok {
		return hookState{}, false
	}
	return *h, true
}

// refresh brings the index up to date with the store's changes. The common case (nothing
// changed) takes no lock.
func (x *matchIndex) refresh(ctx context.Context) error {
	if x.version.Load() == x.store.Changes() {
		return nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.version.Load() == x.store.Changes() {
		return nil // another caller brought it up to date meanwhile
	}
	changes, v, complete := x.store.ChangesSince(x.version.Load())
	if len(changes) == 0 && complete && x.loaded {
		x.version.Store(v)
		return nil
	}
	if !complete || !x.loaded {
		if err := x.rebuild(ctx); err != nil {
			return fmt.Errorf("load webhooks: %w", err)
		}
		x.version.Store(v)
		return nil
	}
	for _, c := range changes {
		var err error
		switch c.Kind {
		case store.ChangedWebhook:
			err = x.reloadWebhook(ctx, c.ID)
		case store.ChangedUser:
			err = x.reloadOwner(ctx, c.ID)
		}
		if err != nil {
			return fmt.Errorf("load webhooks: %w", err)
		}
	}
	x.version.Store(v)
	return nil
}

func (x *matchIndex) rebuild(ctx context.Context) error {
	x.hooks = map[string]*hookState{}
	x.byOwner = map[string]map[string]bool{}
	x.owners = map[string]Access{}
	x.buckets = map[bucket]map[string]*hookState{}
	members, err := x.store.MemberOrganizations(ctx)
	if err != nil {
		return err
	}
	p := store.Page{Limit: 500}
	for {
		page, next, err := x.store.ListWebhooks(ctx, store.WebhookFilter{}, p)
		if err != nil {
			return err
		}
		for _, w := range page {
			a, ok := x.owners[w.OwnerID]
			if !ok {
				u, err := x.store.UserByID(ctx, w.OwnerID)
				if err != nil {
					return err
				}
				a = accessOf(u, members[u.ID])
				x.owners[w.OwnerID] = a
			}
			x.add(newHookState(w, a))
		}
		if next == "" {
			break
		}
		p.Cursor = next
	}
	// Controls are replaced in place (add stores them), so the dispatcher never sees a
	// webhook without its controls while the index loads; only those gone are dropped.
	x.controls.Range(func(id, _ any) bool {
		if x.hooks[id.(string)] == nil {
			x.controls.Delete(id)
		}
		return true
	})
	x.loaded = true
	return nil
}

func accessOf(u store.User, orgs []string) Access {
	a := Access{Admin: u.IsAdmin(), Organizations: make(map[string]bool, len(orgs))}
	for _, o := range orgs {
		a.Organizations[o] = true
	}
	return a
}

func (x *matchIndex) add(h *hookState) {
	id := h.webhook.ID
	x.hooks[id] = h
	if c := controlsOf(h.webhook); c != (laneControls{}) {
		x.controls.Store(id, c)
	} else {
		x.controls.Delete(id)
	}
	if x.byOwner[h.webhook.OwnerID] == nil {
		x.byOwner[h.webhook.OwnerID] = map[string]bool{}
	}
	x.byOwner[h.webhook.OwnerID][id] = true
	for _, k := range h.keys() {
		b := x.buckets[k]
		if b == nil {
			b = map[string]*hookState{}
			x.buckets[k] = b
		}
		b[id] = h
	}
}

func (x *matchIndex) remove(id string) {
	h, ok := x.hooks[id]
	if !ok {
		return
	}
	for _, k := range h.keys() {
		delete(x.buckets[k], id)
		if len(x.buckets[k]) == 0 {
			delete(x.buckets, k)
		}
	}
	delete(x.hooks, id)
	if ws := x.byOwner[h.webhook.OwnerID]; ws != nil {
		delete(ws, id)
		if len(ws) == 0 {
			delete(x.byOwner, h.webhook.OwnerID)
			delete(x.owners, h.webhook.OwnerID)
		}
	}
}

func (x *matchIndex) reloadWebhook(ctx context.Context, id string) error {
	w, err := x.store.Webhook(ctx, id)
	x.remove(id)
	if errors.Is(err, store.ErrNotFound) {
		x.controls.Delete(id)
		return nil
	}
	if err != nil {
		return err
	}
	a, ok := x.owners[w.OwnerID]
	if !ok {
		if a, err = x.loadAccess(ctx, w.OwnerID); err != nil {
			return err
		}
		x.owners[w.OwnerID] = a
	}
	x.add(newHookState(w, a))
	return nil
}

// reloadOwner applies a change of one user's role or memberships to their webhooks.
func (x *matchIndex) reloadOwner(ctx context.Context, userID string) error {
	ids := x.byOwner[userID]
	if len(ids) == 0 {
		return nil
	}
	a, err := x.loadAccess(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		// Deleted with their webhooks.
		for _, id := range slices.Collect(maps.Keys(ids)) {
			x.remove(id)
			x.controls.Delete(id)
		}
		return nil
	}
	if err != nil {
		return err
	}
	for _, id := range slices.Collect(maps.Keys(ids)) {
		h := *x.hooks[id]
		x.remove(id)
		h.owner = a
		x.add(&h)
	}
	x.owners[userID] = a
	return nil
}

func (x *matchIndex) loadAccess(ctx context.Context, userID string) (Access, error) {
	u, err := x.store.UserByID(ctx, userID)
	if err != nil {
		return Access{}, err
	}
	orgs, err := x.store.OrganizationsOf(ctx, userID)
	if err != nil {
		return Access{}, err
	}
	return accessOf(u, orgs), nil
}

// ids lists every webhook's id.
func (x *matchIndex) ids() []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]string, 0, len(x.hooks))
	for id := range x.hooks {
		out = append(out, id)
	}
	return out
}

// size reports how many webhooks the index holds (for tests).
func (x *matchIndex) size() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.hooks)
}
