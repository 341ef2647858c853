package handlers_test

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"hookyard/store"
)

func TestAdminOrganizationForms(t *testing.T) {
	app := newTestApp(t)
	admin := app.admin()
	b := app.signedInAs(admin)

	t.Run("create with errors", func(t *testing.T) {
		long := strings.Repeat("x", 101)
		for _, tc := range []struct{ name, typed, kept string }{
			{"empty", "", ""},
			{"blank", "   ", ""},
			{"too long", long, long},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b := b.within(t)
				before := orgsInStore(t, app.store)
				p := b.post("/organizations", url.Values{"name": {tc.typed}})
				wantPageStatus(t, p, http.StatusUnprocessableEntity)
				if fieldError(p, "name") == "" {
					t.Errorf("no inline error next to the name:\n%s", p.Body)
				}
				if got := inputValue(t, p, "name"); got != tc.kept {
					t.Errorf("name field %q, want %q", got, tc.kept)
				}
				if p.Doc.Find(`form[action="/organizations"] .field.has-error #name`).Length() != 1 {
					t.Errorf("the name field is not marked as having an error")
				}
				if got := orgsInStore(t, app.store); got != before {
					t.Errorf("%d organisations after a refused create, want %d", got, before)
				}
			})
		}
	})

	var org store.Organization
	t.Run("create", func(t *testing.T) {
		b := b.within(t)
		p := b.post("/organizations", url.Values{"name": {"  Acme Corp  "}})
		wantPageStatus(t, p, http.StatusSeeOther)
		o, ok := storedOrgNamed(t, app.store, "Acme Corp")
		if !ok {
			t.Fatalf("organisation not stored (names are trimmed)")
		}
		org = o
		if loc := p.Header.Get("Location"); loc != "/organizations/"+o.ID {
			t.Errorf("Location %q, want the new organisation's page", loc)
		}
		p = b.follow(p)
		wantPageStatus(t, p, http.StatusOK)
		if got := strings.TrimSpace(p.Doc.Find(`[data-testid="org-name"]`).Text()); got != "Acme Corp" {
			t.Errorf("page heading %q", got)
		}
		if !strings.Contains(flashText(p), "Acme Corp") {
			t.Errorf("flash %q does not confirm the creation", flashText(p))
		}
		list := b.get("/organizations")
		if !slices.Contains(textsOf(list.Doc.Find(`[data-testid="organizations"] tbody tr td:first-child`)), "Acme Corp") {
			t.Errorf("organisation list does not show Acme Corp")
		}
	})
	if org.ID == "" {
		t.FailNow()
	}

	t.Run("rename with error keeps the page", func(t *testing.T) {
		b := b.within(t)
		p := b.post("/organizations/"+org.ID, url.Values{"name": {""}})
		wantPageStatus(t, p, http.StatusUnprocessableEntity)
		if fieldError(p, "name") == "" {
			t.Errorf("no inline error on the rename form")
		}
		if got := strings.TrimSpace(p.Doc.Find(`[data-testid="org-name"]`).Text()); got != "Acme Corp" {
			t.Errorf("page heading %q after a refused rename", got)
		}
		o, _ := app.store.Organization(t.Context(), org.ID)
		if o.Name != "Acme Corp" {
			t.Errorf("stored name %q after a refused rename", o.Name)
		}
	})

	t.Run("rename", func(t *testing.T) {
		b := b.within(t)
		p := b.post("/organizations/"+org.ID, url.Values{"name": {"Acme Inc"}})
		wantSeeOther(t, p, "/organizations/"+org.ID)
		o, _ := app.store.Organization(t.Context(), org.ID)
		if o.Name != "Acme Inc" {
			t.Errorf("stored name %q, want Acme Inc", o.Name)
		}
		p = b.follow(p)
		if got := inputValue(t, p, "name"); got != "Acme Inc" {
			t.Errorf("rename field shows %q", got)
		}
	})

	t.Run("unknown organisation", func(t *testing.T) {
		b := b.within(t)
		wantPageStatus(t, b.get("/organizations/org_nope"), http.StatusNotFound)
		wantPageStatus(t, b.post("/organizations/org_nope", url.Values{"name": {"X"}}), http.StatusNotFound)
		wantPageStatus(t, b.post("/organizations/org_nope/delete", nil), http.StatusNotFound)
		wantPageStatus(t, b.post("/organizations/org_nope/projects", url.Values{"project_name": {"X"}}), http.StatusNotFound)
	})

	t.Run("delete", func(t *testing.T) {
		b := b.within(t)
		app.project(org.ID, "Doomed project")
		p := b.get("/organizations/" + org.ID)
		if p.Doc.Find(`form[action="/organizations/`+org.ID+`/delete"]`).Length() != 1 {
			t.Errorf("organisation page has no delete form")
		}
		p = b.post("/organizations/"+org.ID+"/delete", nil)
		wantSeeOther(t, p, "/organizations")
		if _, err := app.store.Organization(t.Context(), org.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("organisation still stored after delete: %v", err)
		}
		if ps := projectsOf(t, app.store, org.ID); len(ps) != 0 {
			t.Errorf("projects left behind: %v", ps)
		}
		p = b.follow(p)
		if !strings.Contains(flashText(p), "Acme Inc") {
			t.Errorf("flash %q does not confirm the deletion", flashText(p))
		}
		wantPageStatus(t, b.get("/organizations/"+org.ID), http.StatusNotFound)
	})
}

func TestAdminProjectForms(t *testing.T) {
	app := newTestApp(t)
	admin := app.admin()
	o := app.org("Acme")
	b := app.signedInAs(admin)

	p := b.post("/organizations/"+o.ID+"/projects", url.Values{"project_name": {""}})
	wantPageStatus(t, p, http.StatusUnprocessableEntity)
	if fieldError(p, "project_name") == "" {
		t.Errorf("no inline error next to the project name:\n%s", p.Body)
	}
	if n := len(projectsOf(t, app.store, o.ID)); n != 0 {
		t.Fatalf("%d projects after a refused create", n)
	}

	p = b.post("/organizations/"+o.ID+"/projects", url.Values{"project_name": {"Website"}})
	wantSeeOther(t, p, "/organizations/"+o.ID)
	wantSeeOther(t, b.post("/organizations/"+o.ID+"/projects", url.Values{"project_name": {"Support"}}), "/organizations/"+o.ID)
	if got := projectsOf(t, app.store, o.ID); !slices.Equal(got, []string{"Website", "Support"}) {
		t.Fatalf("stored projects %v", got)
	}
	ps, _, _ := app.store.ListProjects(t.Context(), store.ProjectFilter{OrganizationID: o.ID}, store.Page{})
	website, support := ps[0], ps[1]
	p = b.get("/organizations/" + o.ID)
	for _, pr := range ps {
		if v := inputValue(t, p, "project-"+pr.ID); v != pr.Name {
			t.Errorf("rename field of %s shows %q", pr.Name, v)
		}
	}

	t.Run("rename with error shows it next to that project", func(t *testing.T) {
		b := b.within(t)
		p := b.post("/projects/"+support.ID, url.Values{"name": {"  "}})
		wantPageStatus(t, p, http.StatusUnprocessableEntity)
		field := func(pr store.Project) *goquery.Selection {
			return p.Doc.Find("#project-" + pr.ID).Parent()
		}
		if !field(support).HasClass("has-error") || strings.TrimSpace(field(support).Find(".error-text").Text()) == "" {
			t.Errorf("no error next to the Support project:\n%s", p.Body)
		}
		if field(website).HasClass("has-error") || field(website).Find(".error-text").Length() != 0 {
			t.Errorf("error shown next to the Website project too")
		}
		if got := projectsOf(t, app.store, o.ID); !slices.Equal(got, []string{"Website", "Support"}) {
			t.Errorf("stored projects %v after a refused rename", got)
		}
	})

	t.Run("rename", func(t *testing.T) {
		b := b.within(t)
		wantSeeOther(t, b.post("/projects/"+support.ID, url.Values{"name": {"Helpdesk"}}), "/organizations/"+o.ID)
		if got := projectsOf(t, app.store, o.ID); !slices.Equal(got, []string{"Website", "Helpdesk"}) {
			t.Errorf("stored projects %v", got)
		}
	})

	t.Run("delete", func(t *testing.T) {
		b := b.within(t)
		p := b.post("/projects/"+website.ID+"/delete", nil)
		wantSeeOther(t, p, "/organizations/"+o.ID)
		if _, err := app.store.Project(t.Context(), website.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("project still stored: %v", err)
		}
		if !strings.Contains(flashText(b.follow(p)), "Website") {
			t.Errorf("no confirmation of the deletion")
		}
	})

	t.Run("unknown project", func(t *testing.T) {
		b := b.within(t)
		wantPageStatus(t, b.post("/projects/prj_nope", url.Values{"name": {"X"}}), http.StatusNotFound)
		wantPageStatus(t, b.post("/projects/prj_nope/delete", nil), http.StatusNotFound)
	})
}

func TestAdminMembershipForms(t *testing.T) {
	app := newTestApp(t)
	admin := app.admin()
	m := app.member("mia@example.com", "Mia Member")
	acme, globex := app.org("Acme"), app.org("Globex")
	b := app.signedInAs(admin)
	isMember := func(t *testing.T, orgID string) bool {
		t.Helper()
		ok, err := app.store.IsMember(t.Context(), orgID, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	// From the organisation page.
	p := b.get("/organizations/" + acme.ID)
	if p.Doc.Find(`select[name="user_id"] option[value="`+m.ID+`"]`).Length() != 1 {
		t.Errorf("Mia is not offered in the add-member list")
	}
	p = b.post("/organizations/"+acme.ID+"/members", url.Values{"user_id": {m.ID}})
	wantSeeOther(t, p, "/organizations/"+acme.ID)
	if !isMember(t, acme.ID) {
		t.Fatalf("membership not stored")
	}
	p = b.follow(p)
	if !strings.Contains(p.Doc.Find(`[data-testid="members"]`).Text(), "Mia Member") {
		t.Errorf("member list does not show Mia")
	}
	if p.Doc.Find(`select[name="user_id"] option[value="`+m.ID+`"]`).Length() != 0 {
		t.Errorf("Mia is still offered as a new member")
	}
	wantPageStatus(t, b.post("/organizations/"+acme.ID+"/members", url.Values{"user_id": {"usr_nope"}}), http.StatusNotFound)

	p = b.post("/organizations/"+acme.ID+"/members/"+m.ID+"/delete", nil)
	wantSeeOther(t, p, "/organizations/"+acme.ID)
	if isMember(t, acme.ID) {
		t.Fatalf("membership still stored after removal")
	}

	// From the user page, which sends back=/users/{id}.
	p = b.get("/users/" + m.ID)
	if p.Doc.Find(`form[action="/users/`+m.ID+`/organizations"] option[value="`+globex.ID+`"]`).Length() != 1 {
		t.Errorf("user page does not offer Globex")
	}
	p = b.post("/users/"+m.ID+"/organizations", url.Values{"organization_id": {globex.ID}})
	wantSeeOther(t, p, "/users/"+m.ID)
	if !isMember(t, globex.ID) {
		t.Fatalf("membership from the user page not stored")
	}
	p = b.follow(p)
	if !strings.Contains(p.Doc.Find(`[data-testid="memberships"]`).Text(), "Globex") {
		t.Errorf("user page does not list Globex")
	}
	rm := p.Doc.Find(`form[action="/organizations/` + globex.ID + `/members/` + m.ID + `/delete"]`)
	if back, _ := rm.Find(`input[name="back"]`).Attr("value"); back != "/users/"+m.ID {
		t.Errorf("remove form on the user page has back=%q", back)
	}
	p = b.post("/organizations/"+globex.ID+"/members/"+m.ID+"/delete", url.Values{"back": {"/users/" + m.ID}})
	wantSeeOther(t, p, "/users/"+m.ID)
	if isMember(t, globex.ID) {
		t.Errorf("membership still stored after removal from the user page")
	}

	t.Run("back cannot point elsewhere", func(t *testing.T) {
		b := b.within(t)
		app.within(t).addMember(globex.ID, m.ID)
		p := b.post("/organizations/"+globex.ID+"/members/"+m.ID+"/delete", url.Values{"back": {"//evil.com"}})
		wantSeeOther(t, p, "/organizations/"+globex.ID)
	})
}

func TestAdminUserForms(t *testing.T) {
	app := newTestApp(t, roomyLogins)
	admin := app.admin()
	app.member("taken@example.com", "Tess Taken")
	b := app.signedInAs(admin)

	t.Run("create with errors", func(t *testing.T) {
		for _, tc := range []struct {
			name                     string
			uname, email, pass, role string
			field, message           string
		}{
			{"duplicate e-mail", "Tess Two", "taken@example.com", testPassword, "member", "email", "already uses"},
			{"duplicate e-mail in other case", "Tess Two", "TAKEN@example.com", testPassword, "member", "email", "already uses"},
			{"bad e-mail", "Bo", "bo-at-example.com", testPassword, "member", "email", "e-mail"},
			{"short password", "Bo", "bo@example.com", "1234567", "member", "password", "8 characters"},
			{"empty name", "", "bo@example.com", testPassword, "member", "name", "name"},
			{"unknown role", "Bo", "bo@example.com", testPassword, "root", "role", "admin"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b := b.within(t)
				before := usersInStore(t, app.store)
				p := b.post("/users", url.Values{"name": {tc.uname}, "email": {tc.email}, "password": {tc.pass}, "role": {tc.role}})
				wantPageStatus(t, p, http.StatusUnprocessableEntity)
				var msg string
				if tc.field == "role" {
					msg = p.Doc.Find(`fieldset .error-text`).Text()
				} else {
					msg = fieldError(p, tc.field)
				}
				if !strings.Contains(strings.ToLower(msg), strings.ToLower(tc.message)) {
					t.Errorf("error for %s is %q, want it to mention %q", tc.field, msg, tc.message)
				}
				if got := inputValue(t, p, "email"); got != tc.email {
					t.Errorf("e-mail field %q, want %q", got, tc.email)
				}
				if got := inputValue(t, p, "name"); got != tc.uname {
					t.Errorf("name field %q, want %q", got, tc.uname)
				}
				if got := inputValue(t, p, "password"); got != "" {
					t.Errorf("password echoed back: %q", got)
				}
				if got := usersInStore(t, app.store); got != before {
					t.Errorf("%d users after a refused create, want %d", got, before)
				}
			})
		}
	})

	var created = map[store.Role]store.User{}
	for _, role := range []store.Role{store.RoleMember, store.RoleAdmin} {
		t.Run("create "+string(role), func(t *testing.T) {
			b := b.within(t)
			email := string(role) + "-new@example.com"
			p := b.post("/users", url.Values{"name": {"New " + string(role)}, "email": {email}, "password": {testPassword}, "role": {string(role)}})
			wantPageStatus(t, p, http.StatusSeeOther)
			u, err := app.store.UserByEmail(t.Context(), email)
			if err != nil {
				t.Fatalf("user not stored: %v", err)
			}
			created[role] = u
			if loc := p.Header.Get("Location"); loc != "/users/"+u.ID {
				t.Errorf("Location %q, want the new user's page", loc)
			}
			if u.Role != role {
				t.Errorf("stored role %q, want %q", u.Role, role)
			}
			if !store.PasswordMatches(u.PasswordHash, testPassword) {
				t.Errorf("stored password does not match")
			}
			p = b.follow(p)
			if got := strings.TrimSpace(p.Doc.Find(`[data-testid="user-name"]`).Text()); got != "New "+string(role) {
				t.Errorf("user page heading %q", got)
			}
			list := b.get("/users")
			if !strings.Contains(list.Doc.Find(`[data-testid="users"]`).Text(), email) {
				t.Errorf("users list does not show %s", email)
			}
			// The new account can sign in.
			wantSeeOther(t, app.browser().within(t).post("/login", url.Values{"email": {email}, "password": {testPassword}}), "/")
		})
	}
	t.Run("create without a role makes a member", func(t *testing.T) {
		b := b.within(t)
		wantPageStatus(t, b.post("/users", url.Values{"name": {"No Role"}, "email": {"norole@example.com"}, "password": {testPassword}}), http.StatusSeeOther)
		u, err := app.store.UserByEmail(t.Context(), "norole@example.com")
		if err != nil || u.Role != store.RoleMember {
			t.Errorf("user %+v (%v), want a member", u, err)
		}
	})
	m := created[store.RoleMember]
	if m.ID == "" {
		t.FailNow()
	}

	t.Run("edit page shows the current values", func(t *testing.T) {
		p := b.within(t).get("/users/" + m.ID)
		wantPageStatus(t, p, http.StatusOK)
		if got := inputValue(t, p, "name"); got != m.Name {
			t.Errorf("name field %q", got)
		}
		if got := inputValue(t, p, "email"); got != m.Email {
			t.Errorf("e-mail field %q", got)
		}
		if v, _ := p.Doc.Find(`input[name="role"][checked]`).Attr("value"); v != "member" {
			t.Errorf("checked role %q, want member", v)
		}
	})

	t.Run("edit with errors", func(t *testing.T) {
		for _, tc := range []struct{ name, uname, email, field string }{
			{"empty name", "", "x@example.com", "name"},
			{"bad e-mail", "X", "nope", "email"},
			{"e-mail taken", "X", "taken@example.com", "email"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := b.within(t).post("/users/"+m.ID, url.Values{"name": {tc.uname}, "email": {tc.email}, "role": {"member"}})
				wantPageStatus(t, p, http.StatusUnprocessableEntity)
				if fieldError(p, tc.field) == "" {
					t.Errorf("no inline error for %s:\n%s", tc.field, p.Body)
				}
				if got := inputValue(t, p, "email"); got != tc.email {
					t.Errorf("e-mail field %q, want the typed %q", got, tc.email)
				}
				u, _ := app.store.UserByID(t.Context(), m.ID)
				if u.Name != m.Name || u.Email != m.Email {
					t.Errorf("stored user changed to %q <%s>", u.Name, u.Email)
				}
			})
		}
	})

	t.Run("edit", func(t *testing.T) {
		b := b.within(t)
		p := b.post("/users/"+m.ID, url.Values{"name": {"Renamed Member"}, "email": {"renamed@example.com"}, "role": {"admin"}})
		wantSeeOther(t, p, "/users/"+m.ID)
		u, _ := app.store.UserByID(t.Context(), m.ID)
		if u.Name != "Renamed Member" || u.Email != "renamed@example.com" || u.Role != store.RoleAdmin {
			t.Errorf("stored user %q <%s> %s", u.Name, u.Email, u.Role)
		}
		wantSeeOther(t, b.post("/users/"+m.ID, url.Values{"name": {"Renamed Member"}, "email": {"renamed@example.com"}, "role": {"member"}}), "/users/"+m.ID)
		if u, _ := app.store.UserByID(t.Context(), m.ID); u.Role != store.RoleMember {
			t.Errorf("role %q after demotion, want member", u.Role)
		}
	})

	t.Run("reset password with error", func(t *testing.T) {
		b := b.within(t)
		before, _ := app.store.UserByID(t.Context(), m.ID)
		p := b.post("/users/"+m.ID+"/password", url.Values{"password": {"short"}})
		wantPageStatus(t, p, http.StatusUnprocessableEntity)
		if fieldError(p, "password") == "" {
			t.Errorf("no inline error on the password form")
		}
		if strings.Contains(p.Body, `value="short"`) {
			t.Errorf("the typed password is echoed back")
		}
		after, _ := app.store.UserByID(t.Context(), m.ID)
		if after.PasswordHash != before.PasswordHash {
			t.Errorf("password changed by a refused reset")
		}
	})

	t.Run("reset password", func(t *testing.T) {
		b := b.within(t)
		wantSeeOther(t, b.post("/users/"+m.ID+"/password", url.Values{"password": {"another long password"}}), "/users/"+m.ID)
		u, _ := app.store.UserByID(t.Context(), m.ID)
		if !store.PasswordMatches(u.PasswordHash, "another long password") {
			t.Errorf("stored password is not the new one")
		}
	})

	t.Run("delete", func(t *testing.T) {
		b := b.within(t)
		app.within(t).token(m)
		p := b.post("/users/"+m.ID+"/delete", nil)
		wantSeeOther(t, p, "/users")
		if _, err := app.store.UserByID(t.Context(), m.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("user still stored: %v", err)
		}
		if ts, _, _ := app.store.ListTokens(t.Context(), m.ID, store.Page{}); len(ts) != 0 {
			t.Errorf("deleted user's tokens remain: %d", len(ts))
		}
		if !strings.Contains(flashText(b.follow(p)), "Renamed Member") {
			t.Errorf("no confirmation of the deletion")
		}
		wantPageStatus(t, b.get("/users/"+m.ID), http.StatusNotFound)
		wantPageStatus(t, b.post("/users/"+m.ID+"/delete", nil), http.StatusNotFound)
	})
}

func TestAdminCannotDeleteThemselves(t *testing.T) {
	app := newTestApp(t)
	admin := app.admin()
	app.user("second@example.com", "Second Admin", store.RoleAdmin)
	b := app.signedInAs(admin)
	p := b.get("/users/" + admin.ID)
	if p.Doc.Find(`form[action="/users/`+admin.ID+`/delete"]`).Length() != 0 {
		t.Errorf("your own user page offers to delete you")
	}
	p = b.post("/users/"+admin.ID+"/delete", nil)
	if p.StatusCode < 400 || p.StatusCode >= 500 {
		t.Errorf("deleting yourself: status %d, want a 4xx refusal", p.StatusCode)
	}
	if !strings.Contains(p.Body, "own account") {
		t.Errorf("refusal does not explain why:\n%s", p.Body)
	}
	if _, err := app.store.UserByID(t.Context(), admin.ID); err != nil {
		t.Fatalf("admin deleted themselves: %v", err)
	}
	wantPageStatus(t, b.get("/"), http.StatusOK)
}

func TestLastAdminKeepsTheRole(t *testing.T) {
	app := newTestApp(t)
	admin := app.admin()
	b := app.signedInAs(admin)
	p := b.post("/users/"+admin.ID, url.Values{"name": {admin.Name}, "email": {admin.Email}, "role": {"member"}})
	wantPageStatus(t, p, http.StatusUnprocessableEntity)
	if msg := p.Doc.Find(`fieldset .error-text`).Text(); !strings.Contains(msg, "only admin") {
		t.Errorf("role error %q, want it to say this is the only admin:\n%s", msg, p.Body)
	}
	if u, _ := app.store.UserByID(t.Context(), admin.ID); u.Role != store.RoleAdmin {
		t.Fatalf("the last admin was demoted to %q", u.Role)
	}
	wantPageStatus(t, b.get("/users"), http.StatusOK)

	// With a second admin, demoting the first works.
	app.user("second@example.com", "Second Admin", store.RoleAdmin)
	wantSeeOther(t, b.post("/users/"+admin.ID, url.Values{"name": {admin.Name}, "email": {admin.Email}, "role": {"member"}}), "/users/"+admin.ID)
	if u, _ := app.store.UserByID(t.Context(), admin.ID); u.Role != store.RoleMember {
		t.Errorf("role %q, want member", u.Role)
	}
	wantPageStatus(t, b.get("/users"), http.StatusForbidden) // and the change applies at once
}

// subscribable are SPEC §7's built-in event types by category, in order.
var subscribable = []struct {
	category string
	names    []string
}{
	{"Records", []string{"TODO_CREATED", "TODO_DELETED", "TODO_MOVED", "TODO_NAME_CHANGED", "TODO_DONE_STATUS_UPDATED",
		"TODO_DUE_DATE_ADDED", "TODO_DUE_DATE_UPDATED", "TODO_DUE_DATE_REMOVED", "TODO_ASSIGNEE_ADDED",
		"TODO_ASSIGNEE_REMOVED", "TODO_TAG_ADDED", "TODO_TAG_REMOVED", "TODO_CUSTOM_FIELD_UPDATED"}},
	{"Checklists", []string{"TODO_CHECKLIST_CREATED", "TODO_CHECKLIST_NAME_CHANGED", "TODO_CHECKLIST_DELETED",
		"TODO_CHECKLIST_ITEM_CREATED", "TODO_CHECKLIST_ITEM_NAME_CHANGED", "TODO_CHECKLIST_ITEM_DELETED",
		"TODO_CHECKLIST_ITEM_DUE_DATE_ADDED", "TODO_CHECKLIST_ITEM_DUE_DATE_UPDATED", "TODO_CHECKLIST_ITEM_DUE_DATE_REMOVED",
		"TODO_CHECKLIST_ITEM_ASSIGNEE_ADDED", "TODO_CHECKLIST_ITEM_ASSIGNEE_REMOVED", "TODO_CHECKLIST_ITEM_DONE_STATUS_UPDATED"}},
	{"Lists", []string{"TODO_LIST_CREATED", "TODO_LIST_DELETED", "TODO_LIST_NAME_CHANGED"}},
	{"Custom fields", []string{"CUSTOM_FIELD_CREATED", "CUSTOM_FIELD_DELETED", "CUSTOM_FIELD_UPDATED"}},
	{"Tags", []string{"TAG_CREATED", "TAG_DELETED", "TAG_UPDATED"}},
	{"Comments", []string{"COMMENT_CREATED", "COMMENT_DELETED", "COMMENT_UPDATED"}},
}

// eventTypeRow is one row of the event types page.
type eventTypeRow struct {
	category, label, name  string
	custom, unsubscribable bool
}

func eventTypeRows(p page) []eventTypeRow {
	var rows []eventTypeRow
	p.Doc.Find(`section`).Each(func(_ int, sec *goquery.Selection) {
		cat, _ := sec.Attr("aria-label")
		sec.Find(`[data-testid="event-types"] tbody tr`).Each(func(_ int, tr *goquery.Selection) {
			what := tr.Find(`td[data-label="What happened"]`)
			rows = append(rows, eventTypeRow{
				category:       cat,
				label:          strings.TrimSpace(what.Find("strong").Text()),
				name:           strings.TrimSpace(tr.Find(`td[data-label="Name in the API"]`).Text()),
				custom:         what.Find(".badge").FilterFunction(func(_ int, s *goquery.Selection) bool { return strings.TrimSpace(s.Text()) == "Custom" }).Length() == 1,
				unsubscribable: strings.Contains(what.Text(), "Not subscribable"),
			})
		})
	})
	return rows
}

func TestEventTypesPage(t *testing.T) {
	app := newTestApp(t)
	admin := app.admin()
	p := app.signedInAs(admin).get("/event-types")
	wantPageStatus(t, p, http.StatusOK)
	rows := eventTypeRows(p)
	byName := map[string]eventTypeRow{}
	var listed []string
	for _, r := range rows {
		byName[r.name] = r
		if !r.unsubscribable {
			listed = append(listed, r.name)
		}
	}
	var want []string
	for _, g := range subscribable {
		want = append(want, g.names...)
		for _, n := range g.names {
			r, ok := byName[n]
			if !ok {
				t.Errorf("%s not listed", n)
				continue
			}
			if r.category != g.category {
				t.Errorf("%s listed under %q, want %q", n, r.category, g.category)
			}
			if r.label == "" || r.label == n || regexp.MustCompile(`^[A-Z0-9_]+$`).MatchString(r.label) {
				t.Errorf("%s shown with label %q, want plain words", n, r.label)
			}
			if r.custom {
				t.Errorf("built-in %s has a Custom badge", n)
			}
		}
	}
	if len(want) != 37 {
		t.Fatalf("test table has %d types, want 37", len(want))
	}
	if !slices.Equal(listed, want) {
		t.Errorf("subscribable types listed (%d):\n%v\nwant (%d):\n%v", len(listed), listed, len(want), want)
	}
	if r, ok := byName["TODO_MOVED"]; ok && r.label != "Record moved to another list" {
		t.Errorf("TODO_MOVED label %q", r.label)
	}
	if r, ok := byName["WEBHOOK_HEALTH_CHECK"]; ok && !r.unsubscribable {
		t.Errorf("WEBHOOK_HEALTH_CHECK is listed without saying it cannot be subscribed to")
	}
}

func TestCustomEventTypeForm(t *testing.T) {
	app := newTestApp(t)
	admin := app.admin()
	b := app.signedInAs(admin)
	count := func(t *testing.T) int {
		t.Helper()
		ts, err := app.store.ListEventTypes(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return len(ts)
	}
	for _, tc := range []struct{ name, etName, label, field string }{
		{"lower case name", "invoice_paid", "Invoice paid", "name"},
		{"name too short", "IN", "Invoice paid", "name"},
		{"name starts with a digit", "1NVOICE", "Invoice paid", "name"},
		{"name with a space", "INVOICE PAID", "Invoice paid", "name"},
		{"empty name", "", "Invoice paid", "name"},
		{"duplicate of a built-in", "TODO_CREATED", "Again", "name"},
		{"empty label", "INVOICE_PAID", "", "label"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := b.within(t)
			before := count(t)
			p := b.post("/event-types", url.Values{"name": {tc.etName}, "label": {tc.label}, "category": {""}, "description": {"d"}})
			wantPageStatus(t, p, http.StatusUnprocessableEntity)
			if fieldError(p, tc.field) == "" {
				t.Errorf("no inline error for %s:\n%s", tc.field, p.Body)
			}
			if got := inputValue(t, p, "name"); got != tc.etName {
				t.Errorf("name field %q, want the typed %q", got, tc.etName)
			}
			if got := inputValue(t, p, "label"); got != tc.label {
				t.Errorf("label field %q, want the typed %q", got, tc.label)
			}
			if count(t) != before {
				t.Errorf("an event type was stored by a refused form")
			}
		})
	}

	p := b.post("/event-types", url.Values{"name": {"INVOICE_PAID"}, "label": {"Invoice paid"}, "description": {"A customer paid an invoice."}})
	wantSeeOther(t, p, "/event-types")
	et, err := app.store.EventType(t.Context(), "INVOICE_PAID")
	if err != nil {
		t.Fatalf("custom type not stored: %v", err)
	}
	if et.BuiltIn || !et.Subscribable || et.Category != "Custom" || et.Label != "Invoice paid" {
		t.Errorf("stored %+v", et)
	}
	p = b.follow(p)
	if !strings.Contains(flashText(p), "Invoice paid") {
		t.Errorf("flash %q does not confirm", flashText(p))
	}
	var found bool
	for _, r := range eventTypeRows(p) {
		if r.name == "INVOICE_PAID" {
			found = true
			if !r.custom || r.label != "Invoice paid" || r.category != "Custom" {
				t.Errorf("custom type shown as %+v, want label Invoice paid with a Custom badge under Custom", r)
			}
		}
	}
	if !found {
		t.Errorf("custom type not listed")
	}

	t.Run("with its own category", func(t *testing.T) {
		b := b.within(t)
		wantSeeOther(t, b.post("/event-types", url.Values{"name": {"INVOICE_SENT"}, "label": {"Invoice sent"}, "category": {"Billing"}}), "/event-types")
		for _, r := range eventTypeRows(b.get("/event-types")) {
			if r.name == "INVOICE_SENT" && (r.category != "Billing" || !r.custom) {
				t.Errorf("INVOICE_SENT shown as %+v", r)
			}
		}
	})

	t.Run("duplicate of a custom type", func(t *testing.T) {
		p := b.within(t).post("/event-types", url.Values{"name": {"INVOICE_PAID"}, "label": {"Paid again"}})
		wantPageStatus(t, p, http.StatusUnprocessableEntity)
		if !strings.Contains(fieldError(p, "name"), "already exists") {
			t.Errorf("name error %q", fieldError(p, "name"))
		}
		if et, _ := app.store.EventType(t.Context(), "INVOICE_PAID"); et.Label != "Invoice paid" {
			t.Errorf("label overwritten to %q", et.Label)
		}
	})
}

func TestTokensPage(t *testing.T) {
	app := newTestApp(t)
	admin := app.admin()
	b := app.signedInAs(admin)

	p := b.get("/settings/tokens")
	wantPageStatus(t, p, http.StatusOK)
	if p.Doc.Find(`[data-testid="empty-tokens"]`).Length() != 1 {
		t.Errorf("no empty state without tokens")
	}

	p = b.post("/settings/tokens", url.Values{"name": {""}})
	wantPageStatus(t, p, http.StatusUnprocessableEntity)
	if fieldError(p, "name") == "" {
		t.Errorf("no inline error for an empty token name")
	}
	if p.Doc.Find(`[data-testid="token-secret"]`).Length() != 0 {
		t.Errorf("a secret is shown after a refused create")
	}

	p = b.post("/settings/tokens", url.Values{"name": {"CI publisher"}})
	if p.StatusCode != http.StatusOK && p.StatusCode != http.StatusCreated {
		t.Fatalf("create token: status %d\n%s", p.StatusCode, p.Body)
	}
	secret, _ := p.Doc.Find(`input[data-testid="token-secret"]`).Attr("value")
	if !strings.HasPrefix(secret, store.TokenPrefix) || len(secret) < 20 {
		t.Fatalf("token secret %q, want hyk_…", secret)
	}
	if id, _ := p.Doc.Find(`input[data-testid="token-secret"]`).Attr("id"); p.Doc.Find(`label[for="`+id+`"]`).Length() != 1 {
		t.Errorf("the secret field has no label")
	}
	if c := responseCookie(p.Response, "hookyard"); c != nil && strings.Contains(c.Value, secret) {
		t.Errorf("the secret is put in a cookie")
	}
	if loc := p.Header.Get("Location"); loc != "" {
		t.Errorf("create answers with a redirect to %q", loc)
	}
	if cc := p.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("the page with the secret may be cached: Cache-Control %q", cc)
	}
	r := app.api(secret, http.MethodGet, "/api/v1/me", nil)
	if r.Status != http.StatusOK || r.JSON(t)["id"] != admin.ID {
		t.Fatalf("GET /api/v1/me with the new token: %d %s", r.Status, r.Body)
	}

	p = b.get("/settings/tokens")
	if p.Doc.Find(`[data-testid="token-secret"]`).Length() != 0 || strings.Contains(p.Body, secret) {
		t.Errorf("the secret is shown again after a reload")
	}
	tokens, _, err := app.store.ListTokens(t.Context(), admin.ID, store.Page{})
	if err != nil || len(tokens) != 1 {
		t.Fatalf("stored tokens %v (%v)", tokens, err)
	}
	tok := tokens[0]
	row := p.Doc.Find(`[data-testid="tokens"] tbody tr`)
	if row.Length() != 1 {
		t.Fatalf("%d token rows, want 1", row.Length())
	}
	if got := strings.TrimSpace(row.Find(`td[data-label="Name"]`).Text()); got != "CI publisher" {
		t.Errorf("token name shown %q", got)
	}
	if got := row.Find(`td[data-label="Starts with"]`).Text(); !strings.HasPrefix(got, secret[:len(store.TokenPrefix)+4]) || strings.Contains(got, secret) {
		t.Errorf("prefix shown %q, want the start of %q only", got, secret)
	}
	// The token was used above; within a minute the page may say when. A fresh one says Never.
	_, _, err = app.store.CreateToken(t.Context(), admin.ID, "Unused")
	if err != nil {
		t.Fatal(err)
	}
	p = b.get("/settings/tokens")
	p.Doc.Find(`[data-testid="tokens"] tbody tr`).Each(func(_ int, tr *goquery.Selection) {
		name := strings.TrimSpace(tr.Find(`td[data-label="Name"]`).Text())
		used := strings.TrimSpace(tr.Find(`td[data-label="Last used"]`).Text())
		switch name {
		case "Unused":
			if used != "Never" {
				t.Errorf("unused token: last used %q, want Never", used)
			}
		case "CI publisher":
			if used == "Never" || used == "" {
				t.Errorf("used token: last used %q, want a time", used)
			}
		}
	})

	p = b.post("/settings/tokens/"+tok.ID+"/delete", nil)
	wantSeeOther(t, p, "/settings/tokens")
	if _, err := app.store.Token(t.Context(), tok.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token still stored after revoke: %v", err)
	}
	if r := app.api(secret, http.MethodGet, "/api/v1/me", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("revoked token: GET /api/v1/me %d, want 401", r.Status)
	}
	if !strings.Contains(flashText(b.follow(p)), "CI publisher") {
		t.Errorf("no confirmation of the revocation")
	}
	wantPageStatus(t, b.post("/settings/tokens/tok_nope/delete", nil), http.StatusNotFound)
}

// Two organisations cannot share a name (in any case): the form and the API say so, and
// nothing is stored or renamed.
func TestOrganizationNamesAreUnique(t *testing.T) {
	f := newAPIFixture(t) // Acme and Bolt
	b := f.signedInAs(f.admin)
	before := orgsInStore(t, f.store)
	p := b.post("/organizations", url.Values{"name": {" acme "}})
	wantPageStatus(t, p, http.StatusUnprocessableEntity)
	if got := fieldError(p, "name"); !strings.Contains(got, "already an organisation called “acme”") {
		t.Errorf("creating a second Acme: the form says %q", got)
	}
	p = b.post("/organizations/"+f.bolt.ID, url.Values{"name": {"ACME"}})
	wantPageStatus(t, p, http.StatusUnprocessableEntity)
	if got := fieldError(p, "name"); !strings.Contains(got, "already an organisation called “ACME”") {
		t.Errorf("renaming Bolt to ACME: the form says %q", got)
	}
	r := f.api(f.adminToken, http.MethodPost, "/api/v1/organizations", map[string]any{"name": "Acme"})
	wantFieldErrors(t, r, "name")
	r = f.api(f.adminToken, http.MethodPatch, "/api/v1/organizations/"+f.bolt.ID, map[string]any{"name": "acme"})
	wantFieldErrors(t, r, "name")
	if got := orgsInStore(t, f.store); got != before {
		t.Errorf("%d organisations after refused creates, want %d", got, before)
	}
	if o, err := f.store.Organization(t.Context(), f.bolt.ID); err != nil || o.Name != "Bolt" {
		t.Errorf("Bolt is now %q (%v) after refused renames", o.Name, err)
	}
	// Renaming an organisation to its own name in another case is fine.
	f.call(t, f.adminToken, http.MethodPatch, "/api/v1/organizations/"+f.bolt.ID, map[string]any{"name": "BOLT"}, http.StatusOK)
}
