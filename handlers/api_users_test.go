package handlers_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"hookyard/store"
)

// userDetail is a user as GET/POST/PATCH /users answer it.
type userDetail struct {
	store.User
	OrganizationIDs []string `json:"organizationIds"`
}

func TestAPIListUsers(t *testing.T) {
	f := newAPIFixture(t)
	var want []string
	want = append(want, f.admin.ID, f.mia.ID, f.otto.ID)
	for i := range 4 {
		want = append(want, f.member(fmt.Sprintf("u%d@example.com", i), fmt.Sprintf("User %d", i)).ID)
	}
	var got []string
	pages := walk[store.User](t, f.testApp, f.adminToken, "/api/v1/users?limit=3")
	for _, p := range pages {
		got = append(got, ids(p.Data, userID)...)
	}
	if len(pages) != 3 || !slices.Equal(got, want) {
		t.Errorf("%d pages of users %q, want 3 pages of %q", len(pages), got, want)
	}
	r := f.call(t, f.adminToken, http.MethodGet, "/api/v1/users", nil, http.StatusOK)
	wantJSON(t, r, http.StatusOK)
	noPassword(t, r)
	users := decode[listPage[store.User]](t, r).Data
	if len(users) != 7 || users[0].Email != "admin@example.com" || users[0].Role != store.RoleAdmin || users[1].Role != store.RoleMember {
		t.Errorf("users %+v", users)
	}

	wantProblem(t, f.api(f.miaToken, http.MethodGet, "/api/v1/users", nil), http.StatusForbidden)
}

func TestAPICreateUser(t *testing.T) {
	f := newAPIFixture(t)
	r := f.call(t, f.adminToken, http.MethodPost, "/api/v1/users",
		map[string]string{"email": "nina@example.com", "name": "Nina New", "password": "a long password"}, http.StatusCreated)
	wantJSON(t, r, http.StatusCreated)
	noPassword(t, r)
	u := decode[userDetail](t, r)
	if !strings.HasPrefix(u.ID, "usr_") || u.Email != "nina@example.com" || u.Name != "Nina New" || u.Role != store.RoleMember {
		t.Errorf("created %+v, want a member", u)
	}
	if raw := r.JSON(t); raw["organizationIds"] == nil {
		t.Errorf("organizationIds missing or null: %s", r.Body)
	}
	stored, err := f.store.UserByEmail(t.Context(), "nina@example.com")
	if err != nil || stored.ID != u.ID || !store.PasswordMatches(stored.PasswordHash, "a long password") {
		t.Errorf("stored %+v, %v; password must match", stored, err)
	}

	r = f.call(t, f.adminToken, http.MethodPost, "/api/v1/users",
		map[string]string{"email": "ali@example.com", "name": "Ali Admin", "password": "a long password", "role": "admin"}, http.StatusCreated)
	if u := decode[userDetail](t, r); u.Role != store.RoleAdmin {
		t.Errorf("role %q, want admin", u.Role)
	}
	// The new user can work with a token.
	r = f.call(t, f.token(stored), http.MethodGet, "/api/v1/me", nil, http.StatusOK)
	if me := decode[meBody](t, r); me.ID != u.ID || len(me.Organizations) != 0 {
		t.Errorf("new user's /me %+v", me)
	}
}

func TestAPICreateUserRefused(t *testing.T) {
	f := newAPIFixture(t)
	ok := map[string]string{"email": "nina@example.com", "name": "Nina", "password": "a long password"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for kk, vv := range ok {
			m[kk] = vv
		}
		if v == "<absent>" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		token  string
		body   any
		status int
		fields []string
	}{
		{"duplicate email", f.adminToken, with("email", "mia@example.com"), 422, []string{"email"}},
		{"duplicate email, other case", f.adminToken, with("email", "MIA@Example.com"), 422, []string{"email"}},
		{"bad email", f.adminToken, with("email", "not-an-email"), 422, []string{"email"}},
		{"email with a display name", f.adminToken, with("email", "Nina <nina@example.com>"), 422, []string{"email"}},
		{"no email", f.adminToken, with("email", "<absent>"), 422, []string{"email"}},
		{"short password", f.adminToken, with("password", "short"), 422, []string{"password"}},
		{"password over 72 bytes", f.adminToken, with("password", strings.Repeat("p", 73)), 422, []string{"password"}},
		{"no password", f.adminToken, with("password", "<absent>"), 422, []string{"password"}},
		{"no name", f.adminToken, with("name", "<absent>"), 422, []string{"name"}},
		{"blank name", f.adminToken, with("name", "  "), 422, []string{"name"}},
		{"bad role", f.adminToken, with("role", "owner"), 422, []string{"role"}},
		{"bad email, short password, bad role", f.adminToken,
			map[string]string{"email": "nope", "name": "Nina", "password": "short", "role": "root"}, 422, []string{"email", "password", "role"}},
		{"empty object", f.adminToken, `{}`, 422, []string{"email", "name", "password"}},
		{"invalid JSON", f.adminToken, `{"email":"x"`, 400, nil},
		{"role of wrong type", f.adminToken, `{"email":"nina@example.com","name":"N","password":"a long password","role":1}`, 400, []string{"role"}},
		{"member", f.miaToken, ok, 403, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.state(t)
			r := f.api(tc.token, http.MethodPost, "/api/v1/users", tc.body)
			p := wantProblem(t, r, tc.status)
			if tc.fields != nil && !slices.Equal(p.fields(), tc.fields) {
				t.Errorf("error fields %q, want %q", p.fields(), tc.fields)
			}
			if strings.Contains(string(r.Body), "$2a$") || strings.Contains(string(r.Body), "a long password") {
				t.Errorf("problem echoes a password or hash: %s", r.Body)
			}
			f.unchanged(t, before, tc.name)
		})
	}
}

func TestAPIGetUser(t *testing.T) {
	f := newAPIFixture(t)
	f.addMember(f.bolt.ID, f.mia.ID)
	for _, tc := range []struct {
		name, token string
		user        store.User
		orgs        []string
	}{
		{"admin reads a member", f.adminToken, f.mia, []string{f.acme.ID, f.bolt.ID}},
		{"admin reads self", f.adminToken, f.admin, []string{}},
		{"admin reads other member", f.adminToken, f.otto, []string{f.bolt.ID}},
		{"member reads self", f.miaToken, f.mia, []string{f.acme.ID, f.bolt.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.call(t, tc.token, http.MethodGet, "/api/v1/users/"+tc.user.ID, nil, http.StatusOK)
			wantJSON(t, r, http.StatusOK)
			noPassword(t, r)
			u := decode[userDetail](t, r)
			if u.ID != tc.user.ID || u.Email != tc.user.Email || u.Name != tc.user.Name || u.Role != tc.user.Role {
				t.Errorf("got %+v, want %+v", u.User, tc.user)
			}
			if u.OrganizationIDs == nil || !sameSet(u.OrganizationIDs, tc.orgs) {
				t.Errorf("organizationIds %q, want %q", u.OrganizationIDs, tc.orgs)
			}
		})
	}
	for _, tc := range []struct{ name, token, id string }{
		{"member reads other member", f.miaToken, f.otto.ID},
		{"member reads admin", f.miaToken, f.admin.ID},
		{"member reads unknown", f.miaToken, "usr_nope"},
		{"admin reads unknown", f.adminToken, "usr_nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.api(tc.token, http.MethodGet, "/api/v1/users/"+tc.id, nil)
			wantProblem(t, r, http.StatusNotFound)
			if strings.Contains(string(r.Body), "@example.com") {
				t.Errorf("404 leaks an address: %s", r.Body)
			}
		})
	}
}

// A member edits their own name and password; the new password is stored.
func TestAPIMemberUpdatesSelf(t *testing.T) {
	f := newAPIFixture(t)
	path := "/api/v1/users/" + f.mia.ID
	// Changing one's own password needs the current one.
	wantFieldErrors(t, f.api(f.miaToken, http.MethodPatch, path, map[string]string{"password": "a brand new secret"}), "currentPassword")
	wantFieldErrors(t, f.api(f.miaToken, http.MethodPatch, path,
		map[string]string{"password": "a brand new secret", "currentPassword": "wrong"}), "currentPassword")
	r := f.call(t, f.miaToken, http.MethodPatch, path,
		map[string]string{"name": "Mia Renamed", "password": "a brand new secret", "currentPassword": testPassword}, http.StatusOK)
	wantJSON(t, r, http.StatusOK)
	noPassword(t, r)
	u := decode[userDetail](t, r)
	if u.ID != f.mia.ID || u.Name != "Mia Renamed" || u.Email != "mia@example.com" || u.Role != store.RoleMember {
		t.Errorf("answered %+v", u.User)
	}
	if !slices.Equal(u.OrganizationIDs, []string{f.acme.ID}) {
		t.Errorf("organizationIds %q", u.OrganizationIDs)
	}
	stored, err := f.store.UserByEmail(t.Context(), "mia@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if stored.Name != "Mia Renamed" {
		t.Errorf("stored name %q", stored.Name)
	}
	if !store.PasswordMatches(stored.PasswordHash, "a brand new secret") {
		t.Error("the new password does not match the stored hash")
	}
	if store.PasswordMatches(stored.PasswordHash, testPassword) {
		t.Error("the old password still matches")
	}
	// The API token keeps working after a password change.
	f.call(t, f.miaToken, http.MethodGet, "/api/v1/me", nil, http.StatusOK)

	// Sending one's own unchanged role is not a role change.
	f.call(t, f.miaToken, http.MethodPatch, path, map[string]string{"role": "member"}, http.StatusOK)
	// Changing own e-mail is allowed.
	r = f.call(t, f.miaToken, http.MethodPatch, path, map[string]string{"email": "mia.m@example.com"}, http.StatusOK)
	if u := decode[userDetail](t, r); u.Email != "mia.m@example.com" {
		t.Errorf("email %q", u.Email)
	}
}

// Refused user updates: the right status, the right fields, nothing changed.
func TestAPIUpdateUserRefused(t *testing.T) {
	f := newAPIFixture(t)
	mia, otto, admin := "/api/v1/users/"+f.mia.ID, "/api/v1/users/"+f.otto.ID, "/api/v1/users/"+f.admin.ID
	for _, tc := range []struct {
		name, token, path string
		body              any
		status            int
		fields            []string
	}{
		{"member promotes self", f.miaToken, mia, map[string]string{"role": "admin"}, 403, nil},
		{"member promotes self while renaming", f.miaToken, mia, map[string]string{"name": "Boss", "role": "admin"}, 403, nil},
		{"member edits another member", f.miaToken, otto, map[string]string{"name": "Hacked"}, 404, nil},
		{"member edits the admin", f.miaToken, admin, map[string]string{"role": "member"}, 404, nil},
		{"member sets another's password", f.miaToken, otto, map[string]string{"password": "another long pw"}, 404, nil},
		{"empty name", f.miaToken, mia, `{"name":""}`, 422, []string{"name"}},
		{"empty email", f.miaToken, mia, `{"email":""}`, 422, []string{"email"}},
		{"empty password", f.miaToken, mia, `{"password":"","currentPassword":"` + testPassword + `"}`, 422, []string{"password"}},
		{"empty role", f.adminToken, mia, `{"role":""}`, 422, []string{"role"}},
		{"empty name and email", f.adminToken, mia, `{"name":"","email":""}`, 422, []string{"email", "name"}},
		{"blank name", f.miaToken, mia, `{"name":"   "}`, 422, []string{"name"}},
		{"short password", f.miaToken, mia, `{"password":"short","currentPassword":"` + testPassword + `"}`, 422, []string{"password"}},
		{"bad email", f.adminToken, mia, `{"email":"nope"}`, 422, []string{"email"}},
		{"bad role", f.adminToken, mia, `{"role":"owner"}`, 422, []string{"role"}},
		{"email taken", f.adminToken, mia, `{"email":"otto@example.com"}`, 422, []string{"email"}},
		{"email taken, other case", f.miaToken, mia, `{"email":"OTTO@example.com"}`, 422, []string{"email"}},
		{"invalid JSON", f.miaToken, mia, `{`, 400, nil},
		{"empty body", f.miaToken, mia, ``, 400, nil},
		{"name of wrong type", f.miaToken, mia, `{"name":false}`, 400, []string{"name"}},
		{"unknown user", f.adminToken, "/api/v1/users/usr_nope", `{"name":"X"}`, 404, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.state(t)
			p := wantProblem(t, f.api(tc.token, http.MethodPatch, tc.path, tc.body), tc.status)
			if tc.fields != nil && !slices.Equal(p.fields(), tc.fields) {
				t.Errorf("error fields %q, want %q", p.fields(), tc.fields)
			}
			f.unchanged(t, before, tc.name)
		})
	}
}

// Admins change roles, but never leave the installation without an admin.
func TestAPIChangeRole(t *testing.T) {
	f := newAPIFixture(t)
	adminPath := "/api/v1/users/" + f.admin.ID

	// Demoting the only admin is refused with a clear message, role unchanged.
	before := f.state(t)
	r := f.api(f.adminToken, http.MethodPatch, adminPath, map[string]string{"role": "member"})
	if r.Status != http.StatusUnprocessableEntity && r.Status != http.StatusConflict {
		t.Fatalf("demoting the last admin: %d, want 422 or 409\n%s", r.Status, r.Body)
	}
	p := wantProblem(t, r, r.Status)
	if !strings.Contains(strings.ToLower(string(r.Body)), "only admin") {
		t.Errorf("message does not say why: %+v", p)
	}
	if r.Status == http.StatusUnprocessableEntity && !slices.Equal(p.fields(), []string{"role"}) {
		t.Errorf("error fields %q, want [role]", p.fields())
	}
	f.unchanged(t, before, "demoting the last admin")
	if u, _ := f.store.UserByID(t.Context(), f.admin.ID); u.Role != store.RoleAdmin {
		t.Fatalf("role now %q", u.Role)
	}

	// Promote Mia: her token now acts as an admin.
	r = f.call(t, f.adminToken, http.MethodPatch, "/api/v1/users/"+f.mia.ID, map[string]string{"role": "admin"}, http.StatusOK)
	if u := decode[userDetail](t, r); u.Role != store.RoleAdmin {
		t.Errorf("role %q, want admin", u.Role)
	}
	if u, _ := f.store.UserByID(t.Context(), f.mia.ID); u.Role != store.RoleAdmin {
		t.Errorf("stored role %q", u.Role)
	}
	f.call(t, f.miaToken, http.MethodGet, "/api/v1/users", nil, http.StatusOK)
	f.call(t, f.miaToken, http.MethodGet, "/api/v1/organizations/"+f.bolt.ID, nil, http.StatusOK)

	// With two admins, the first may step down; then their token is a member's.
	r = f.call(t, f.adminToken, http.MethodPatch, adminPath, map[string]string{"role": "member"}, http.StatusOK)
	if u := decode[userDetail](t, r); u.Role != store.RoleMember {
		t.Errorf("role %q, want member", u.Role)
	}
	wantProblem(t, f.api(f.adminToken, http.MethodGet, "/api/v1/users", nil), http.StatusForbidden)

	// And now Mia is the last admin.
	before = f.state(t)
	r = f.api(f.miaToken, http.MethodPatch, "/api/v1/users/"+f.mia.ID, map[string]string{"role": "member"})
	if r.Status != http.StatusUnprocessableEntity && r.Status != http.StatusConflict {
		t.Errorf("demoting the new last admin: %d\n%s", r.Status, r.Body)
	}
	f.unchanged(t, before, "demoting the new last admin")
}

func TestAPIDeleteUser(t *testing.T) {
	f := newAPIFixture(t)
	path := "/api/v1/users/" + f.mia.ID

	for _, tc := range []struct {
		name, token, path string
		status            int
	}{
		{"member deletes self", f.miaToken, path, 403},
		{"member deletes other", f.miaToken, "/api/v1/users/" + f.otto.ID, 403},
		{"member deletes admin", f.miaToken, "/api/v1/users/" + f.admin.ID, 403},
		{"admin deletes self", f.adminToken, "/api/v1/users/" + f.admin.ID, 409},
		{"admin deletes unknown", f.adminToken, "/api/v1/users/usr_nope", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.state(t)
			wantProblem(t, f.api(tc.token, http.MethodDelete, tc.path, nil), tc.status)
			f.unchanged(t, before, tc.name)
		})
	}

	r := f.call(t, f.adminToken, http.MethodDelete, path, nil, http.StatusNoContent)
	if len(r.Body) != 0 {
		t.Errorf("204 with body %q", r.Body)
	}
	if _, err := f.store.UserByID(t.Context(), f.mia.ID); err != store.ErrNotFound {
		t.Errorf("deleted user still stored: %v", err)
	}
	wantProblem(t, f.api(f.adminToken, http.MethodGet, path, nil), http.StatusNotFound)
	wantProblem(t, f.api(f.adminToken, http.MethodDelete, path, nil), http.StatusNotFound)
	// Her token stops working at once, and her memberships are gone.
	r = f.api(f.miaToken, http.MethodGet, "/api/v1/me", nil)
	wantProblem(t, r, http.StatusUnauthorized)
	if toks, _, err := f.store.ListTokens(t.Context(), f.mia.ID, store.Page{}); err != nil || len(toks) != 0 {
		t.Errorf("tokens of a deleted user: %v, %v", toks, err)
	}
	r = f.call(t, f.adminToken, http.MethodGet, "/api/v1/organizations/"+f.acme.ID, nil, http.StatusOK)
	if m := decode[organizationDetail](t, r).Members; len(m) != 0 {
		t.Errorf("Acme still lists %+v", m)
	}
	// The admin may delete another admin while one remains.
	second := f.user("second@example.com", "Second Admin", store.RoleAdmin)
	f.call(t, f.adminToken, http.MethodDelete, "/api/v1/users/"+second.ID, nil, http.StatusNoContent)
}
