package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"hookyard/store"
)

// Members have no access to /users, so their own account page is where they change their
// name, e-mail and password.
func TestAccountPage(t *testing.T) {
	app := newTestApp(t, roomyLogins)
	mia := app.member("mia@example.com", "Mia Member")
	b := app.signedInAs(mia)
	other := app.signedInAs(mia) // a second device

	p := b.get("/account")
	wantPageStatus(t, p, http.StatusOK)
	if got := inputValue(t, p, "name"); got != "Mia Member" {
		t.Fatalf("name field = %q", got)
	}

	// Details: bad input is refused and kept; good input is saved.
	p = b.post("/account", url.Values{"name": {"Mia M."}, "email": {"not-an-email"}})
	wantPageStatus(t, p, http.StatusUnprocessableEntity)
	if fieldError(p, "email") == "" || inputValue(t, p, "name") != "Mia M." {
		t.Fatalf("bad e-mail: error %q, name kept as %q", fieldError(p, "email"), inputValue(t, p, "name"))
	}
	wantSeeOther(t, b.post("/account", url.Values{"name": {"Mia M."}, "email": {"mia.m@example.com"}}), "/account")
	u, err := app.store.UserByID(t.Context(), mia.ID)
	if err != nil || u.Name != "Mia M." || u.Email != "mia.m@example.com" || u.Role != store.RoleMember {
		t.Fatalf("after saving: %+v, %v", u, err)
	}

	// Password: the current one is required.
	p = b.post("/account/password", url.Values{"current_password": {"wrong"}, "password": {"a new password"}})
	wantPageStatus(t, p, http.StatusUnprocessableEntity)
	if !strings.Contains(fieldError(p, "current_password"), "current password") {
		t.Fatalf("wrong current password: error %q", fieldError(p, "current_password"))
	}
	p = b.post("/account/password", url.Values{"current_password": {testPassword}, "password": {"short"}})
	wantPageStatus(t, p, http.StatusUnprocessableEntity)
	if fieldError(p, "password") == "" {
		t.Fatal("a short new password is accepted")
	}
	wantSeeOther(t, b.post("/account/password", url.Values{"current_password": {testPassword}, "password": {"a new password"}}), "/account")
	u, _ = app.store.UserByID(t.Context(), mia.ID)
	if !store.PasswordMatches(u.PasswordHash, "a new password") {
		t.Fatal("the new password was not stored")
	}
	// Still signed in here, signed out on the other device.
	wantPageStatus(t, b.get("/account"), http.StatusOK)
	if p := other.get("/account"); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("the other device is still signed in: %d", p.StatusCode)
	}

	// The top bar links to the account page.
	if href, _ := b.get("/").Doc.Find(`a[data-testid="whoami"]`).Attr("href"); href != "/account" {
		t.Fatalf("whoami links to %q", href)
	}
}
