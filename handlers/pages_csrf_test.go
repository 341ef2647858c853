package handlers_test

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4/middleware"
)

// otherOrigin is an origin on the same host as the app but another port: same-site, so the
// browser sends it cookies for the app's host, but not the app. Never dialled.
func otherOrigin(a *testApp) string {
	u, _ := url.Parse(a.srv.URL)
	host, port, _ := net.SplitHostPort(u.Host)
	other := "1"
	if port == "1" {
		other = "2"
	}
	return "http://" + net.JoinHostPort(host, other)
}

// plant sets a cookie in the browser's jar the way a page on another port of the same host
// can: cookies are not kept apart by port.
func (b *browser) plant(name, value string) {
	u, _ := url.Parse(b.app.srv.URL)
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

func TestCSRFGuardsForms(t *testing.T) {
	app := newTestApp(t, roomyLogins)
	admin := app.admin()
	b := app.signedInAs(admin)
	anon := app.browser()                    // a visitor's pre-session token, e.g. an attacker's own
	elsewhere := app.signedInAs(admin)       // the same account signed in on another device
	planted := b.withOnlyCookies("hookyard") // the victim's session plus a cookie planted beside it
	planted.plant("_csrf", "attacker-chosen")
	other := otherOrigin(app)

	for _, tc := range []struct {
		name    string
		from    *browser
		token   func() string // "" sends no _csrf field
		header  http.Header
		allowed bool
	}{
		{"no token", b, func() string { return "" }, nil, false},
		{"wrong token", b, func() string { return "not-the-token" }, nil, false},
		{"token of a visitor who is not signed in", b, anon.csrfToken, nil, false},
		{"token of another session of the same user", b, elsewhere.csrfToken, nil, false},
		{"planted _csrf cookie and the same value in the form", planted, func() string { return "attacker-chosen" }, nil, false},
		{"planted _csrf cookie and the same value in X-CSRF-Token", planted, func() string { return "" }, http.Header{"X-Csrf-Token": {"attacker-chosen"}}, false},
		{"right token", b, b.csrfToken, nil, true},
		{"right token in X-CSRF-Token header", b, func() string { return "" }, http.Header{"X-Csrf-Token": {b.csrfToken()}}, true},
		{"right token from Hookyard's own origin", b, b.csrfToken, http.Header{"Origin": {app.srv.URL}}, true},
		{"right token with a Referer of Hookyard", b, b.csrfToken, http.Header{"Referer": {app.srv.URL + "/organizations"}}, true},
		{"right token from another port's Origin", b, b.csrfToken, http.Header{"Origin": {other}}, false},
		{"right token from Origin null", b, b.csrfToken, http.Header{"Origin": {"null"}}, false},
		{"right token with a Referer on another port", b, b.csrfToken, http.Header{"Referer": {other + "/attack.html"}}, false},
		{"Sec-Fetch-Site same-origin without token", b, func() string { return "" }, http.Header{"Sec-Fetch-Site": {"same-origin"}}, true},
		{"Sec-Fetch-Site same-origin from another port's Origin", b, func() string { return "" }, http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {other}}, false},
		{"Sec-Fetch-Site same-site without token", b, func() string { return "" }, http.Header{"Sec-Fetch-Site": {"same-site"}}, false},
		{"Sec-Fetch-Site same-site with the planted cookie's token", planted, func() string { return "attacker-chosen" }, http.Header{"Sec-Fetch-Site": {"same-site"}}, false},
		{"Sec-Fetch-Site same-site with the session's token", b, b.csrfToken, http.Header{"Sec-Fetch-Site": {"same-site"}}, true},
		{"Sec-Fetch-Site cross-site with the right token", b, b.csrfToken, http.Header{"Sec-Fetch-Site": {"cross-site"}}, false},
		{"Sec-Fetch-Site none without token", b, func() string { return "" }, http.Header{"Sec-Fetch-Site": {"none"}}, false},
		{"Echo's Sec-Fetch-Site placeholder used as token", b, func() string { return middleware.CSRFUsingSecFetchSite }, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.from.within(t)
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
			msg := strings.TrimSpace(p.Doc.Find(`[data-testid="error-page"] p`).First().Text())
			if msg == "" {
				t.Errorf("403 page explains nothing:\n%s", p.Body)
			}
			if o := tc.header.Get("Origin") + tc.header.Get("Referer"); strings.HasPrefix(o, other) && !strings.Contains(msg, app.srv.URL) {
				t.Errorf("refusal of another origin %q does not say where Hookyard is (%s)", msg, app.srv.URL)
			}
		})
	}
}

// The sign-in and setup forms come before any session: their token is bound to the visitor's
// signed cookie, so another visitor's token, a planted cookie or another origin get nowhere.
func TestCSRFGuardsFormsBeforeSignIn(t *testing.T) {
	app := newTestApp(t, roomyLogins)
	other := otherOrigin(app)
	forms := map[string]url.Values{
		"/setup": {"token": {testSetupToken}, "email": {"ada@example.com"}, "name": {"Ada"}, "password": {testPassword}},
		"/login": {"email": {"ada@example.com"}, "password": {testPassword}},
	}
	for _, path := range []string{"/setup", "/login"} { // setup first: sign-in needs the account
		t.Run(path, func(t *testing.T) {
			victim := app.browser().within(t)
			victim.csrfToken()
			attacker := app.browser().within(t)
			for _, tc := range []struct {
				name   string
				token  string
				header http.Header
				plant  bool
			}{
				{"no token", "", nil, false},
				{"another visitor's token", attacker.csrfToken(), nil, false},
				{"planted _csrf cookie and the same value", "attacker-chosen", nil, true},
				{"own token from another port's Origin", victim.csrfToken(), http.Header{"Origin": {other}}, false},
				{"Sec-Fetch-Site same-site without token", "", http.Header{"Sec-Fetch-Site": {"same-site"}}, false},
			} {
				b := victim
				if tc.plant {
					b = victim.withOnlyCookies("hookyard")
					b.plant("_csrf", "attacker-chosen")
				}
				form := url.Values{"_csrf": {tc.token}}
				for k, v := range forms[path] {
					form[k] = v
				}
				if p := b.postWith(path, form, tc.header); p.StatusCode != http.StatusForbidden {
					t.Errorf("%s: status %d, want 403", tc.name, p.StatusCode)
				}
				if p := victim.get("/"); p.StatusCode != http.StatusSeeOther {
					t.Fatalf("%s signed the visitor in (GET / status %d)", tc.name, p.StatusCode)
				}
			}
			wantSeeOther(t, victim.post(path, forms[path]), "/")
		})
	}
}

// A signed-in session's token is its own: a new one at sign-in (including setup), none of it
// left after sign-out, and the visitor's token from before signing in stops working.
func TestCSRFTokenRotatesWithTheSession(t *testing.T) {
	app := newTestApp(t, roomyLogins)
	b := app.browser()
	setupToken := b.csrfToken()
	wantSeeOther(t, b.post("/setup", url.Values{"token": {testSetupToken}, "email": {"ada@example.com"}, "name": {"Ada"}, "password": {testPassword}}), "/")
	afterSetup := b.csrfToken()

	wantSeeOther(t, b.post("/logout", nil), "/login")
	visitor := b.csrfToken()
	b.login("ada@example.com")
	signedIn := b.csrfToken()
	wantSeeOther(t, b.post("/logout", nil), "/login")
	b.login("ada@example.com")
	again := b.csrfToken()

	seen := map[string]string{}
	for name, tok := range map[string]string{"before setup": setupToken, "after setup": afterSetup,
		"after sign-out": visitor, "after sign-in": signedIn, "after signing in again": again} {
		if tok == "" {
			t.Fatalf("no token %s", name)
		}
		if prev, dup := seen[tok]; dup {
			t.Errorf("the token %s is the one %s", name, prev)
		}
		seen[tok] = name
	}
	for name, tok := range map[string]string{"before setup": setupToken, "after setup": afterSetup,
		"of the visitor before sign-in": visitor, "of the previous session": signedIn} {
		org := "Old token " + name
		if p := b.postRaw("/organizations", url.Values{"_csrf": {tok}, "name": {org}}); p.StatusCode != http.StatusForbidden {
			t.Errorf("the token %s: status %d, want 403", name, p.StatusCode)
		}
		if _, ok := storedOrgNamed(t, app.store, org); ok {
			t.Errorf("the token %s still changes data", name)
		}
	}
	wantPageStatus(t, b.postRaw("/organizations", url.Values{"_csrf": {again}, "name": {"Current token"}}), http.StatusSeeOther)
	if _, ok := storedOrgNamed(t, app.store, "Current token"); !ok {
		t.Errorf("the current session's token does not work")
	}
}

// Every form on every signed-in page carries the session's real token, also when the page was
// requested by a browser that sends Sec-Fetch-Site, and it is the token posted forms need.
func TestCSRFTokenInEveryForm(t *testing.T) {
	app := newTestApp(t)
	admin := app.admin()
	m := app.member("mia@example.com", "Mia Member")
	o := app.org("Acme")
	app.project(o.ID, "Website")
	app.addMember(o.ID, m.ID)
	app.token(admin)
	mine := app.signedInAs(admin)
	want := mine.csrfToken()
	if want == "" || want == app.signedInAs(admin).csrfToken() {
		t.Fatalf("session token %q: want one, and not the same as another session's", want)
	}

	pages := []string{"/", "/organizations", "/organizations/" + o.ID, "/users", "/users/" + m.ID, "/users/" + admin.ID, "/event-types", "/settings/tokens", "/webhooks", "/webhooks/new"}
	check := func(t *testing.T, p page, token string, minForms int) {
		t.Helper()
		wantPageStatus(t, p, http.StatusOK)
		if strings.Contains(p.Body, middleware.CSRFUsingSecFetchSite) {
			t.Errorf("page contains Echo's placeholder token")
		}
		if c := responseCookie(p.Response, "_csrf"); c != nil {
			t.Errorf("page sets a _csrf cookie")
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
			if v, _ := in.Attr("value"); v != token {
				t.Errorf("form %s carries _csrf=%q, want the session's %q", action, v, token)
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
			check(t, b.get(path), want, min)
			check(t, b.getWith(path, http.Header{"Sec-Fetch-Site": {"same-origin"}}), want, min)
			// Only the session cookie: the token comes from the session on the server.
			fresh := b.withOnlyCookies("hookyard")
			check(t, fresh.getWith(path, http.Header{"Sec-Fetch-Site": {"same-origin"}}), want, min)
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

	t.Run("sign-in page", func(t *testing.T) {
		anon := app.browser().within(t)
		p := anon.getWith("/login", http.Header{"Sec-Fetch-Site": {"none"}})
		tok, _ := p.Doc.Find(`form[action="/login"] input[name="_csrf"]`).Attr("value")
		if tok == "" || tok == want {
			t.Fatalf("sign-in form token %q: want a visitor's own", tok)
		}
		check(t, p, tok, 1)
		check(t, anon.getWith("/login", http.Header{"Sec-Fetch-Site": {"same-origin"}}), tok, 1)
		check(t, anon.get("/login"), tok, 1)
	})
}

func TestSetupFormCarriesCSRFToken(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	p := b.getWith("/setup?token="+testSetupToken, http.Header{"Sec-Fetch-Site": {"none"}})
	wantPageStatus(t, p, http.StatusOK)
	tok, _ := p.Doc.Find(`form[action="/setup"] input[name="_csrf"]`).Attr("value")
	if tok == "" || strings.Contains(tok, middleware.CSRFUsingSecFetchSite) {
		t.Fatalf("setup form token %q, want a real one", tok)
	}
	p = b.postRaw("/setup", url.Values{"_csrf": {tok}, "token": {testSetupToken}, "email": {"ada@example.com"}, "name": {"Ada"}, "password": {testPassword}})
	wantSeeOther(t, p, "/")
}
