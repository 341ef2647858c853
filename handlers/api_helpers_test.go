package handlers_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"hookyard/handlers"
	"hookyard/store"
)

// Helpers of the JSON API tests: a standard cast of users, organisations and projects, typed
// decoding, problem+json checks and a snapshot of the database to prove a refused write
// changed nothing.

// apiFixture is the cast most API tests start from:
//   - Ada, the admin;
//   - Mia, a member of Acme (projects Alpha and Apex);
//   - Otto, a member of Bolt (project Beta), an organisation Mia is not in.
type apiFixture struct {
	*testApp
	admin, mia, otto                store.User
	adminToken, miaToken, ottoToken string
	acme, bolt                      store.Organization
	alpha, apex, beta               store.Project
}

func newAPIFixture(t *testing.T, opts ...func(*handlers.Options)) *apiFixture {
	t.Helper()
	app := newTestApp(t, opts...)
	f := &apiFixture{testApp: app}
	f.admin = app.admin()
	f.mia = app.member("mia@example.com", "Mia Member")
	f.otto = app.member("otto@example.com", "Otto Other")
	f.adminToken, f.miaToken, f.ottoToken = app.token(f.admin), app.token(f.mia), app.token(f.otto)
	f.acme = app.org("Acme")
	f.bolt = app.org("Bolt")
	f.alpha = app.project(f.acme.ID, "Alpha")
	f.apex = app.project(f.acme.ID, "Apex")
	f.beta = app.project(f.bolt.ID, "Beta")
	app.addMember(f.acme.ID, f.mia.ID)
	app.addMember(f.bolt.ID, f.otto.ID)
	return f
}

// call is app.api that also fails t unless the status is want. (t is passed, not a.t, so
// it works inside subtests.)
func (a *testApp) call(t *testing.T, token, method, path string, body any, want int) apiResult {
	t.Helper()
	r := a.api(token, method, path, body)
	if r.Status != want {
		t.Fatalf("%s %s: status %d, want %d\n%s", method, path, r.Status, want, r.Body)
	}
	return r
}

// decode unmarshals an API response into a typed value.
func decode[T any](t *testing.T, r apiResult) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, r.Body)
	}
	return v
}

// listPage is one page of an API list.
type listPage[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"nextCursor"`
}

// walk follows nextCursor from the first page (path already carrying its query) to the
// end and returns every page.
func walk[T any](t *testing.T, a *testApp, token, path string) []listPage[T] {
	t.Helper()
	var pages []listPage[T]
	next := path
	for range 100 {
		r := a.call(t, token, http.MethodGet, next, nil, http.StatusOK)
		// Absent data or nextCursor must not pass for empty ones.
		raw := decode[map[string]json.RawMessage](t, r)
		if _, ok := raw["data"]; !ok {
			t.Fatalf("GET %s: no data field\n%s", next, r.Body)
		}
		if _, ok := raw["nextCursor"]; !ok {
			t.Fatalf("GET %s: no nextCursor field\n%s", next, r.Body)
		}
		p := decode[listPage[T]](t, r)
		pages = append(pages, p)
		if p.NextCursor == nil {
			return pages
		}
		if *p.NextCursor == "" {
			t.Fatalf("GET %s: nextCursor is an empty string; want null or a cursor", next)
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		next = path + sep + "cursor=" + url.QueryEscape(*p.NextCursor)
	}
	t.Fatalf("GET %s: more than 100 pages", path)
	return nil
}

// apiProblem is an application/problem+json body.
type apiProblem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// fields returns the sorted field names of the validation errors.
func (p apiProblem) fields() []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	slices.Sort(out)
	return out
}

// wantProblem checks that r is a problem+json answer with the given status and the
// fields every problem has, and returns it.
func wantProblem(t *testing.T, r apiResult, status int) apiProblem {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d\n%s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("Content-Type %q, want application/problem+json\n%s", ct, r.Body)
	}
	raw := decode[map[string]any](t, r)
	for _, k := range []string{"type", "title", "status", "detail"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("problem has no %q field: %s", k, r.Body)
		}
	}
	p := decode[apiProblem](t, r)
	if p.Status != status {
		t.Errorf("problem status field %d, want %d", p.Status, status)
	}
	if p.Type == "" || p.Title == "" || p.Detail == "" {
		t.Errorf("problem has an empty type, title or detail: %s", r.Body)
	}
	for _, e := range p.Errors {
		if e.Message == "" {
			t.Errorf("error for field %q has no message: %s", e.Field, r.Body)
		}
	}
	return p
}

// wantFieldErrors checks a 422 whose errors name exactly the given fields.
func wantFieldErrors(t *testing.T, r apiResult, fields ...string) apiProblem {
	t.Helper()
	p := wantProblem(t, r, http.StatusUnprocessableEntity)
	want := slices.Clone(fields)
	slices.Sort(want)
	if got := p.fields(); !slices.Equal(got, want) {
		t.Errorf("error fields %q, want %q\n%s", got, want, r.Body)
	}
	return p
}

// wantJSON checks a successful JSON answer.
func wantJSON(t *testing.T, r apiResult, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d\n%s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
}

// noPassword fails when a response body mentions a password (hash or field).
func noPassword(t *testing.T, r apiResult) {
	t.Helper()
	body := strings.ToLower(string(r.Body))
	if strings.Contains(body, "password") || strings.Contains(body, "$2a$") {
		t.Errorf("response carries password data:\n%s", r.Body)
	}
}

// ids returns the ids of a list in order.
func ids[T any](xs []T, id func(T) string) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, id(x))
	}
	return out
}

func orgID(o store.Organization) string { return o.ID }
func projectID(p store.Project) string  { return p.ID }
func userID(u store.User) string        { return u.ID }

// storeState is everything the organisation, project, user and event-type endpoints can
// change, in a form that compares as a string.
type storeState struct {
	Orgs       []store.Organization
	Projects   []store.Project
	Users      []userWithHash
	Members    map[string][]string
	EventTypes []store.EventType
	Tokens     []store.APIToken // LastUsedAt cleared: using a token to be refused records its use
}

type userWithHash struct {
	store.User
	Hash string
}

func (a *testApp) state(t *testing.T) string {
	t.Helper()
	ctx := t.Context()
	var s storeState
	var err error
	if s.Orgs, _, err = a.store.ListOrganizations(ctx, "", store.Page{Limit: 500}); err != nil {
		t.Fatal(err)
	}
	if s.Projects, _, err = a.store.ListProjects(ctx, store.ProjectFilter{}, store.Page{Limit: 500}); err != nil {
		t.Fatal(err)
	}
	users, _, err := a.store.ListUsers(ctx, store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		s.Users = append(s.Users, userWithHash{User: u, Hash: u.PasswordHash})
	}
	if s.Members, err = a.store.MemberOrganizations(ctx); err != nil {
		t.Fatal(err)
	}
	if s.EventTypes, err = a.store.ListEventTypes(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Tokens, _, err = a.store.ListTokens(ctx, "", store.Page{}); err != nil {
		t.Fatal(err)
	}
	for i := range s.Tokens {
		s.Tokens[i].LastUsedAt = nil
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// unchanged fails when the database differs from the snapshot taken before.
func (a *testApp) unchanged(t *testing.T, before, what string) {
	t.Helper()
	if after := a.state(t); after != before {
		t.Errorf("%s changed the database:\nbefore %s\nafter  %s", what, before, after)
	}
}
