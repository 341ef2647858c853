package delivery

import (
	"context"
	"fmt"

	"hookyard/store"
)

// matchIndex is the engine's view of every webhook with its owner's access, rebuilt whenever
// the store reports a change to webhooks, memberships or roles.
type matchIndex struct {
	version int64
	hooks   []hookState
	byID    map[string]*hookState
}

type hookState struct {
	webhook store.Webhook
	owner   Access
}

// index returns the current view, rebuilding it first if the store changed since. The
// common case (nothing changed) takes no lock.
func (e *Engine) index(ctx context.Context) (*matchIndex, error) {
	v := e.store.Changes()
	if idx := e.idx.Load(); idx != nil && idx.version == v {
		return idx, nil
	}
	e.idxMu.Lock()
	defer e.idxMu.Unlock()
	v = e.store.Changes()
	if idx := e.idx.Load(); idx != nil && idx.version == v {
		return idx, nil
	}
	idx, err := buildIndex(ctx, e.store, v)
	if err != nil {
		return nil, fmt.Errorf("load webhooks: %w", err)
	}
	e.idx.Store(idx)
	return idx, nil
}

func buildIndex(ctx context.Context, st *store.Store, version int64) (*matchIndex, error) {
	var hooks []store.Webhook
	p := store.Page{Limit: 500}
	for {
		page, next, err := st.ListWebhooks(ctx, store.WebhookFilter{}, p)
		if err != nil {
			return nil, err
		}
		hooks = append(hooks, page...)
		if next == "" {
			break
		}
		p.Cursor = next
	}
	members, err := st.MemberOrganizations(ctx)
	if err != nil {
		return nil, err
	}
	owners := map[string]Access{}
	idx := &matchIndex{version: version, hooks: make([]hookState, 0, len(hooks)), byID: make(map[string]*hookState, len(hooks))}
	for _, w := range hooks {
		a, ok := owners[w.OwnerID]
		if !ok {
			u, err := st.UserByID(ctx, w.OwnerID)
			if err != nil {
				return nil, err
			}
			a = Access{Admin: u.IsAdmin(), Organizations: map[string]bool{}}
			for _, o := range members[u.ID] {
				a.Organizations[o] = true
			}
			owners[w.OwnerID] = a
		}
		idx.hooks = append(idx.hooks, hookState{webhook: w, owner: a})
	}
	for i := range idx.hooks {
		idx.byID[idx.hooks[i].webhook.ID] = &idx.hooks[i]
	}
	return idx, nil
}
