package storetest

import (
	"testing"

	"hookyard/store"
)

var basicCases = []testCase{
	{"NewStoreIsEmptyAndAnswers", testNewStore},
}

func testNewStore(t *testing.T, f *fixture) {
	f.must(f.s.Ping(f.ctx), "Ping")
	if v, err := f.s.SchemaVersion(f.ctx); err != nil || v < 1 {
		t.Errorf("SchemaVersion = %d, %v; want the newest migration applied", v, err)
	}
	if n, err := f.s.CountUsers(f.ctx); err != nil || n != 0 {
		t.Errorf("CountUsers = %d, %v; want 0", n, err)
	}
	orgs, _, err := f.s.ListOrganizations(f.ctx, "", store.Page{})
	f.must(err, "ListOrganizations")
	hooks, _, err := f.s.ListWebhooks(f.ctx, store.WebhookFilter{}, store.Page{})
	f.must(err, "ListWebhooks")
	events, _, err := f.s.ListEvents(f.ctx, store.EventFilter{}, store.Page{})
	f.must(err, "ListEvents")
	if len(orgs)+len(hooks)+len(events) != 0 {
		t.Errorf("a new store holds %d organisations, %d webhooks, %d events", len(orgs), len(hooks), len(events))
	}
	if types, err := f.s.ListEventTypes(f.ctx); err != nil || len(types) != 38 {
		t.Errorf("a new store has %d event types (%v), want the 38 built-in", len(types), err)
	}
}
