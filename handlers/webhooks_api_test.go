package handlers_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"hookyard/store"
)

// The webhook endpoints of the JSON API: create, read, list, change, delete, and who may.

func TestWebhookAPICreate(t *testing.T) {
	f := newAPIFixture(t)
	start := time.Now().Add(-time.Second)

	r := f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks", map[string]any{
		"name": "  CRM sync  ", "url": publicURL,
		"events": []string{"TODO_MOVED", "TODO_CREATED", "TODO_MOVED"}, "projectIds": []string{f.alpha.ID},
	}, http.StatusCreated)
	wantJSON(t, r, http.StatusCreated)
	raw := r.JSON(t)
	for _, k := range []string{"id", "ownerId", "name", "url", "secret", "events", "projectIds", "enabled",
		"status", "disabledReason", "disabledAt", "createdAt", "updatedAt", "inaccessibleProjectIds"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("created webhook has no %q field: %s", k, r.Body)
		}
	}
	health, _ := raw["health"].(map[string]any)
	for _, k := range []string{"successRate24h", "attempts24h", "failures24h", "consecutiveFailures",
		"lastSuccessAt", "lastFailureAt", "latencyP50Ms", "latencyP95Ms"} {
		if _, ok := health[k]; !ok {
			t.Errorf("created webhook's health has no %q field: %s", k, r.Body)
		}
	}
	w := decode[apiWebhook](t, r)
	if !strings.HasPrefix(w.ID, "wh_") {
		t.Errorf("id %q, want wh_…", w.ID)
	}
	wantSecretFormat(t, w.Secret)
	if w.OwnerID != f.mia.ID || w.Name != "CRM sync" || w.URL != publicURL {
		t.Errorf("created %+v, want Mia's CRM sync at %s", w, publicURL)
	}
	if !slices.Equal(sorted(w.Events), []string{"TODO_CREATED", "TODO_MOVED"}) || !slices.Equal(w.ProjectIDs, []string{f.alpha.ID}) {
		t.Errorf("events %v projectIds %v", w.Events, w.ProjectIDs)
	}
	if !w.Enabled || w.Status != "HEALTHY" || w.DisabledAt != nil || w.DisabledReason != "" {
		t.Errorf("a new webhook should be enabled and healthy: %+v", w)
	}
	if w.CreatedAt.Before(start) || w.UpdatedAt.Before(start) {
		t.Errorf("createdAt %v updatedAt %v, want now", w.CreatedAt, w.UpdatedAt)
	}
	if w.InaccessibleProjectIDs == nil || len(w.InaccessibleProjectIDs) != 0 {
		t.Errorf("inaccessibleProjectIds %v, want []", w.InaccessibleProjectIDs)
	}

	st := f.storedWebhook(t, w.ID)
	if st.Secret != w.Secret {
		t.Errorf("the secret returned is not the one stored")
	}
	if st.OwnerID != f.mia.ID || !slices.Equal(st.Events, []string{"TODO_CREATED", "TODO_MOVED"}) || !slices.Equal(st.ProjectIDs, []string{f.alpha.ID}) {
		t.Errorf("stored %+v", st)
	}

	// Each webhook gets its own secret.
	w2 := f.createWebhook(t, f.miaToken, map[string]any{"name": "Second", "url": publicURL})
	if w2.Secret == w.Secret {
		t.Errorf("two webhooks share a secret")
	}
}

// Empty (or absent) events and projectIds mean "all", and read back as [] everywhere.
func TestWebhookAPICreateAllEventsAllProjects(t *testing.T) {
	f := newAPIFixture(t)
	for _, tc := range []struct {
		name string
		body map[string]any
	}{
		{"empty lists", map[string]any{"name": "All", "url": publicURL, "events": []string{}, "projectIds": []string{}}},
		{"lists left out", map[string]any{"name": "All", "url": publicURL}},
		{"null lists", map[string]any{"name": "All", "url": publicURL, "events": nil, "projectIds": nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks", tc.body, http.StatusCreated)
			created := r.JSON(t)
			id, _ := created["id"].(string)
			got := f.call(t, f.miaToken, http.MethodGet, "/api/v1/webhooks/"+id, nil, http.StatusOK).JSON(t)
			for name, obj := range map[string]map[string]any{"POST": created, "GET": got} {
				for _, k := range []string{"events", "projectIds"} {
					if l, ok := obj[k].([]any); !ok || len(l) != 0 {
						t.Errorf("%s answer: %s = %#v, want [] (all)", name, k, obj[k])
					}
				}
			}
			st := f.storedWebhook(t, id)
			if len(st.Events) != 0 || len(st.ProjectIDs) != 0 {
				t.Errorf("stored events %v projects %v, want none (all)", st.Events, st.ProjectIDs)
			}
		})
	}
}

// Bad input gets a clear 4xx naming the field, and nothing is stored.
func TestWebhookAPICreateRefused(t *testing.T) {
	f := newAPIFixture(t)
	ok := func(extra map[string]any) map[string]any {
		b := map[string]any{"name": "Hook", "url": publicURL}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	for _, tc := range []struct {
		name   string
		token  string
		body   any
		status int
		fields []string
		says   string // in the field message or detail
	}{
		{"unknown event type", f.miaToken, ok(map[string]any{"events": []string{"TODO_CREATED", "NOPE_HAPPENED"}}), 422, []string{"events"}, "NOPE_HAPPENED"},
		{"health check event", f.miaToken, ok(map[string]any{"events": []string{"WEBHOOK_HEALTH_CHECK"}}), 422, []string{"events"}, "cannot be chosen"},
		{"unknown project", f.miaToken, ok(map[string]any{"projectIds": []string{"prj_nope"}}), 422, []string{"projectIds"}, "prj_nope"},
		{"member chooses another organisation's project", f.miaToken, ok(map[string]any{"projectIds": []string{f.alpha.ID, f.beta.ID}}), 422, []string{"projectIds"}, f.beta.ID},
		{"ftp URL", f.miaToken, ok(map[string]any{"url": "ftp://files.example.com/in"}), 422, []string{"url"}, "http"},
		{"URL without scheme", f.miaToken, ok(map[string]any{"url": "example.com/hook"}), 422, []string{"url"}, ""},
		{"URL with credentials", f.miaToken, ok(map[string]any{"url": "https://user:pw@93.184.215.14/x"}), 422, []string{"url"}, "password"},
		{"loopback IP", f.miaToken, ok(map[string]any{"url": "http://127.0.0.1:8081/hook"}), 422, []string{"url"}, "private"},
		{"localhost", f.miaToken, ok(map[string]any{"url": "http://localhost/hook"}), 422, []string{"url"}, "private"},
		{"IPv6 loopback", f.miaToken, ok(map[string]any{"url": "http://[::1]:8081/hook"}), 422, []string{"url"}, "private"},
		{"private network", f.adminToken, ok(map[string]any{"url": "http://10.1.2.3/hook"}), 422, []string{"url"}, "private"},
		{"cloud metadata", f.adminToken, ok(map[string]any{"url": "http://169.254.169.254/latest/meta-data"}), 422, []string{"url"}, "private"},
		{"no name", f.miaToken, map[string]any{"url": publicURL}, 422, []string{"name"}, ""},
		{"blank name", f.miaToken, ok(map[string]any{"name": "   "}), 422, []string{"name"}, ""},
		{"long name", f.miaToken, ok(map[string]any{"name": strings.Repeat("n", 101)}), 422, []string{"name"}, "100"},
		{"no URL", f.miaToken, map[string]any{"name": "Hook"}, 422, []string{"url"}, ""},
		{"everything wrong", f.miaToken, map[string]any{"events": []string{"NOPE"}, "projectIds": []string{"prj_nope"}}, 422, []string{"events", "name", "projectIds", "url"}, ""},
		{"invalid JSON", f.miaToken, `{"name": "Hook", "url": `, 400, nil, "JSON"},
		{"empty body", f.miaToken, " ", 400, nil, ""},
		{"events not a list", f.miaToken, ok(map[string]any{"events": "TODO_CREATED"}), 400, nil, "events"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.api(tc.token, http.MethodPost, "/api/v1/webhooks", tc.body)
			var p apiProblem
			if tc.status == http.StatusUnprocessableEntity {
				p = wantFieldErrors(t, r, tc.fields...)
			} else {
				p = wantProblem(t, r, tc.status)
			}
			if tc.says != "" && !strings.Contains(string(r.Body), tc.says) {
				t.Errorf("the answer does not say %q: %s", tc.says, r.Body)
			}
			_ = p
			if n := len(f.allWebhooks(t)); n != 0 {
				t.Errorf("a refused create stored %d webhooks", n)
			}
		})
	}

	// The same projects are fine for whoever may use them.
	f.createWebhook(t, f.miaToken, map[string]any{"name": "Mine", "url": publicURL, "projectIds": []string{f.alpha.ID, f.apex.ID}})
	f.createWebhook(t, f.adminToken, map[string]any{"name": "Admin's", "url": publicURL, "projectIds": []string{f.alpha.ID, f.beta.ID}})
	f.createWebhook(t, f.ottoToken, map[string]any{"name": "Otto's", "url": publicURL, "projectIds": []string{f.beta.ID}})
}

// The secret is in the create and rotate answers only.
func TestWebhookAPISecretOnlyOnCreateAndRotate(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, "ok")
	w := f.createWebhook(t, f.miaToken, map[string]any{"name": "Hook", "url": rcv.URL})
	noSecret := func(t *testing.T, what string, r apiResult, secrets ...string) {
		t.Helper()
		if strings.Contains(string(r.Body), `"secret"`) {
			t.Errorf("%s: answer has a secret field: %s", what, r.Body)
		}
		for _, s := range secrets {
			if strings.Contains(string(r.Body), strings.TrimPrefix(s, "whsec_")) {
				t.Errorf("%s: answer carries the secret: %s", what, r.Body)
			}
		}
	}
	path := "/api/v1/webhooks/" + w.ID
	noSecret(t, "GET", f.call(t, f.miaToken, http.MethodGet, path, nil, 200), w.Secret)
	noSecret(t, "GET as admin", f.call(t, f.adminToken, http.MethodGet, path, nil, 200), w.Secret)
	noSecret(t, "list", f.call(t, f.miaToken, http.MethodGet, "/api/v1/webhooks", nil, 200), w.Secret)
	noSecret(t, "list as admin", f.call(t, f.adminToken, http.MethodGet, "/api/v1/webhooks", nil, 200), w.Secret)
	noSecret(t, "PATCH", f.call(t, f.miaToken, http.MethodPatch, path, map[string]any{"name": "Renamed"}, 200), w.Secret)
	noSecret(t, "test", f.call(t, f.miaToken, http.MethodPost, path+"/test", nil, 200), w.Secret)
	noSecret(t, "disable", f.call(t, f.miaToken, http.MethodPost, path+"/disable", nil, 200), w.Secret)
	noSecret(t, "enable", f.call(t, f.miaToken, http.MethodPost, path+"/enable", nil, 200), w.Secret)

	r := f.call(t, f.miaToken, http.MethodPost, path+"/rotate-secret", nil, 200)
	rotated := decode[apiWebhook](t, r)
	wantSecretFormat(t, rotated.Secret)
	if strings.Contains(string(r.Body), w.Secret) {
		t.Errorf("rotate answer carries the old secret too: %s", r.Body)
	}
	noSecret(t, "GET after rotate", f.call(t, f.miaToken, http.MethodGet, path, nil, 200), w.Secret, rotated.Secret)
}

// Members see and change only their own webhooks (404 for others'); admins reach all.
func TestWebhookAPIOwnership(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, "ok")
	ottos := f.createWebhook(t, f.ottoToken, map[string]any{"name": "Otto's hook", "url": rcv.URL, "projectIds": []string{f.beta.ID}})
	path := "/api/v1/webhooks/" + ottos.ID

	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, path, nil},
		{http.MethodPatch, path, map[string]any{"name": "Mine now", "url": "http://127.0.0.1:1/steal"}},
		{http.MethodDelete, path, nil},
		{http.MethodPost, path + "/disable", nil},
		{http.MethodPost, path + "/enable", nil},
		{http.MethodPost, path + "/rotate-secret", nil},
		{http.MethodPost, path + "/test", map[string]any{"event": "TODO_CREATED"}},
	} {
		t.Run(tc.method+" "+strings.TrimPrefix(tc.path, path), func(t *testing.T) {
			before := f.webhookState(t, ottos.ID)
			r := f.api(f.miaToken, tc.method, tc.path, tc.body)
			wantProblem(t, r, http.StatusNotFound)
			if strings.Contains(string(r.Body), "Otto") || strings.Contains(string(r.Body), rcv.URL) {
				t.Errorf("404 reveals the webhook: %s", r.Body)
			}
			if after := f.webhookState(t, ottos.ID); after != before {
				t.Errorf("refused %s changed the webhook:\nbefore %s\nafter  %s", tc.method, before, after)
			}
		})
	}
	if n := len(rcv.requests()); n != 0 {
		t.Errorf("refused requests reached the receiver %d times", n)
	}
	// A webhook that does not exist looks the same.
	wantProblem(t, f.api(f.miaToken, http.MethodGet, "/api/v1/webhooks/wh_nope", nil), http.StatusNotFound)
	wantProblem(t, f.api(f.adminToken, http.MethodPatch, "/api/v1/webhooks/wh_nope", map[string]any{"name": "x"}), http.StatusNotFound)

	// The admin reads and changes it; the owner stays Otto.
	got := decode[apiWebhook](t, f.call(t, f.adminToken, http.MethodGet, path, nil, http.StatusOK))
	if got.ID != ottos.ID || got.OwnerID != f.otto.ID || got.Name != "Otto's hook" {
		t.Errorf("admin GET %+v", got)
	}
	got = decode[apiWebhook](t, f.call(t, f.adminToken, http.MethodPatch, path, map[string]any{"name": "Checked by Ada"}, http.StatusOK))
	if got.OwnerID != f.otto.ID || got.Name != "Checked by Ada" {
		t.Errorf("admin PATCH %+v", got)
	}
	// Otto, the owner, reads it too.
	f.call(t, f.ottoToken, http.MethodGet, path, nil, http.StatusOK)

	// An admin choosing projects for Otto's webhook is held to Otto's organisations.
	r := f.api(f.adminToken, http.MethodPatch, path, map[string]any{"projectIds": []string{f.alpha.ID}})
	wantFieldErrors(t, r, "projectIds")
}

func TestWebhookAPIList(t *testing.T) {
	f := newAPIFixture(t)
	var mias []string
	for _, name := range []string{"M1", "M2", "M3", "M4"} {
		mias = append(mias, f.createWebhook(t, f.miaToken, map[string]any{"name": name, "url": publicURL}).ID)
	}
	otto := f.createWebhook(t, f.ottoToken, map[string]any{"name": "O1", "url": publicURL}).ID
	admin := f.createWebhook(t, f.adminToken, map[string]any{"name": "A1", "url": publicURL}).ID
	// M2 switched off by Mia, M3 switched off after failing.
	f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+mias[1]+"/disable", nil, http.StatusOK)
	if _, err := f.store.DisableWebhook(t.Context(), mias[2], store.StatusUnhealthy, "5 attempts failed for TODO_MOVED: HTTP 500"); err != nil {
		t.Fatal(err)
	}

	listed := func(t *testing.T, token, query string) []string {
		t.Helper()
		var out []string
		for _, p := range walk[apiWebhook](t, f.testApp, token, "/api/v1/webhooks"+query) {
			for _, w := range p.Data {
				if w.Secret != "" {
					t.Errorf("list carries a secret")
				}
			}
			out = append(out, ids(p.Data, webhookID)...)
		}
		return out
	}
	all := append(slices.Clone(mias), otto, admin)
	for _, tc := range []struct {
		who, token, query string
		want              []string
	}{
		{"member", f.miaToken, "", mias},
		{"other member", f.ottoToken, "", []string{otto}},
		{"admin", f.adminToken, "", all},
		{"member, enabled", f.miaToken, "?state=enabled", []string{mias[0], mias[3]}},
		{"member, disabled", f.miaToken, "?state=disabled", []string{mias[1], mias[2]}},
		{"member, unhealthy", f.miaToken, "?state=unhealthy", []string{mias[2]}},
		{"other member, disabled", f.ottoToken, "?state=disabled", nil},
		{"admin, enabled", f.adminToken, "?state=enabled", []string{mias[0], mias[3], otto, admin}},
		{"member, pages of 1", f.miaToken, "?limit=1", mias},
		{"admin, pages of 2", f.adminToken, "?limit=2", all},
		{"admin, disabled, pages of 1", f.adminToken, "?state=disabled&limit=1", []string{mias[1], mias[2]}},
	} {
		t.Run(tc.who+" "+tc.query, func(t *testing.T) {
			if got := listed(t, tc.token, tc.query); !slices.Equal(got, tc.want) {
				t.Errorf("listed %v, want %v", got, tc.want)
			}
		})
	}

	// Page sizes are honoured.
	pages := walk[apiWebhook](t, f.testApp, f.adminToken, "/api/v1/webhooks?limit=4")
	if len(pages) != 2 || len(pages[0].Data) != 4 || len(pages[1].Data) != 2 {
		t.Errorf("limit=4 over 6 webhooks gave %d pages", len(pages))
	}
	// An empty list is [] with a null cursor.
	r := f.call(t, f.ottoToken, http.MethodGet, "/api/v1/webhooks?state=unhealthy", nil, http.StatusOK)
	if squash(string(r.Body)) != `{"data":[],"nextCursor":null}` {
		t.Errorf("empty list %s", r.Body)
	}

	for _, q := range []string{"?state=bogus", "?state=ENABLED", "?limit=0", "?limit=x", "?cursor=%21%21"} {
		t.Run("refused "+q, func(t *testing.T) {
			wantProblem(t, f.api(f.miaToken, http.MethodGet, "/api/v1/webhooks"+q, nil), http.StatusBadRequest)
		})
	}
}

func TestWebhookAPIPatch(t *testing.T) {
	f := newAPIFixture(t)
	w := f.createWebhook(t, f.miaToken, map[string]any{"name": "Hook", "url": publicURL,
		"events": []string{"TODO_CREATED", "TODO_MOVED"}, "projectIds": []string{f.alpha.ID}})
	path := "/api/v1/webhooks/" + w.ID
	secret := f.storedWebhook(t, w.ID).Secret

	steps := []struct {
		step             string
		body             map[string]any
		name, url        string
		events, projects []string
	}{
		{"only the name", map[string]any{"name": " Renamed "}, "Renamed", publicURL, []string{"TODO_CREATED", "TODO_MOVED"}, []string{f.alpha.ID}},
		{"events replaced", map[string]any{"events": []string{"TAG_CREATED"}}, "Renamed", publicURL, []string{"TAG_CREATED"}, []string{f.alpha.ID}},
		{"projects replaced", map[string]any{"projectIds": []string{f.apex.ID}}, "Renamed", publicURL, []string{"TAG_CREATED"}, []string{f.apex.ID}},
		{"URL", map[string]any{"url": "https://93.184.215.15/other"}, "Renamed", "https://93.184.215.15/other", []string{"TAG_CREATED"}, []string{f.apex.ID}},
		{"all events", map[string]any{"events": []string{}}, "Renamed", "https://93.184.215.15/other", []string{}, []string{f.apex.ID}},
		{"all projects and two events", map[string]any{"projectIds": []string{}, "events": []string{"COMMENT_CREATED", "TAG_DELETED"}},
			"Renamed", "https://93.184.215.15/other", []string{"COMMENT_CREATED", "TAG_DELETED"}, []string{}},
		{"nothing", map[string]any{}, "Renamed", "https://93.184.215.15/other", []string{"COMMENT_CREATED", "TAG_DELETED"}, []string{}},
	}
	last := w.UpdatedAt
	for _, s := range steps {
		t.Run(s.step, func(t *testing.T) {
			time.Sleep(2 * time.Millisecond) // updatedAt has millisecond resolution
			r := f.call(t, f.miaToken, http.MethodPatch, path, s.body, http.StatusOK)
			wantJSON(t, r, http.StatusOK)
			got := decode[apiWebhook](t, r)
			st := f.storedWebhook(t, w.ID)
			for _, v := range []struct {
				who             string
				name, url       string
				events, project []string
			}{{"answer", got.Name, got.URL, got.Events, got.ProjectIDs}, {"store", st.Name, st.URL, st.Events, st.ProjectIDs}} {
				if v.name != s.name || v.url != s.url || !slices.Equal(sorted(v.events), s.events) || !slices.Equal(sorted(v.project), s.projects) {
					t.Errorf("%s: %q %q %v %v, want %q %q %v %v", v.who, v.name, v.url, v.events, v.project, s.name, s.url, s.events, s.projects)
				}
			}
			if st.Secret != secret || st.OwnerID != f.mia.ID || !st.Enabled {
				t.Errorf("PATCH changed the secret, owner or state: %+v", st)
			}
			if got.CreatedAt != w.CreatedAt {
				t.Errorf("createdAt moved from %v to %v", w.CreatedAt, got.CreatedAt)
			}
			if !got.UpdatedAt.After(last) {
				t.Errorf("updatedAt %v not after %v", got.UpdatedAt, last)
			}
			last = got.UpdatedAt
		})
	}

	for _, tc := range []struct {
		name   string
		body   any
		status int
		fields []string
	}{
		{"empty name", map[string]any{"name": ""}, 422, []string{"name"}},
		{"blank name", map[string]any{"name": "   "}, 422, []string{"name"}},
		{"empty URL", map[string]any{"url": ""}, 422, []string{"url"}},
		{"ftp URL", map[string]any{"url": "ftp://x.example.com/"}, 422, []string{"url"}},
		{"private URL", map[string]any{"url": "http://192.168.1.10/hook"}, 422, []string{"url"}},
		{"localhost", map[string]any{"url": "http://localhost:8080/hook"}, 422, []string{"url"}},
		{"unknown event", map[string]any{"events": []string{"NOPE"}}, 422, []string{"events"}},
		{"health check event", map[string]any{"events": []string{"WEBHOOK_HEALTH_CHECK"}}, 422, []string{"events"}},
		{"another organisation's project", map[string]any{"projectIds": []string{f.beta.ID}}, 422, []string{"projectIds"}},
		{"unknown project", map[string]any{"projectIds": []string{"prj_nope"}}, 422, []string{"projectIds"}},
		{"good name, bad URL", map[string]any{"name": "Fine", "url": "nope"}, 422, []string{"url"}},
		{"invalid JSON", `{"name":`, 400, nil},
		{"name not a string", `{"name": 5}`, 400, nil},
	} {
		t.Run("refused "+tc.name, func(t *testing.T) {
			before := f.webhookState(t, w.ID)
			r := f.api(f.miaToken, http.MethodPatch, path, tc.body)
			if tc.status == 422 {
				wantFieldErrors(t, r, tc.fields...)
			} else {
				wantProblem(t, r, tc.status)
			}
			if after := f.webhookState(t, w.ID); after != before {
				t.Errorf("refused PATCH changed the webhook:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func TestWebhookAPIDelete(t *testing.T) {
	f := newAPIFixture(t)
	keep := f.createWebhook(t, f.miaToken, map[string]any{"name": "Keep", "url": publicURL})
	gone := f.createWebhook(t, f.miaToken, map[string]any{"name": "Gone", "url": publicURL, "events": []string{"TODO_CREATED"}, "projectIds": []string{f.alpha.ID}})
	path := "/api/v1/webhooks/" + gone.ID

	r := f.call(t, f.miaToken, http.MethodDelete, path, nil, http.StatusNoContent)
	if len(r.Body) != 0 {
		t.Errorf("204 with a body: %s", r.Body)
	}
	wantProblem(t, f.api(f.miaToken, http.MethodGet, path, nil), http.StatusNotFound)
	wantProblem(t, f.api(f.miaToken, http.MethodDelete, path, nil), http.StatusNotFound)
	wantProblem(t, f.api(f.adminToken, http.MethodGet, path, nil), http.StatusNotFound)
	for _, sub := range []string{"/test", "/enable", "/disable", "/rotate-secret"} {
		wantProblem(t, f.api(f.miaToken, http.MethodPost, path+sub, nil), http.StatusNotFound)
	}
	if _, err := f.store.Webhook(t.Context(), gone.ID); err == nil {
		t.Errorf("deleted webhook is still stored")
	}
	if got := ids(f.allWebhooks(t), func(w store.Webhook) string { return w.ID }); !slices.Equal(got, []string{keep.ID}) {
		t.Errorf("stored webhooks %v, want only %s", got, keep.ID)
	}
	// The admin may delete anyone's.
	f.call(t, f.adminToken, http.MethodDelete, "/api/v1/webhooks/"+keep.ID, nil, http.StatusNoContent)
	if n := len(f.allWebhooks(t)); n != 0 {
		t.Errorf("%d webhooks left", n)
	}
}
