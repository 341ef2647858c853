package handlers_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"hookyard/store"
)

// meBody is GET /me.
type meBody struct {
	store.User
	Organizations []store.Organization `json:"organizations"`
}

func TestAPIMe(t *testing.T) {
	f := newAPIFixture(t)
	empty := f.org("Zeta") // nobody's
	for _, tc := range []struct {
		name  string
		token string
		user  store.User
		orgs  []string
	}{
		{"admin sees every organisation, by name", f.adminToken, f.admin, []string{f.acme.ID, f.bolt.ID, empty.ID}},
		{"member sees only theirs", f.miaToken, f.mia, []string{f.acme.ID}},
		{"other member", f.ottoToken, f.otto, []string{f.bolt.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.call(t, tc.token, http.MethodGet, "/api/v1/me", nil, http.StatusOK)
			wantJSON(t, r, http.StatusOK)
			noPassword(t, r)
			raw := r.JSON(t)
			for _, k := range []string{"id", "email", "name", "role", "organizations"} {
				if _, ok := raw[k]; !ok {
					t.Errorf("/me has no %q: %s", k, r.Body)
				}
			}
			me := decode[meBody](t, r)
			if me.ID != tc.user.ID || me.Email != tc.user.Email || me.Name != tc.user.Name || me.Role != tc.user.Role {
				t.Errorf("/me = %+v, want %+v", me.User, tc.user)
			}
			if got := ids(me.Organizations, orgID); !slices.Equal(got, tc.orgs) {
				t.Errorf("organizations %q, want %q", got, tc.orgs)
			}
		})
	}
	// A member of nothing gets an empty array, not null.
	lone := f.member("lone@example.com", "Lone")
	r := f.call(t, f.token(lone), http.MethodGet, "/api/v1/me", nil, http.StatusOK)
	if orgs, ok := r.JSON(t)["organizations"].([]any); !ok || len(orgs) != 0 {
		t.Errorf("organizations of a member of nothing: %s", r.Body)
	}
}

func TestAPIListEventTypes(t *testing.T) {
	f := newAPIFixture(t)
	for _, tok := range []string{f.adminToken, f.miaToken} {
		r := f.call(t, tok, http.MethodGet, "/api/v1/event-types", nil, http.StatusOK)
		wantJSON(t, r, http.StatusOK)
		raw := r.JSON(t)
		if nc, ok := raw["nextCursor"]; !ok || nc != nil {
			t.Errorf("nextCursor = %v (present %v), want null", nc, ok)
		}
		types := decode[listPage[store.EventType]](t, r).Data
		if len(types) != 38 {
			t.Fatalf("%d event types, want 38", len(types))
		}
		subscribable := 0
		for _, et := range types {
			if !et.BuiltIn {
				t.Errorf("%s is not built in", et.Name)
			}
			if et.Label == "" || et.Category == "" || et.Label == et.Name {
				t.Errorf("%s: label %q category %q", et.Name, et.Label, et.Category)
			}
			if et.Subscribable {
				subscribable++
			} else if et.Name != "WEBHOOK_HEALTH_CHECK" {
				t.Errorf("%s is not subscribable", et.Name)
			}
		}
		if subscribable != 37 {
			t.Errorf("%d subscribable, want 37", subscribable)
		}
		if types[0].Name != "TODO_CREATED" || types[0].Label != "Record created" || types[0].Category != "Records" {
			t.Errorf("first type %+v, want TODO_CREATED (Records, Record created)", types[0])
		}
		if last := types[len(types)-1]; last.Name != "WEBHOOK_HEALTH_CHECK" || last.Subscribable {
			t.Errorf("last type %+v, want WEBHOOK_HEALTH_CHECK, not subscribable", last)
		}
	}
}

// SPEC §5: every list takes ?limit= and ?cursor=, the event types too.
func TestAPIListEventTypesHonoursLimit(t *testing.T) {
	f := newAPIFixture(t)
	var names []string
	pages := walk[store.EventType](t, f.testApp, f.adminToken, "/api/v1/event-types?limit=10")
	for _, p := range pages {
		if len(p.Data) > 10 {
			t.Errorf("page of %d with limit=10", len(p.Data))
		}
		names = append(names, ids(p.Data, func(e store.EventType) string { return e.Name })...)
	}
	if len(pages) != 4 || len(names) != 38 {
		t.Errorf("limit=10 over 38 types: %d pages, %d types; want 4 pages", len(pages), len(names))
	}
	if r := f.api(f.adminToken, http.MethodGet, "/api/v1/event-types?limit=abc", nil); r.Status != http.StatusBadRequest {
		t.Errorf("limit=abc: status %d, want 400 like every other list", r.Status)
	} else if p := wantProblem(t, r, http.StatusBadRequest); !slices.Equal(p.fields(), []string{"limit"}) {
		t.Errorf("fields %q, want [limit]", p.fields())
	}
}

func TestAPICreateEventType(t *testing.T) {
	f := newAPIFixture(t)
	r := f.call(t, f.adminToken, http.MethodPost, "/api/v1/event-types",
		map[string]string{"name": "INVOICE_PAID", "label": "Invoice paid", "description": "An invoice was paid."}, http.StatusCreated)
	wantJSON(t, r, http.StatusCreated)
	et := decode[store.EventType](t, r)
	if et.Name != "INVOICE_PAID" || et.Label != "Invoice paid" || et.Category != "Custom" ||
		et.Description != "An invoice was paid." || et.BuiltIn || !et.Subscribable {
		t.Errorf("created %+v; want INVOICE_PAID, category Custom, not built in, subscribable", et)
	}
	if raw := r.JSON(t); raw["builtIn"] != false {
		t.Errorf("builtIn = %v, want false", raw["builtIn"])
	}
	stored, err := f.store.EventType(t.Context(), "INVOICE_PAID")
	if err != nil || stored.Category != "Custom" || stored.BuiltIn {
		t.Errorf("stored %+v, %v", stored, err)
	}

	r = f.call(t, f.adminToken, http.MethodPost, "/api/v1/event-types",
		map[string]string{"name": "X_9", "label": "Shortest", "category": "Billing"}, http.StatusCreated)
	if et := decode[store.EventType](t, r); et.Category != "Billing" {
		t.Errorf("category %q, want Billing", et.Category)
	}

	// Both show in the list, after the built-ins; members see them too.
	r = f.call(t, f.miaToken, http.MethodGet, "/api/v1/event-types", nil, http.StatusOK)
	types := decode[listPage[store.EventType]](t, r).Data
	if len(types) != 40 || types[38].Name != "INVOICE_PAID" || types[39].Name != "X_9" {
		t.Errorf("%d types, last two %v", len(types), ids(types[max(0, len(types)-2):], func(e store.EventType) string { return e.Name }))
	}
}

func TestAPICreateEventTypeRefused(t *testing.T) {
	f := newAPIFixture(t)
	f.call(t, f.adminToken, http.MethodPost, "/api/v1/event-types", map[string]string{"name": "INVOICE_PAID", "label": "Invoice paid"}, http.StatusCreated)
	for _, tc := range []struct {
		name   string
		token  string
		body   any
		status int
		fields []string
	}{
		{"lower case", f.adminToken, map[string]string{"name": "invoice_paid", "label": "L"}, 422, []string{"name"}},
		{"too short", f.adminToken, map[string]string{"name": "AB", "label": "L"}, 422, []string{"name"}},
		{"too long", f.adminToken, map[string]string{"name": "A" + strings.Repeat("B", 64), "label": "L"}, 422, []string{"name"}},
		{"starts with a digit", f.adminToken, map[string]string{"name": "1ABC", "label": "L"}, 422, []string{"name"}},
		{"starts with _", f.adminToken, map[string]string{"name": "_ABC", "label": "L"}, 422, []string{"name"}},
		{"hyphen", f.adminToken, map[string]string{"name": "INVOICE-PAID", "label": "L"}, 422, []string{"name"}},
		{"trailing space", f.adminToken, map[string]string{"name": "INVOICE_DUE ", "label": "L"}, 422, []string{"name"}},
		{"no name", f.adminToken, map[string]string{"label": "L"}, 422, []string{"name"}},
		{"duplicate custom", f.adminToken, map[string]string{"name": "INVOICE_PAID", "label": "Again"}, 422, []string{"name"}},
		{"duplicate built-in", f.adminToken, map[string]string{"name": "TODO_CREATED", "label": "Mine"}, 422, []string{"name"}},
		{"duplicate health check", f.adminToken, map[string]string{"name": "WEBHOOK_HEALTH_CHECK", "label": "Mine"}, 422, []string{"name"}},
		{"missing label", f.adminToken, map[string]string{"name": "INVOICE_DUE"}, 422, []string{"label"}},
		{"blank label", f.adminToken, map[string]string{"name": "INVOICE_BLANK", "label": "   "}, 422, []string{"label"}},
		{"label too long", f.adminToken, map[string]string{"name": "INVOICE_DUE", "label": strings.Repeat("l", 101)}, 422, []string{"label"}},
		{"category too long", f.adminToken, map[string]string{"name": "INVOICE_DUE", "label": "L", "category": strings.Repeat("c", 51)}, 422, []string{"category"}},
		{"description too long", f.adminToken, map[string]string{"name": "INVOICE_DUE", "label": "L", "description": strings.Repeat("d", 301)}, 422, []string{"description"}},
		{"everything wrong", f.adminToken, map[string]string{"name": "x"}, 422, []string{"label", "name"}},
		{"invalid JSON", f.adminToken, `{"name":`, 400, nil},
		{"empty body", f.adminToken, ``, 400, nil},
		{"name of wrong type", f.adminToken, `{"name":123,"label":"L"}`, 400, []string{"name"}},
		{"member", f.miaToken, map[string]string{"name": "INVOICE_DUE", "label": "Invoice due"}, 403, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.state(t)
			p := wantProblem(t, f.api(tc.token, http.MethodPost, "/api/v1/event-types", tc.body), tc.status)
			if tc.fields != nil && !slices.Equal(p.fields(), tc.fields) {
				t.Errorf("error fields %q, want %q", p.fields(), tc.fields)
			}
			f.unchanged(t, before, tc.name)
		})
	}
}

// A custom event type can be published as soon as it exists: the cached list of types
// must notice the new one.
func TestAPIPublishNewCustomTypeAtOnce(t *testing.T) {
	f := newAPIFixture(t)
	// Warm the cache with the built-in types first.
	f.call(t, f.adminToken, http.MethodPost, "/api/v1/events", map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID}, http.StatusAccepted)
	wantFieldErrors(t, f.api(f.adminToken, http.MethodPost, "/api/v1/events", map[string]any{"event": "INVOICE_PAID", "projectId": f.alpha.ID}), "event")
	f.call(t, f.adminToken, http.MethodPost, "/api/v1/event-types", map[string]any{"name": "INVOICE_PAID", "label": "Invoice paid"}, http.StatusCreated)
	f.call(t, f.adminToken, http.MethodPost, "/api/v1/events", map[string]any{"event": "INVOICE_PAID", "projectId": f.alpha.ID}, http.StatusAccepted)
}
