package handlers_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"hookyard/handlers"
	"hookyard/store"
)

// apiRoute is one /api/v1 route called by a member and by an admin, with what each must get.
type apiRoute struct {
	method, route string                   // as registered in routes.go, for the coverage check
	path          func(*apiFixture) string // with real ids
	body          any
	member, admin int
}

// apiRoutes lists every /api/v1 route of routes.go. Mia (a member of Acme, not of Bolt)
// calls first, then Ada (the admin), each on a fresh fixture state after Mia's call.
var apiRoutes = []apiRoute{
	{"GET", "/me", func(*apiFixture) string { return "/me" }, nil, 200, 200},
	{"GET", "/event-types", func(*apiFixture) string { return "/event-types" }, nil, 200, 200},
	{"POST", "/event-types", func(*apiFixture) string { return "/event-types" },
		map[string]string{"name": "INVOICE_PAID", "label": "Invoice paid"}, 403, 201},
	{"GET", "/organizations", func(*apiFixture) string { return "/organizations" }, nil, 200, 200},
	{"POST", "/organizations", func(*apiFixture) string { return "/organizations" },
		map[string]string{"name": "Cobalt"}, 403, 201},
	{"GET", "/organizations/:id", func(f *apiFixture) string { return "/organizations/" + f.acme.ID }, nil, 200, 200},
	{"GET", "/organizations/:id", func(f *apiFixture) string { return "/organizations/" + f.bolt.ID }, nil, 404, 200},
	{"PATCH", "/organizations/:id", func(f *apiFixture) string { return "/organizations/" + f.acme.ID },
		map[string]string{"name": "Acme Ltd"}, 403, 200},
	{"DELETE", "/organizations/:id", func(f *apiFixture) string { return "/organizations/" + f.acme.ID }, nil, 403, 204},
	{"PUT", "/organizations/:id/members/:userId",
		func(f *apiFixture) string { return "/organizations/" + f.bolt.ID + "/members/" + f.mia.ID }, nil, 403, 204},
	{"DELETE", "/organizations/:id/members/:userId",
		func(f *apiFixture) string { return "/organizations/" + f.acme.ID + "/members/" + f.mia.ID }, nil, 403, 204},
	{"GET", "/projects", func(*apiFixture) string { return "/projects" }, nil, 200, 200},
	{"POST", "/projects", func(*apiFixture) string { return "/projects" },
		map[string]string{"organizationId": "", "name": "Gamma"}, 403, 201}, // organizationId filled in below
	{"GET", "/projects/:id", func(f *apiFixture) string { return "/projects/" + f.alpha.ID }, nil, 200, 200},
	{"GET", "/projects/:id", func(f *apiFixture) string { return "/projects/" + f.beta.ID }, nil, 404, 200},
	{"PATCH", "/projects/:id", func(f *apiFixture) string { return "/projects/" + f.alpha.ID },
		map[string]string{"name": "Alpha 2"}, 403, 200},
	{"DELETE", "/projects/:id", func(f *apiFixture) string { return "/projects/" + f.alpha.ID }, nil, 403, 204},
	{"GET", "/users", func(*apiFixture) string { return "/users" }, nil, 403, 200},
	{"POST", "/users", func(*apiFixture) string { return "/users" },
		map[string]string{"email": "new@example.com", "name": "New Person", "password": "long enough pw"}, 403, 201},
	{"GET", "/users/:id", func(f *apiFixture) string { return "/users/" + f.mia.ID }, nil, 200, 200},
	{"GET", "/users/:id", func(f *apiFixture) string { return "/users/" + f.otto.ID }, nil, 404, 200},
	{"PATCH", "/users/:id", func(f *apiFixture) string { return "/users/" + f.mia.ID },
		map[string]string{"name": "Mia M."}, 200, 200},
	{"PATCH", "/users/:id", func(f *apiFixture) string { return "/users/" + f.otto.ID },
		map[string]string{"name": "Otto O."}, 404, 200},
	{"DELETE", "/users/:id", func(f *apiFixture) string { return "/users/" + f.otto.ID }, nil, 403, 204},
	{"GET", "/webhooks", func(*apiFixture) string { return "/webhooks" }, nil, 200, 200},
	{"POST", "/webhooks", func(*apiFixture) string { return "/webhooks" },
		map[string]string{"name": "CRM sync", "url": "https://93.184.215.14/hook"}, 201, 201},
	{"GET", "/webhooks/:id", func(f *apiFixture) string { return "/webhooks/" + f.webhookOf(f.mia) }, nil, 200, 200},
	{"GET", "/webhooks/:id", func(f *apiFixture) string { return "/webhooks/" + f.webhookOf(f.otto) }, nil, 404, 200},
	{"PATCH", "/webhooks/:id", func(f *apiFixture) string { return "/webhooks/" + f.webhookOf(f.mia) },
		map[string]string{"name": "Renamed"}, 200, 200},
	{"PATCH", "/webhooks/:id", func(f *apiFixture) string { return "/webhooks/" + f.webhookOf(f.otto) },
		map[string]string{"name": "Renamed"}, 404, 200},
	{"DELETE", "/webhooks/:id", func(f *apiFixture) string { return "/webhooks/" + f.webhookOf(f.otto) }, nil, 404, 204},
	// Webhooks made by webhookOf call loopback, which the default guard refuses: the health
	// check of a re-enable fails (409) and a test reports the refusal (200, ok false).
	{"POST", "/webhooks/:id/enable", func(f *apiFixture) string { return "/webhooks/" + f.webhookOf(f.otto) + "/enable" }, nil, 404, 409},
	{"POST", "/webhooks/:id/disable", func(f *apiFixture) string { return "/webhooks/" + f.webhookOf(f.otto) + "/disable" }, nil, 404, 200},
	{"POST", "/webhooks/:id/rotate-secret", func(f *apiFixture) string { return "/webhooks/" + f.webhookOf(f.otto) + "/rotate-secret" }, nil, 404, 200},
	{"POST", "/webhooks/:id/finish-rotation", func(f *apiFixture) string { return "/webhooks/" + f.webhookOf(f.otto) + "/finish-rotation" }, nil, 404, 200},
	{"POST", "/webhooks/:id/test", func(f *apiFixture) string { return "/webhooks/" + f.webhookOf(f.otto) + "/test" },
		map[string]string{"event": "TODO_CREATED"}, 404, 200},
	// Anyone may try a filter on a payload; on a stored event, only who may see it (filters_test.go).
	{"POST", "/filters/evaluate", func(*apiFixture) string { return "/filters/evaluate" },
		map[string]any{"payload": map[string]any{"event": "TODO_MOVED"},
			"filter": map[string]any{"conditions": []map[string]any{{"path": "event", "op": "eq", "value": "TODO_MOVED"}}}}, 200, 200},
}

// Every /api/v1 route answers a member and an admin as the access rules say; a refusal is
// problem+json and changes nothing.
func TestAPIRouteAccess(t *testing.T) {
	for i, rt := range apiRoutes {
		t.Run(fmt.Sprintf("%02d %s %s", i, rt.method, rt.route), func(t *testing.T) {
			f := newAPIFixture(t)
			path := "/api/v1" + rt.path(f)
			body := rt.body
			if m, ok := body.(map[string]string); ok && rt.route == "/projects" {
				body = map[string]string{"organizationId": f.acme.ID, "name": m["name"]}
			}
			for _, who := range []struct {
				name, token string
				want        int
			}{{"member", f.miaToken, rt.member}, {"admin", f.adminToken, rt.admin}} {
				before := f.state(t)
				r := f.api(who.token, rt.method, path, body)
				if r.Status != who.want {
					t.Fatalf("%s %s as %s: status %d, want %d\n%s", rt.method, path, who.name, r.Status, who.want, r.Body)
				}
				switch {
				case who.want >= 400:
					wantProblem(t, r, who.want)
					f.unchanged(t, before, rt.method+" "+path+" as "+who.name)
				case who.want == http.StatusNoContent:
					if len(r.Body) != 0 {
						t.Errorf("204 with a body: %s", r.Body)
					}
				default:
					wantJSON(t, r, who.want)
					noPassword(t, r)
				}
			}
		})
	}
}

// apiRoutesElsewhere are /api/v1 route prefixes whose tests live with their own feature
// (the delivery API, a webhook's deliveries and replay included), not in apiRoutes.
var apiRoutesElsewhere = []string{"/deliveries", "/events", "/webhooks/:id/deliveries", "/webhooks/:id/replay"}

// The table above names every other /api/v1 route registered in routes.go: a new route
// without a row fails here. (openapi_test.go checks the routes against the OpenAPI document.)
func TestAPIRouteTableIsCovered(t *testing.T) {
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "routes.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e, err := handlers.New(t.Context(), st, handlers.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Engine: testEngine(t, st, false)})
	if err != nil {
		t.Fatal(err)
	}
	tested := map[string]bool{}
	for _, rt := range apiRoutes {
		tested[rt.method+" "+rt.route] = true
	}
	registered := map[string]bool{}
	for _, r := range e.Routes() {
		p, ok := strings.CutPrefix(r.Path, "/api/v1")
		if !ok || strings.HasSuffix(p, "*") || p == "" || p == "/openapi.json" || !slices.Contains(
			[]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, r.Method) ||
			slices.ContainsFunc(apiRoutesElsewhere, func(pre string) bool { return strings.HasPrefix(p, pre) }) {
			continue
		}
		registered[r.Method+" "+p] = true
		if !tested[r.Method+" "+p] {
			t.Errorf("route %s %s has no row in apiRoutes", r.Method, r.Path)
		}
	}
	for rt := range tested {
		if !registered[rt] {
			t.Errorf("apiRoutes has %s, which routes.go does not register", rt)
		}
	}
}

// Requests without a valid bearer token get 401 problem+json with WWW-Authenticate.
func TestAPIAuthRefused(t *testing.T) {
	f := newAPIFixture(t)
	ctx := t.Context()

	revoked := f.token(f.mia)
	toks, _, err := f.store.ListTokens(ctx, f.mia.ID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	// Newest first: the one just made.
	if err := f.store.DeleteToken(ctx, toks[0].ID); err != nil {
		t.Fatal(err)
	}
	gone := f.member("gone@example.com", "Gone Soon")
	goneToken := f.token(gone)
	if r := f.api(goneToken, http.MethodGet, "/api/v1/me", nil); r.Status != http.StatusOK {
		t.Fatalf("token works before its user is deleted? %d", r.Status)
	}
	if err := f.store.DeleteUser(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, authorization string
	}{
		{"no header", ""},
		{"garbage bearer", "Bearer garbage"},
		{"empty bearer", "Bearer "},
		{"bearer with a token-like string", "Bearer " + store.TokenPrefix + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"revoked token", "Bearer " + revoked},
		{"deleted user's token", "Bearer " + goneToken},
		{"basic auth", "Basic YWRtaW5AZXhhbXBsZS5jb206Y29ycmVjdCBob3JzZSBiYXR0ZXJ5"},
		{"token without scheme", f.adminToken},
		{"token in basic scheme", "Basic " + f.adminToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/api/v1/me", "/api/v1/organizations", "/api/v1/users/" + f.admin.ID} {
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.srv.URL+path, nil)
				if tc.authorization != "" {
					req.Header.Set("Authorization", tc.authorization)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				r := apiResult{Status: resp.StatusCode, Header: resp.Header, Body: body}
				wantProblem(t, r, http.StatusUnauthorized)
				if h := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
					t.Errorf("GET %s: WWW-Authenticate %q, want a Bearer challenge", path, h)
				}
				if strings.Contains(string(body), "admin@example.com") {
					t.Errorf("401 leaks account data: %s", body)
				}
			}
		})
	}

	// A refused write changes nothing.
	before := f.state(t)
	r := f.api("", http.MethodPost, "/api/v1/organizations", map[string]string{"name": "Sneaky"})
	wantProblem(t, r, http.StatusUnauthorized)
	r = f.api("garbage", http.MethodDelete, "/api/v1/organizations/"+f.acme.ID, nil)
	wantProblem(t, r, http.StatusUnauthorized)
	f.unchanged(t, before, "unauthenticated writes")
}

// Using a token records when it was last used; the scheme name is case-insensitive.
func TestAPITokenLastUsed(t *testing.T) {
	app := newTestApp(t)
	u := app.admin()
	tok := app.token(u)
	toks, _, err := app.store.ListTokens(t.Context(), u.ID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) != 1 || toks[0].LastUsedAt != nil {
		t.Fatalf("fresh token: %+v, want one never used", toks)
	}
	start := toks[0].CreatedAt
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, app.srv.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("lower-case bearer: %d, want 200", resp.StatusCode)
	}
	toks, _, err = app.store.ListTokens(t.Context(), u.ID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if toks[0].LastUsedAt == nil {
		t.Fatal("LastUsedAt still nil after a call")
	}
	if toks[0].LastUsedAt.Before(start) {
		t.Errorf("LastUsedAt %v before the token was made (%v)", toks[0].LastUsedAt, start)
	}
}

// Addresses under /api/v1 that are not routes answer problem+json, never HTML.
func TestAPIUnknownRoutesAndMethods(t *testing.T) {
	f := newAPIFixture(t)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/v1/nope"},
		{"GET", "/api/v1/"},
		{"GET", "/api/v1/organizations/" + f.acme.ID + "/nope"},
		{"POST", "/api/v1/nope"},
		// Wrong methods on real routes.
		{"PUT", "/api/v1/me"},
		{"POST", "/api/v1/me"},
		{"DELETE", "/api/v1/event-types"},
		{"PATCH", "/api/v1/organizations"},
		{"PUT", "/api/v1/organizations/" + f.acme.ID},
		{"POST", "/api/v1/users/" + f.mia.ID},
		{"GET", "/api/v1/organizations/" + f.acme.ID + "/members/" + f.mia.ID},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			before := f.state(t)
			r := f.api(f.adminToken, tc.method, tc.path, nil)
			if r.Status != http.StatusNotFound && r.Status != http.StatusMethodNotAllowed {
				t.Fatalf("status %d, want 404 or 405\n%s", r.Status, r.Body)
			}
			wantProblem(t, r, r.Status)
			if strings.Contains(strings.ToLower(string(r.Body)), "<html") {
				t.Errorf("HTML in an API answer: %s", r.Body)
			}
			f.unchanged(t, before, tc.method+" "+tc.path)
		})
	}
}

// /api/v1/openapi.json needs no token; /healthz answers "ok".
func TestAPIOpenAPIAndHealthz(t *testing.T) {
	app := newTestApp(t)
	r := app.call(t, "", http.MethodGet, "/api/v1/openapi.json", nil, http.StatusOK)
	wantJSON(t, r, http.StatusOK)
	doc := r.JSON(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1") {
		t.Errorf("openapi %v, want 3.1.x", doc["openapi"])
	}
	if _, ok := doc["paths"].(map[string]any); !ok {
		t.Errorf("no paths object: %s", r.Body)
	}

	r = app.call(t, "", http.MethodGet, "/healthz", nil, http.StatusOK)
	if got := strings.TrimSpace(string(r.Body)); got != "ok" {
		t.Errorf("/healthz body %q, want ok", got)
	}
}

// A body over the server's limit is refused with 413 problem+json and changes nothing.
func TestAPIBodyTooLarge(t *testing.T) {
	f := newAPIFixture(t)
	before := f.state(t)
	big := `{"name":"` + strings.Repeat("x", 3<<20) + `"}`
	r := f.api(f.adminToken, http.MethodPost, "/api/v1/organizations", big)
	wantProblem(t, r, http.StatusRequestEntityTooLarge)
	f.unchanged(t, before, "a 3 MiB body")
}
