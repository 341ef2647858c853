package handlers_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"hookyard/store"
)

// memberWorld is an installation where Mia belongs to Acme but not to Globex.
type memberWorld struct {
	app                *testApp
	admin, mia, other  store.User
	acme, globex       store.Organization
	website, internal  store.Project
	miaBrowser         *browser
	otherToken, otherT string // secret and id of another member's API token
}

func newMemberWorld(t *testing.T) *memberWorld {
	t.Helper()
	app := newTestApp(t)
	w := &memberWorld{app: app}
	w.admin = app.admin()
	w.mia = app.member("mia@example.com", "Mia Member")
	w.other = app.member("otto@example.com", "Otto Other")
	w.acme, w.globex = app.org("Acme"), app.org("Globex")
	w.website = app.project(w.acme.ID, "Website")
	w.internal = app.project(w.globex.ID, "Internal")
	app.addMember(w.acme.ID, w.mia.ID)
	app.addMember(w.globex.ID, w.other.ID)
	w.otherToken = app.token(w.other)
	ts, _, err := app.store.ListTokens(t.Context(), w.other.ID, store.Page{})
	if err != nil || len(ts) != 1 {
		t.Fatalf("tokens %v %v", ts, err)
	}
	w.otherT = ts[0].ID
	w.miaBrowser = app.signedInAs(w.mia)
	return w
}

func TestMemberSeesOnlyTheirOrganizations(t *testing.T) {
	w := newMemberWorld(t)
	b := w.miaBrowser

	p := b.get("/organizations")
	wantPageStatus(t, p, http.StatusOK)
	orgs := textsOf(p.Doc.Find(`[data-testid="organizations"] tbody tr td[data-label="Organisation"]`))
	if !slices.Equal(orgs, []string{"Acme"}) {
		t.Errorf("organisations listed %v, want [Acme]", orgs)
	}
	projects := textsOf(p.Doc.Find(`[data-testid="project-name"]`))
	if !slices.Equal(projects, []string{"Website"}) {
		t.Errorf("projects listed %v, want [Website]", projects)
	}
	if strings.Contains(p.Body, "Globex") || strings.Contains(p.Body, "Internal") {
		t.Errorf("page mentions another organisation or its project")
	}
	if postForms(p).Length() != 1 { // sign out only
		t.Errorf("member's organisations page has %d post forms, want only sign-out", postForms(p).Length())
	}

	p = b.get("/organizations/" + w.acme.ID)
	wantPageStatus(t, p, http.StatusOK)
	if got := textsOf(p.Doc.Find(`[data-testid="projects"] [data-testid="project-name"]`)); !slices.Equal(got, []string{"Website"}) {
		t.Errorf("Acme page lists projects %v", got)
	}
	if n := postForms(p).Length(); n != 1 {
		t.Errorf("member sees %d post forms on an organisation page, want only sign-out (read-only)", n)
	}

	for _, path := range []string{"/organizations/" + w.globex.ID, "/organizations/org_nope"} {
		p := b.get(path)
		wantPageStatus(t, p, http.StatusNotFound)
		if strings.Contains(p.Body, "Globex") {
			t.Errorf("GET %s reveals the organisation's name", path)
		}
	}
}

func TestMemberNavigation(t *testing.T) {
	w := newMemberWorld(t)
	p := w.miaBrowser.get("/")
	wantPageStatus(t, p, http.StatusOK)
	nav := p.Doc.Find(`nav[aria-label="Main"]`)
	if nav.Length() != 1 {
		t.Fatalf("no main navigation")
	}
	if nav.Find(`a[href="/users"]`).Length() != 0 || slices.Contains(textsOf(nav.Find("a")), "Users") {
		t.Errorf("member's navigation shows Users: %v", textsOf(nav.Find("a")))
	}
	if p.Doc.Find(`a[href="/users"]`).Length() != 0 {
		t.Errorf("member's dashboard links to /users")
	}
	for _, want := range []string{"/organizations", "/event-types", "/settings/tokens"} {
		if nav.Find(`a[href="`+want+`"]`).Length() != 1 {
			t.Errorf("navigation has no link to %s", want)
		}
	}
	if who := p.Doc.Find(`[data-testid="whoami"]`).Text(); !strings.Contains(who, "Mia Member") || strings.Contains(who, "Admin") {
		t.Errorf("whoami %q", who)
	}

	// The admin's navigation does show Users: the check above can fail.
	ap := w.app.signedInAs(w.admin).get("/")
	if ap.Doc.Find(`nav[aria-label="Main"] a[href="/users"]`).Length() != 1 {
		t.Errorf("admin's navigation lacks Users")
	}
}

func TestMemberCannotOpenAdminPages(t *testing.T) {
	w := newMemberWorld(t)
	for _, path := range []string{"/users", "/users/" + w.mia.ID, "/users/" + w.other.ID, "/users/" + w.admin.ID} {
		t.Run(path, func(t *testing.T) {
			p := w.miaBrowser.within(t).get(path)
			wantPageStatus(t, p, http.StatusForbidden)
			if p.Doc.Find(`[data-testid="error-page"]`).Length() != 1 {
				t.Errorf("no error page")
			}
			if strings.Contains(p.Body, w.other.Email) || strings.Contains(p.Body, w.admin.Email) {
				t.Errorf("403 page reveals other people's e-mail addresses")
			}
		})
	}
	// Member pages show no admin forms.
	for _, path := range []string{"/event-types", "/organizations"} {
		p := w.miaBrowser.get(path)
		if p.Doc.Find(`form[action="`+path+`"]`).Length() != 0 {
			t.Errorf("member sees the admin form on %s", path)
		}
	}
}

func TestMemberCannotUseAdminForms(t *testing.T) {
	w := newMemberWorld(t)
	acme, globex, mia := w.acme.ID, w.globex.ID, w.mia.ID
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{"/organizations", url.Values{"name": {"Mia's org"}}},
		{"/organizations/" + acme, url.Values{"name": {"Renamed"}}},
		{"/organizations/" + globex, url.Values{"name": {"Renamed"}}},
		{"/organizations/" + acme + "/delete", nil},
		{"/organizations/" + acme + "/projects", url.Values{"project_name": {"Extra"}}},
		{"/organizations/" + globex + "/members", url.Values{"user_id": {mia}}},
		{"/organizations/" + acme + "/members", url.Values{"user_id": {w.other.ID}}},
		{"/organizations/" + acme + "/members/" + mia + "/delete", nil},
		{"/projects/" + w.website.ID, url.Values{"name": {"Renamed"}}},
		{"/projects/" + w.internal.ID, url.Values{"name": {"Renamed"}}},
		{"/projects/" + w.website.ID + "/delete", nil},
		{"/users", url.Values{"name": {"Sneaky"}, "email": {"sneaky@example.com"}, "password": {testPassword}, "role": {"admin"}}},
		{"/users/" + mia, url.Values{"name": {"Mia"}, "email": {w.mia.Email}, "role": {"admin"}}},
		{"/users/" + w.admin.ID, url.Values{"name": {"Pwned"}, "email": {"pwned@example.com"}, "role": {"member"}}},
		{"/users/" + mia + "/password", url.Values{"password": {"a new password 1"}}},
		{"/users/" + w.admin.ID + "/password", url.Values{"password": {"a new password 1"}}},
		{"/users/" + w.other.ID + "/delete", nil},
		{"/users/" + w.admin.ID + "/delete", nil},
		{"/users/" + mia + "/organizations", url.Values{"organization_id": {globex}}},
		{"/event-types", url.Values{"name": {"MIA_EVENT"}, "label": {"Mia's event"}}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			b := w.miaBrowser.within(t)
			before := storeSnapshot(t, w.app.store)
			p := b.post(tc.path, tc.form)
			wantPageStatus(t, p, http.StatusForbidden)
			if after := storeSnapshot(t, w.app.store); after != before {
				t.Errorf("refused request changed the store:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
	// Still a member, still signed in.
	wantPageStatus(t, w.miaBrowser.get("/"), http.StatusOK)
	if u, _ := w.app.store.UserByID(t.Context(), w.mia.ID); u.Role != store.RoleMember {
		t.Errorf("Mia's role is %q", u.Role)
	}
}

func TestMemberTokens(t *testing.T) {
	w := newMemberWorld(t)
	b := w.miaBrowser

	p := b.get("/settings/tokens")
	wantPageStatus(t, p, http.StatusOK)
	if strings.Contains(p.Body, w.other.Email) || p.Doc.Find(`[data-testid="tokens"] tbody tr`).Length() != 0 {
		t.Errorf("member sees someone else's tokens")
	}

	p = b.post("/settings/tokens", url.Values{"name": {"Mia's script"}})
	secret, _ := p.Doc.Find(`input[data-testid="token-secret"]`).Attr("value")
	if !strings.HasPrefix(secret, store.TokenPrefix) {
		t.Fatalf("no secret shown after create (status %d)", p.StatusCode)
	}
	if r := w.app.api(secret, http.MethodGet, "/api/v1/me", nil); r.Status != http.StatusOK || r.JSON(t)["id"] != w.mia.ID {
		t.Fatalf("Mia's new token: GET /api/v1/me %d %s", r.Status, r.Body)
	}
	mine, _, err := w.app.store.ListTokens(t.Context(), w.mia.ID, store.Page{})
	if err != nil || len(mine) != 1 {
		t.Fatalf("Mia's tokens %v %v", mine, err)
	}

	t.Run("another user's token", func(t *testing.T) {
		b := b.within(t)
		p := b.post("/settings/tokens/"+w.otherT+"/delete", nil)
		wantPageStatus(t, p, http.StatusNotFound)
		if _, err := w.app.store.Token(t.Context(), w.otherT); err != nil {
			t.Errorf("another user's token was deleted: %v", err)
		}
		if r := w.app.api(w.otherToken, http.MethodGet, "/api/v1/me", nil); r.Status != http.StatusOK {
			t.Errorf("another user's token stopped working: %d", r.Status)
		}
	})

	p = b.post("/settings/tokens/"+mine[0].ID+"/delete", nil)
	wantSeeOther(t, p, "/settings/tokens")
	if r := w.app.api(secret, http.MethodGet, "/api/v1/me", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("revoked token: %d, want 401", r.Status)
	}
}
