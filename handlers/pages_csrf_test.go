package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4/middleware"
)

func TestCSRFGuardsForms(t *testing.T) {
	app := newTestApp(t)
	admin := app.admin()
	b := app.signedInAs(admin)
	other := app.browser() // someone else's valid token, e.g. an attacker's own
	other.get("/login")

	for _, tc := range []struct {
		name    string
		token   func() string // "" sends no _csrf field
		header  http.Header
		allowed bool
	}{
		{"no token", func() string { return "" }, nil, false},
		{"wrong token", func() string { return "not-the-token" }, nil, false},
		{"token of another browser", other.csrfToken, nil, false},
		{"right token", b.csrfToken, nil, true},
		{"right token in X-CSRF-Token header", func() string { return "" }, http.Header{"X-Csrf-Token": {b.csrfToken()}}, true},
		{"Sec-Fetch-Site same-origin without token", func() string { return "" }, http.Header{"Sec-Fetch-Site": {"same-origin"}}, true},
		{"Sec-Fetch-Site cross-site with the right token", b.csrfToken, http.Header{"Sec-Fetch-Site": {"cross-site"}}, false},
		{"Sec-Fetch-Site same-site without token", func() string { return "" }, http.Header{"Sec-Fetch-Site": {"same-site"}}, false},
		{"Sec-Fetch-Site cross-site with a wrong token", func() string { return "nope" }, http.Header{"Sec-Fetch-Site": {"cross-site"}}, false},
		{"Sec-Fetch-Site placeholder used as token", func() string { return middleware.CSRFUsingSecFetchSite }, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := b.within(t)
			name := "CSRF " + tc.name
			form := url.Values{"name": {name}}
			if tok := tc.token(); tok != "" {
				form.Set("_csrf", tok)
			}
			p := b.postWith("/organizations", form, tc.header)
			_, created := storedOrgNamed(t, app.store, name)
			if tc.allowed {
				wantPageStatus(t, p, http.StatusSeeOther)
				if !created {
					t.Errorf("allowed post did not create the organisation")
				}
				return
			}
			wantPageStatus(t, p, http.StatusForbidden)
			if created {
				t.Errorf("refused post created the organisation anyway")
			}
			if strings.TrimSpace(p.Doc.Find(`[data-testid="error-page"] p`).First().Text()) == "" {
				t.Errorf("403 page explains nothing:\n%s", p.Body)
			}
		})
	}
}

// Every form on every signed-in page carries the real token from the _csrf cookie, also when
// the page was requested by a browser that sends Sec-Fetch-Site (where the middleware only
// has a placeholder).
func TestCSRFTokenInEveryForm(t *testing.T) {
	app := newTestApp(t)
	admin := app.admin()
	m := app.member("mia@example.com", "Mia Member")
	o := app.org("Acme")
	app.project(o.ID, "Website")
	app.addMember(o.ID, m.ID)
	app.token(admin)
	mine := app.signedInAs(admin)

	pages := []string{"/", "/organizations", "/organizations/" + o.ID, "/users", "/users/" + m.ID, "/users/" + admin.ID, "/event-types", "/settings/tokens", "/webhooks", "/webhooks/new"}
	check := func(t *testing.T, b *browser, p page, minForms int) {
		t.Helper()
		wantPageStatus(t, p, http.StatusOK)
		if strings.Contains(p.Body, middleware.CSRFUsingSecFetchSite) {
			t.Errorf("page contains the middleware's placeholder token")
		}
		cookie := b.cookie("_csrf")
		if cookie == nil || cookie.Value == "" {
			t.Fatalf("no _csrf cookie after GET %s", p.Request.URL.Path)
		}
		forms := postForms(p)
		if forms.Length() < minForms {
			t.Errorf("%d post forms, want at least %d", forms.Length(), minForms)
		}
		forms.Each(func(_ int, f *goquery.Selection) {
			action, _ := f.Attr("action")
			in := f.Find(`input[name="_csrf"]`)
			if in.Length() != 1 {
				t.Errorf("form %s has %d _csrf inputs, want 1", action, in.Length())
				return
			}
			if v, _ := in.Attr("value"); v != cookie.Value {
				t.Errorf("form %s carries _csrf=%q, want the cookie's %q", action, v, cookie.Value)
			}
		})
	}
	// Sign-out plus the page's own forms; the dashboard and an empty webhook list have only sign-out.
	minForms := map[string]int{"/": 1, "/webhooks": 1, "/users/" + admin.ID: 3}
	for _, path := range pages {
		t.Run(path, func(t *testing.T) {
			min := minForms[path]
			if min == 0 {
				min = 2
			}
			b := mine.within(t)
			check(t, b, b.get(path), min)
			check(t, b, b.getWith(path, http.Header{"Sec-Fetch-Site": {"same-origin"}}), min)

			// A browser that has the session but no _csrf cookie yet.
			fresh := b.withOnlyCookies("hookyard")
			check(t, fresh, fresh.getWith(path, http.Header{"Sec-Fetch-Site": {"same-origin"}}), min)
			fresh2 := b.withOnlyCookies("hookyard")
			check(t, fresh2, fresh2.get(path), min)
		})
	}

	t.Run("token from a Sec-Fetch-Site page works without that header", func(t *testing.T) {
		b := mine.within(t).withOnlyCookies("hookyard")
		p := b.getWith("/organizations", http.Header{"Sec-Fetch-Site": {"same-origin"}})
		tok, _ := p.Doc.Find(`form[action="/organizations"] input[name="_csrf"]`).Attr("value")
		// A proxy stripped Sec-Fetch-Site on the way back: the token alone must do.
		p = b.postRaw("/organizations", url.Values{"_csrf": {tok}, "name": {"Via proxy"}})
		wantPageStatus(t, p, http.StatusSeeOther)
		if _, ok := storedOrgNamed(t, app.store, "Via proxy"); !ok {
			t.Errorf("organisation not created")
		}
	})

	t.Run("auth pages", func(t *testing.T) {
		anon := app.browser().within(t)
		for _, path := range []string{"/login"} {
			check(t, anon, anon.get(path), 1)
			check(t, anon, anon.getWith(path, http.Header{"Sec-Fetch-Site": {"same-origin"}}), 1)
			fresh := app.browser().within(t)
			check(t, fresh, fresh.getWith(path, http.Header{"Sec-Fetch-Site": {"none"}}), 1)
		}
	})
}

func TestSetupFormCarriesCSRFToken(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	p := b.getWith("/setup?token="+testSetupToken, http.Header{"Sec-Fetch-Site": {"none"}})
	wantPageStatus(t, p, http.StatusOK)
	tok, _ := p.Doc.Find(`form[action="/setup"] input[name="_csrf"]`).Attr("value")
	if c := b.cookie("_csrf"); c == nil || tok != c.Value || tok == "" {
		t.Fatalf("setup form token %q does not match the _csrf cookie %+v", tok, c)
	}
	p = b.postRaw("/setup", url.Values{"_csrf": {tok}, "token": {testSetupToken}, "email": {"ada@example.com"}, "name": {"Ada"}, "password": {testPassword}})
	wantSeeOther(t, p, "/")
}
