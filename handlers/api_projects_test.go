package handlers_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"hookyard/store"
)

// The project list: filtered by organisation, paged, and limited to a member's organisations.
func TestAPIListProjects(t *testing.T) {
	f := newAPIFixture(t)
	acmeIDs := []string{f.alpha.ID, f.apex.ID}
	for i := range 5 {
		acmeIDs = append(acmeIDs, f.project(f.acme.ID, fmt.Sprintf("Acme %d", i)).ID)
	}
	gamma := f.project(f.bolt.ID, "Gamma")
	all := append(append([]string{}, acmeIDs[:2]...), f.beta.ID)
	all = append(all, acmeIDs[2:]...)
	all = append(all, gamma.ID)

	collect := func(t *testing.T, token, path string) []string {
		t.Helper()
		var got []string
		for _, p := range walk[store.Project](t, f.testApp, token, path) {
			if len(p.Data) > 3 && strings.Contains(path, "limit=3") {
				t.Errorf("%s: page of %d", path, len(p.Data))
			}
			got = append(got, ids(p.Data, projectID)...)
		}
		return got
	}
	for _, tc := range []struct {
		name, token, path string
		want              []string
	}{
		{"admin, all", f.adminToken, "/api/v1/projects", all},
		{"admin, all, paged", f.adminToken, "/api/v1/projects?limit=3", all},
		{"admin, Acme, paged", f.adminToken, "/api/v1/projects?limit=3&organizationId=" + f.acme.ID, acmeIDs},
		{"admin, Bolt", f.adminToken, "/api/v1/projects?organizationId=" + f.bolt.ID, []string{f.beta.ID, gamma.ID}},
		{"admin, unknown organisation", f.adminToken, "/api/v1/projects?organizationId=org_nope", nil},
		{"member, all they can see", f.miaToken, "/api/v1/projects?limit=3", acmeIDs},
		{"member, own organisation", f.miaToken, "/api/v1/projects?organizationId=" + f.acme.ID, acmeIDs},
		{"member, other organisation", f.miaToken, "/api/v1/projects?organizationId=" + f.bolt.ID, nil},
		{"other member", f.ottoToken, "/api/v1/projects?limit=1", []string{f.beta.ID, gamma.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := collect(t, tc.token, tc.path); !slices.Equal(got, tc.want) {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}

	// Page sizes: 7 Acme projects at 3 a page are 3, 3, 1.
	pages := walk[store.Project](t, f.testApp, f.adminToken, "/api/v1/projects?limit=3&organizationId="+f.acme.ID)
	var sizes []int
	for _, p := range pages {
		sizes = append(sizes, len(p.Data))
	}
	if !slices.Equal(sizes, []int{3, 3, 1}) {
		t.Errorf("page sizes %v, want [3 3 1]", sizes)
	}
	// An empty list is [], not null.
	r := f.call(t, f.miaToken, http.MethodGet, "/api/v1/projects?organizationId="+f.bolt.ID, nil, http.StatusOK)
	if d, ok := r.JSON(t)["data"].([]any); !ok || len(d) != 0 {
		t.Errorf("empty list: %s", r.Body)
	}
}

func TestAPICreateProject(t *testing.T) {
	f := newAPIFixture(t)
	r := f.call(t, f.adminToken, http.MethodPost, "/api/v1/projects",
		map[string]string{"organizationId": f.bolt.ID, "name": "Gamma"}, http.StatusCreated)
	wantJSON(t, r, http.StatusCreated)
	p := decode[store.Project](t, r)
	if !strings.HasPrefix(p.ID, "prj_") || p.Name != "Gamma" || p.OrganizationID != f.bolt.ID ||
		p.OrganizationName != "Bolt" || p.CreatedAt.IsZero() {
		t.Errorf("created %+v", p)
	}
	if stored, err := f.store.Project(t.Context(), p.ID); err != nil || stored.Name != "Gamma" || stored.OrganizationID != f.bolt.ID {
		t.Errorf("stored %+v, %v", stored, err)
	}
	// Otto (Bolt) sees it; Mia (Acme) does not.
	f.call(t, f.ottoToken, http.MethodGet, "/api/v1/projects/"+p.ID, nil, http.StatusOK)
	wantProblem(t, f.api(f.miaToken, http.MethodGet, "/api/v1/projects/"+p.ID, nil), http.StatusNotFound)
}

// Refused project writes: the right status, the right fields, nothing changed.
func TestAPIProjectWritesRefused(t *testing.T) {
	f := newAPIFixture(t)
	alpha := "/api/v1/projects/" + f.alpha.ID
	for _, tc := range []struct {
		name, token, method, path string
		body                      any
		status                    int
		fields                    []string
	}{
		{"create: no fields", f.adminToken, "POST", "/api/v1/projects", `{}`, 422, []string{"name", "organizationId"}},
		{"create: no organizationId", f.adminToken, "POST", "/api/v1/projects", map[string]string{"name": "Gamma"}, 422, []string{"organizationId"}},
		{"create: empty organizationId", f.adminToken, "POST", "/api/v1/projects", map[string]string{"organizationId": "", "name": "Gamma"}, 422, []string{"organizationId"}},
		{"create: no name", f.adminToken, "POST", "/api/v1/projects", map[string]string{"organizationId": f.acme.ID}, 422, []string{"name"}},
		{"create: blank name", f.adminToken, "POST", "/api/v1/projects", map[string]string{"organizationId": f.acme.ID, "name": " "}, 422, []string{"name"}},
		{"create: name too long", f.adminToken, "POST", "/api/v1/projects", map[string]string{"organizationId": f.acme.ID, "name": strings.Repeat("p", 101)}, 422, []string{"name"}},
		{"create: unknown organisation", f.adminToken, "POST", "/api/v1/projects", map[string]string{"organizationId": "org_nope", "name": "Gamma"}, 422, []string{"organizationId"}},
		{"create: invalid JSON", f.adminToken, "POST", "/api/v1/projects", `{"name"`, 400, nil},
		{"create: empty body", f.adminToken, "POST", "/api/v1/projects", ``, 400, nil},
		{"create: organizationId of wrong type", f.adminToken, "POST", "/api/v1/projects", `{"organizationId":1,"name":"G"}`, 400, []string{"organizationId"}},
		{"create: member in own organisation", f.miaToken, "POST", "/api/v1/projects", map[string]string{"organizationId": f.acme.ID, "name": "Mine"}, 403, nil},
		{"get: unknown", f.adminToken, "GET", "/api/v1/projects/prj_nope", nil, 404, nil},
		{"get: member of another organisation", f.miaToken, "GET", "/api/v1/projects/" + f.beta.ID, nil, 404, nil},
		{"rename: empty name", f.adminToken, "PATCH", alpha, `{"name":""}`, 422, []string{"name"}},
		{"rename: name too long", f.adminToken, "PATCH", alpha, map[string]string{"name": strings.Repeat("p", 101)}, 422, []string{"name"}},
		{"rename: invalid JSON", f.adminToken, "PATCH", alpha, `nope`, 400, nil},
		{"rename: unknown", f.adminToken, "PATCH", "/api/v1/projects/prj_nope", `{"name":"X"}`, 404, nil},
		{"rename: member", f.miaToken, "PATCH", alpha, `{"name":"X"}`, 403, nil},
		{"delete: unknown", f.adminToken, "DELETE", "/api/v1/projects/prj_nope", nil, 404, nil},
		{"delete: member", f.miaToken, "DELETE", alpha, nil, 403, nil},
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

func TestAPIGetRenameDeleteProject(t *testing.T) {
	f := newAPIFixture(t)
	path := "/api/v1/projects/" + f.alpha.ID
	for _, tok := range []string{f.adminToken, f.miaToken} {
		r := f.call(t, tok, http.MethodGet, path, nil, http.StatusOK)
		wantJSON(t, r, http.StatusOK)
		p := decode[store.Project](t, r)
		if p.ID != f.alpha.ID || p.Name != "Alpha" || p.OrganizationID != f.acme.ID || p.OrganizationName != "Acme" {
			t.Errorf("got %+v", p)
		}
	}

	r := f.call(t, f.adminToken, http.MethodPatch, path, map[string]string{"name": "Alpha Two"}, http.StatusOK)
	wantJSON(t, r, http.StatusOK)
	if p := decode[store.Project](t, r); p.ID != f.alpha.ID || p.Name != "Alpha Two" || p.OrganizationID != f.acme.ID {
		t.Errorf("renamed %+v", p)
	}
	if p, _ := f.store.Project(t.Context(), f.alpha.ID); p.Name != "Alpha Two" {
		t.Errorf("stored name %q", p.Name)
	}
	r = f.call(t, f.miaToken, http.MethodGet, path, nil, http.StatusOK)
	if p := decode[store.Project](t, r); p.Name != "Alpha Two" {
		t.Errorf("member sees %q", p.Name)
	}
	// organizationId in a PATCH does not move the project.
	f.call(t, f.adminToken, http.MethodPatch, path, map[string]string{"organizationId": f.bolt.ID}, http.StatusOK)
	if p, _ := f.store.Project(t.Context(), f.alpha.ID); p.OrganizationID != f.acme.ID {
		t.Errorf("PATCH moved the project to %s", p.OrganizationID)
	}

	r = f.call(t, f.adminToken, http.MethodDelete, path, nil, http.StatusNoContent)
	if len(r.Body) != 0 {
		t.Errorf("204 with body %q", r.Body)
	}
	if _, err := f.store.Project(t.Context(), f.alpha.ID); err != store.ErrNotFound {
		t.Errorf("deleted project still stored: %v", err)
	}
	for _, tok := range []string{f.adminToken, f.miaToken} {
		wantProblem(t, f.api(tok, http.MethodGet, path, nil), http.StatusNotFound)
	}
	r = f.call(t, f.miaToken, http.MethodGet, "/api/v1/projects", nil, http.StatusOK)
	if got := ids(decode[listPage[store.Project]](t, r).Data, projectID); !slices.Equal(got, []string{f.apex.ID}) {
		t.Errorf("after delete, Mia's projects %q, want Apex only", got)
	}
	wantProblem(t, f.api(f.adminToken, http.MethodDelete, path, nil), http.StatusNotFound)
}
