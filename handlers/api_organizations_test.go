package handlers_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"hookyard/store"
)

// organizationDetail is GET /organizations/{id}.
type organizationDetail struct {
	store.Organization
	Projects []store.Project `json:"projects"`
	Members  []store.User    `json:"members"`
}

// Admins list every organisation, members only theirs; pages follow nextCursor to the end.
func TestAPIListOrganizationsPaginates(t *testing.T) {
	app := newTestApp(t)
	admin, mia := app.admin(), app.member("mia@example.com", "Mia")
	adminTok, miaTok := app.token(admin), app.token(mia)
	var all, mias []string
	for i := range 7 {
		o := app.org(fmt.Sprintf("Org %d", i))
		all = append(all, o.ID)
		if i%2 == 0 {
			app.addMember(o.ID, mia.ID)
			mias = append(mias, o.ID)
		}
	}

	pages := walk[store.Organization](t, app, adminTok, "/api/v1/organizations?limit=3")
	if got := len(pages); got != 3 {
		t.Fatalf("7 organisations at 3 a page: %d pages, want 3", got)
	}
	var seen []string
	for i, p := range pages {
		want := []int{3, 3, 1}[i]
		if len(p.Data) != want {
			t.Errorf("page %d: %d organisations, want %d", i+1, len(p.Data), want)
		}
		if (p.NextCursor == nil) != (i == 2) {
			t.Errorf("page %d: nextCursor %v", i+1, p.NextCursor)
		}
		seen = append(seen, ids(p.Data, orgID)...)
	}
	if !slices.Equal(seen, all) {
		t.Errorf("walked %q, want each organisation once in creation order %q", seen, all)
	}

	// Default limit: everything on one page.
	r := app.call(t, adminTok, http.MethodGet, "/api/v1/organizations", nil, http.StatusOK)
	wantJSON(t, r, http.StatusOK)
	one := decode[listPage[store.Organization]](t, r)
	if len(one.Data) != 7 || one.NextCursor != nil {
		t.Errorf("default page: %d organisations, nextCursor %v; want 7 and null", len(one.Data), one.NextCursor)
	}
	if o := one.Data[0]; o.Name != "Org 0" || !strings.HasPrefix(o.ID, "org_") || o.CreatedAt.IsZero() {
		t.Errorf("first organisation %+v", o)
	}

	// Mia, a member of 4 of them, sees those only.
	seen = nil
	for _, p := range walk[store.Organization](t, app, miaTok, "/api/v1/organizations?limit=3") {
		seen = append(seen, ids(p.Data, orgID)...)
	}
	if !slices.Equal(seen, mias) {
		t.Errorf("member walked %q, want %q", seen, mias)
	}
}

// ?limit= above 500 is capped at 500, not refused.
func TestAPIListLimitCappedAt500(t *testing.T) {
	app := newTestApp(t)
	tok := app.token(app.admin())
	for i := range 501 {
		app.org(fmt.Sprintf("Org %03d", i))
	}
	r := app.call(t, tok, http.MethodGet, "/api/v1/organizations?limit=1000", nil, http.StatusOK)
	p := decode[listPage[store.Organization]](t, r)
	if len(p.Data) != 500 || p.NextCursor == nil {
		t.Fatalf("limit=1000 over 501 organisations: %d rows, nextCursor %v; want 500 and a cursor", len(p.Data), p.NextCursor)
	}
	r = app.call(t, tok, http.MethodGet, "/api/v1/organizations?limit=1000&cursor="+*p.NextCursor, nil, http.StatusOK)
	p = decode[listPage[store.Organization]](t, r)
	if len(p.Data) != 1 || p.Data[0].Name != "Org 500" || p.NextCursor != nil {
		t.Errorf("second page: %+v, want Org 500 alone", p)
	}
	r = app.call(t, tok, http.MethodGet, "/api/v1/organizations", nil, http.StatusOK)
	if p = decode[listPage[store.Organization]](t, r); len(p.Data) != 50 || p.NextCursor == nil {
		t.Errorf("default limit: %d rows, nextCursor %v; want 50 and a cursor", len(p.Data), p.NextCursor)
	}
}

// Bad ?limit= and ?cursor= on every paged list are 400 naming the parameter: also a cursor
// that decodes but is not one Hookyard issued (SPEC §5).
func TestAPIListBadPageParams(t *testing.T) {
	f := newAPIFixture(t)
	issued := func(raw string) string { return base64.RawURLEncoding.EncodeToString([]byte(raw)) }
	for _, list := range []string{"/api/v1/organizations", "/api/v1/projects", "/api/v1/users", "/api/v1/webhooks", "/api/v1/events", "/api/v1/event-types"} {
		for _, tc := range []struct{ query, field string }{
			{"limit=0", "limit"},
			{"limit=-1", "limit"},
			{"limit=abc", "limit"},
			{"limit=2.5", "limit"},
			{"cursor=!!!", "cursor"},
			{"cursor=abc", "cursor"},
			{"cursor=" + issued("org_123"), "cursor"},
			{"cursor=" + issued("' OR 1=1 --"), "cursor"},
			{"cursor=" + issued("org_01m8ssfwfktqa3dgetwrnmtv3"), "cursor"},  // one character short
			{"cursor=" + issued("org_01m8ssfwfktqa3dgetwrnmtv3u"), "cursor"}, // u is not in the alphabet
			{"cursor=" + issued("org_91m8ssfwfktqa3dgetwrnmtv3q"), "cursor"}, // more than 128 bits
		} {
			t.Run(list+"?"+tc.query, func(t *testing.T) {
				r := f.api(f.adminToken, http.MethodGet, list+"?"+tc.query, nil)
				p := wantProblem(t, r, http.StatusBadRequest)
				if got := p.fields(); !slices.Equal(got, []string{tc.field}) {
					t.Errorf("error fields %q, want [%s]", got, tc.field)
				}
			})
		}
	}
}

func TestAPICreateOrganization(t *testing.T) {
	f := newAPIFixture(t)
	r := f.call(t, f.adminToken, http.MethodPost, "/api/v1/organizations", map[string]string{"name": "Cobalt"}, http.StatusCreated)
	wantJSON(t, r, http.StatusCreated)
	o := decode[organizationDetail](t, r)
	if o.Name != "Cobalt" || !strings.HasPrefix(o.ID, "org_") || o.CreatedAt.IsZero() {
		t.Errorf("created %+v", o)
	}
	if o.Projects == nil || len(o.Projects) != 0 || o.Members == nil || len(o.Members) != 0 {
		t.Errorf("new organisation: projects %v members %v, want empty arrays\n%s", o.Projects, o.Members, r.Body)
	}
	stored, err := f.store.Organization(t.Context(), o.ID)
	if err != nil || stored.Name != "Cobalt" {
		t.Errorf("stored %+v, %v", stored, err)
	}
	// The admin sees it listed.
	r = f.call(t, f.adminToken, http.MethodGet, "/api/v1/organizations", nil, http.StatusOK)
	if got := ids(decode[listPage[store.Organization]](t, r).Data, orgID); !slices.Contains(got, o.ID) {
		t.Errorf("list %q lacks the new organisation", got)
	}
}

// Refused organisation writes: the right status, the right field, nothing changed.
func TestAPIOrganizationWritesRefused(t *testing.T) {
	f := newAPIFixture(t)
	orgPath := "/api/v1/organizations/" + f.acme.ID
	for _, tc := range []struct {
		name, token, method, path string
		body                      any
		status                    int
		fields                    []string
	}{
		{"create: invalid JSON", f.adminToken, "POST", "/api/v1/organizations", `{`, 400, nil},
		{"create: empty body", f.adminToken, "POST", "/api/v1/organizations", ``, 400, nil},
		{"create: JSON array", f.adminToken, "POST", "/api/v1/organizations", `[]`, 400, nil},
		{"create: empty name", f.adminToken, "POST", "/api/v1/organizations", `{"name":""}`, 422, []string{"name"}},
		{"create: blank name", f.adminToken, "POST", "/api/v1/organizations", `{"name":"   "}`, 422, []string{"name"}},
		{"create: no name", f.adminToken, "POST", "/api/v1/organizations", `{}`, 422, []string{"name"}},
		{"create: null", f.adminToken, "POST", "/api/v1/organizations", `null`, 422, []string{"name"}},
		{"create: name too long", f.adminToken, "POST", "/api/v1/organizations", map[string]string{"name": strings.Repeat("n", 101)}, 422, []string{"name"}},
		{"create: name of wrong type", f.adminToken, "POST", "/api/v1/organizations", `{"name":123}`, 400, []string{"name"}},
		{"create: member", f.miaToken, "POST", "/api/v1/organizations", `{"name":"Mine"}`, 403, nil},
		{"rename: empty name", f.adminToken, "PATCH", orgPath, `{"name":""}`, 422, []string{"name"}},
		{"rename: invalid JSON", f.adminToken, "PATCH", orgPath, `{"name":`, 400, nil},
		{"rename: wrong type", f.adminToken, "PATCH", orgPath, `{"name":["x"]}`, 400, []string{"name"}},
		{"rename: unknown", f.adminToken, "PATCH", "/api/v1/organizations/org_nope", `{"name":"X"}`, 404, nil},
		{"rename: member of it", f.miaToken, "PATCH", orgPath, `{"name":"Mia's"}`, 403, nil},
		{"delete: unknown", f.adminToken, "DELETE", "/api/v1/organizations/org_nope", nil, 404, nil},
		{"delete: member of it", f.miaToken, "DELETE", orgPath, nil, 403, nil},
		{"get: unknown", f.adminToken, "GET", "/api/v1/organizations/org_nope", nil, 404, nil},
		{"get: member of another", f.miaToken, "GET", "/api/v1/organizations/" + f.bolt.ID, nil, 404, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.state(t)
			p := wantProblem(t, f.api(tc.token, tc.method, tc.path, tc.body), tc.status)
			if tc.fields != nil && !slices.Equal(p.fields(), tc.fields) {
				t.Errorf("error fields %q, want %q", p.fields(), tc.fields)
			}
			f.unchanged(t, before, tc.name)
		})
	}
}

// GET one organisation: its projects and members; a member sees their own.
func TestAPIGetOrganization(t *testing.T) {
	f := newAPIFixture(t)
	for _, tok := range []string{f.adminToken, f.miaToken} {
		r := f.call(t, tok, http.MethodGet, "/api/v1/organizations/"+f.acme.ID, nil, http.StatusOK)
		wantJSON(t, r, http.StatusOK)
		noPassword(t, r)
		o := decode[organizationDetail](t, r)
		if o.ID != f.acme.ID || o.Name != "Acme" {
			t.Errorf("got %s %q, want Acme", o.ID, o.Name)
		}
		if got, want := ids(o.Projects, projectID), []string{f.alpha.ID, f.apex.ID}; !slices.Equal(got, want) {
			t.Errorf("projects %q, want Alpha, Apex %q", got, want)
		}
		if got := ids(o.Members, userID); !slices.Equal(got, []string{f.mia.ID}) {
			t.Errorf("members %q, want Mia only", got)
		}
		if len(o.Members) == 1 && (o.Members[0].Email != "mia@example.com" || o.Members[0].Role != store.RoleMember) {
			t.Errorf("member %+v", o.Members[0])
		}
	}
	// An organisation without projects or members still has both arrays.
	empty := f.org("Empty")
	r := f.call(t, f.adminToken, http.MethodGet, "/api/v1/organizations/"+empty.ID, nil, http.StatusOK)
	raw := r.JSON(t)
	for _, k := range []string{"projects", "members"} {
		if v, ok := raw[k].([]any); !ok || len(v) != 0 {
			t.Errorf("%s = %v, want []", k, raw[k])
		}
	}
}

func TestAPIRenameOrganization(t *testing.T) {
	f := newAPIFixture(t)
	path := "/api/v1/organizations/" + f.acme.ID
	r := f.call(t, f.adminToken, http.MethodPatch, path, map[string]string{"name": "Acme Ltd"}, http.StatusOK)
	wantJSON(t, r, http.StatusOK)
	o := decode[store.Organization](t, r)
	if o.ID != f.acme.ID || o.Name != "Acme Ltd" || o.UpdatedAt.Before(o.CreatedAt) {
		t.Errorf("renamed %+v", o)
	}
	if got, _ := f.store.Organization(t.Context(), f.acme.ID); got.Name != "Acme Ltd" {
		t.Errorf("stored name %q", got.Name)
	}
	// Projects show the new organisation name.
	r = f.call(t, f.miaToken, http.MethodGet, "/api/v1/projects/"+f.alpha.ID, nil, http.StatusOK)
	if p := decode[store.Project](t, r); p.OrganizationName != "Acme Ltd" {
		t.Errorf("project organizationName %q, want Acme Ltd", p.OrganizationName)
	}
	// An empty patch changes nothing and answers the organisation.
	before := f.state(t)
	r = f.call(t, f.adminToken, http.MethodPatch, path, map[string]any{}, http.StatusOK)
	if o := decode[store.Organization](t, r); o.Name != "Acme Ltd" {
		t.Errorf("empty patch answered %+v", o)
	}
	f.unchanged(t, before, "an empty PATCH")
}

// Deleting an organisation takes its projects and memberships with it.
func TestAPIDeleteOrganization(t *testing.T) {
	f := newAPIFixture(t)
	path := "/api/v1/organizations/" + f.acme.ID
	r := f.call(t, f.adminToken, http.MethodDelete, path, nil, http.StatusNoContent)
	if len(r.Body) != 0 {
		t.Errorf("204 with body %q", r.Body)
	}
	wantProblem(t, f.api(f.adminToken, http.MethodGet, path, nil), http.StatusNotFound)
	wantProblem(t, f.api(f.adminToken, http.MethodDelete, path, nil), http.StatusNotFound)
	for _, p := range []store.Project{f.alpha, f.apex} {
		wantProblem(t, f.api(f.adminToken, http.MethodGet, "/api/v1/projects/"+p.ID, nil), http.StatusNotFound)
		if _, err := f.store.Project(t.Context(), p.ID); err != store.ErrNotFound {
			t.Errorf("project %s after its organisation was deleted: %v", p.Name, err)
		}
	}
	r = f.call(t, f.adminToken, http.MethodGet, "/api/v1/projects?organizationId="+f.acme.ID, nil, http.StatusOK)
	if n := len(decode[listPage[store.Project]](t, r).Data); n != 0 {
		t.Errorf("%d projects still listed for the deleted organisation", n)
	}
	r = f.call(t, f.miaToken, http.MethodGet, "/api/v1/me", nil, http.StatusOK)
	if orgs := decode[meBody](t, r).Organizations; len(orgs) != 0 {
		t.Errorf("Mia still in %+v", orgs)
	}
	// Bolt is untouched.
	r = f.call(t, f.adminToken, http.MethodGet, "/api/v1/organizations/"+f.bolt.ID, nil, http.StatusOK)
	if o := decode[organizationDetail](t, r); len(o.Projects) != 1 || len(o.Members) != 1 {
		t.Errorf("Bolt after deleting Acme: %+v", o)
	}
}

// PUT and DELETE of a membership, and what the member can see before, during and after.
func TestAPIOrganizationMembers(t *testing.T) {
	f := newAPIFixture(t)
	member := "/api/v1/organizations/" + f.bolt.ID + "/members/" + f.mia.ID
	boltPath := "/api/v1/organizations/" + f.bolt.ID
	betaPath := "/api/v1/projects/" + f.beta.ID

	canSee := func(t *testing.T, want bool) {
		t.Helper()
		status := map[bool]int{true: 200, false: 404}[want]
		if r := f.api(f.miaToken, http.MethodGet, boltPath, nil); r.Status != status {
			t.Errorf("Mia GET Bolt: %d, want %d", r.Status, status)
		}
		if r := f.api(f.miaToken, http.MethodGet, betaPath, nil); r.Status != status {
			t.Errorf("Mia GET Beta: %d, want %d", r.Status, status)
		}
		r := f.call(t, f.miaToken, http.MethodGet, "/api/v1/projects", nil, http.StatusOK)
		if got := slices.Contains(ids(decode[listPage[store.Project]](t, r).Data, projectID), f.beta.ID); got != want {
			t.Errorf("Mia's project list has Beta: %v, want %v", got, want)
		}
		r = f.call(t, f.miaToken, http.MethodGet, "/api/v1/projects?organizationId="+f.bolt.ID, nil, http.StatusOK)
		if n := len(decode[listPage[store.Project]](t, r).Data); (n == 1) != want {
			t.Errorf("Mia's project list filtered by Bolt: %d projects", n)
		}
		r = f.call(t, f.miaToken, http.MethodGet, "/api/v1/organizations", nil, http.StatusOK)
		if got := slices.Contains(ids(decode[listPage[store.Organization]](t, r).Data, orgID), f.bolt.ID); got != want {
			t.Errorf("Mia's organisation list has Bolt: %v, want %v", got, want)
		}
		r = f.call(t, f.miaToken, http.MethodGet, "/api/v1/me", nil, http.StatusOK)
		if got := slices.Contains(ids(decode[meBody](t, r).Organizations, orgID), f.bolt.ID); got != want {
			t.Errorf("Mia's /me has Bolt: %v, want %v", got, want)
		}
	}

	canSee(t, false)
	f.call(t, f.adminToken, http.MethodPut, member, nil, http.StatusNoContent)
	canSee(t, true)
	// PUT again is fine and changes nothing.
	before := f.state(t)
	f.call(t, f.adminToken, http.MethodPut, member, nil, http.StatusNoContent)
	f.unchanged(t, before, "a second PUT of the same membership")
	r := f.call(t, f.adminToken, http.MethodGet, boltPath, nil, http.StatusOK)
	if got := ids(decode[organizationDetail](t, r).Members, userID); !slices.Equal(got, []string{f.mia.ID, f.otto.ID}) {
		t.Errorf("Bolt members %q, want Mia then Otto", got)
	}
	r = f.call(t, f.adminToken, http.MethodGet, "/api/v1/users/"+f.mia.ID, nil, http.StatusOK)
	if got := decode[userDetail](t, r).OrganizationIDs; !sameSet(got, []string{f.acme.ID, f.bolt.ID}) {
		t.Errorf("Mia's organizationIds %q, want Acme and Bolt", got)
	}

	f.call(t, f.adminToken, http.MethodDelete, member, nil, http.StatusNoContent)
	canSee(t, false)
	// Still in Acme.
	f.call(t, f.miaToken, http.MethodGet, "/api/v1/organizations/"+f.acme.ID, nil, http.StatusOK)

	for _, tc := range []struct {
		name, token, method, path string
		status                    int
	}{
		{"delete a non-member", f.adminToken, "DELETE", member, 404},
		{"put unknown user", f.adminToken, "PUT", "/api/v1/organizations/" + f.bolt.ID + "/members/usr_nope", 404},
		{"put unknown organisation", f.adminToken, "PUT", "/api/v1/organizations/org_nope/members/" + f.mia.ID, 404},
		{"delete unknown user", f.adminToken, "DELETE", "/api/v1/organizations/" + f.bolt.ID + "/members/usr_nope", 404},
		{"delete unknown organisation", f.adminToken, "DELETE", "/api/v1/organizations/org_nope/members/" + f.otto.ID, 404},
		{"member adds self", f.miaToken, "PUT", member, 403},
		{"member adds self to own org", f.miaToken, "PUT", "/api/v1/organizations/" + f.acme.ID + "/members/" + f.otto.ID, 403},
		{"member removes self", f.miaToken, "DELETE", "/api/v1/organizations/" + f.acme.ID + "/members/" + f.mia.ID, 403},
		{"member removes other", f.ottoToken, "DELETE", "/api/v1/organizations/" + f.acme.ID + "/members/" + f.mia.ID, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.state(t)
			wantProblem(t, f.api(tc.token, tc.method, tc.path, nil), tc.status)
			f.unchanged(t, before, tc.name)
		})
	}
}

// sameSet reports whether a and b hold the same strings in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
