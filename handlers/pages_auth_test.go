package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"hookyard/handlers"
	"hookyard/store"
)

func TestSetupNeedsTheToken(t *testing.T) {
	app := newTestApp(t)
	for _, tc := range []struct{ name, query string }{
		{"missing", ""},
		{"empty", "?token="},
		{"wrong", "?token=not-the-token"},
		{"prefix of the right one", "?token=" + testSetupToken[:4]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := app.browser().within(t).get("/setup" + tc.query)
			wantPageStatus(t, p, http.StatusForbidden)
			if h := strings.TrimSpace(p.Doc.Find("h1").Text()); h != "Setup link needed" {
				t.Errorf("heading %q, want %q", h, "Setup link needed")
			}
			if !strings.Contains(p.Doc.Find("main").Text(), "/setup?token=") {
				t.Errorf("page does not explain where the setup link is:\n%s", p.Body)
			}
			if p.Doc.Find(`input[name="password"]`).Length() != 0 {
				t.Errorf("setup form shown without the right token")
			}
		})
	}

	t.Run("right token shows the form", func(t *testing.T) {
		p := app.browser().within(t).get("/setup?token=" + url.QueryEscape(testSetupToken))
		wantPageStatus(t, p, http.StatusOK)
		f := p.Doc.Find(`form[action="/setup"]`)
		for _, name := range []string{"name", "email", "password", "token", "_csrf"} {
			if f.Find(`input[name="`+name+`"]`).Length() != 1 {
				t.Errorf("setup form has no input %q", name)
			}
		}
		if v, _ := f.Find(`input[name="token"]`).Attr("value"); v != testSetupToken {
			t.Errorf("hidden token %q, want %q", v, testSetupToken)
		}
		for _, id := range []string{"name", "email", "password"} {
			if p.Doc.Find(`label[for="`+id+`"]`).Length() != 1 {
				t.Errorf("input %s has no label", id)
			}
		}
	})

	t.Run("wrong token cannot post", func(t *testing.T) {
		b := app.browser().within(t)
		p := b.post("/setup", url.Values{"token": {"nope"}, "email": {"eve@example.com"}, "name": {"Eve"}, "password": {testPassword}})
		wantPageStatus(t, p, http.StatusForbidden)
		if n := usersInStore(t, app.store); n != 0 {
			t.Errorf("%d users after a setup post with a wrong token", n)
		}
	})
}

func TestSetupValidation(t *testing.T) {
	app := newTestApp(t)
	const typedPassword = "short7!"
	for _, tc := range []struct {
		name              string
		email, user, pass string
		wantErrors        []string // fields with an inline error
	}{
		{"everything empty", "", "", "", []string{"email", "name", "password"}},
		{"bad e-mail", "not-an-email", "Ada Lovelace", testPassword, []string{"email"}},
		{"short password", "ada@example.com", "Ada Lovelace", typedPassword, []string{"password"}},
		{"blank name", "ada@example.com", "   ", testPassword, []string{"name"}},
		{"password too long for bcrypt", "ada@example.com", "Ada Lovelace", strings.Repeat("p", 73), []string{"password"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := app.browser().within(t)
			p := b.post("/setup", url.Values{"token": {testSetupToken}, "email": {tc.email}, "name": {tc.user}, "password": {tc.pass}})
			wantPageStatus(t, p, http.StatusUnprocessableEntity)
			for _, f := range []string{"email", "name", "password"} {
				want := false
				for _, w := range tc.wantErrors {
					want = want || w == f
				}
				got := fieldError(p, f)
				if want && got == "" {
					t.Errorf("no inline error for %s", f)
				}
				if !want && got != "" {
					t.Errorf("unexpected inline error for %s: %q", f, got)
				}
				if want {
					if inv, _ := p.Doc.Find("#" + f).Attr("aria-invalid"); inv != "true" {
						t.Errorf("input %s is not marked aria-invalid", f)
					}
				}
			}
			if got := inputValue(t, p, "email"); got != tc.email {
				t.Errorf("e-mail field %q, want the typed %q", got, tc.email)
			}
			if got := inputValue(t, p, "name"); got != strings.TrimSpace(tc.user) {
				t.Errorf("name field %q, want the typed %q", got, tc.user)
			}
			if got := inputValue(t, p, "password"); got != "" {
				t.Errorf("password echoed back in the form: %q", got)
			}
			if tc.pass != "" && strings.Contains(p.Body, tc.pass) {
				t.Errorf("typed password appears in the page")
			}
			if v, _ := p.Doc.Find(`input[name="token"]`).Attr("value"); v != testSetupToken {
				t.Errorf("setup token not kept in the form: %q", v)
			}
			if alertText(p) == "" {
				t.Errorf("no summary message above the form")
			}
			if n := usersInStore(t, app.store); n != 0 {
				t.Fatalf("%d users created by an invalid setup form", n)
			}
		})
	}
}

func TestSetupCreatesAdminAndSignsIn(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	p := b.post("/setup", url.Values{"token": {testSetupToken}, "email": {"ada@example.com"}, "name": {"Ada Lovelace"}, "password": {testPassword}})
	wantSeeOther(t, p, "/")

	p = b.get("/")
	wantPageStatus(t, p, http.StatusOK)
	who := p.Doc.Find(`[data-testid="whoami"]`).Text()
	if !strings.Contains(who, "Ada Lovelace") || !strings.Contains(who, "Admin") {
		t.Errorf("whoami %q, want the new admin's name and the Admin badge", who)
	}
	if f := flashText(p); f == "" {
		t.Errorf("no welcome message after setup")
	}
	u, err := app.store.UserByEmail(t.Context(), "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != store.RoleAdmin || u.Name != "Ada Lovelace" {
		t.Errorf("stored user %+v, want admin Ada Lovelace", u)
	}
	if !store.PasswordMatches(u.PasswordHash, testPassword) {
		t.Errorf("stored password hash does not match the password")
	}
}

func TestSetupRaceCreatesOneAdmin(t *testing.T) {
	app := newTestApp(t)
	const n = 6
	browsers := make([]*browser, n)
	for i := range browsers {
		browsers[i] = app.browser()
		browsers[i].get("/setup?token=" + testSetupToken)
	}
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for i, b := range browsers {
		wg.Go(func() {
			form := url.Values{"_csrf": {b.csrfToken()}, "token": {testSetupToken},
				"email": {"admin" + strconv.Itoa(i) + "@example.com"}, "name": {"Admin " + strconv.Itoa(i)}, "password": {testPassword}}
			req, _ := http.NewRequest(http.MethodPost, app.srv.URL+"/setup", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := b.client.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[http.StatusSeeOther] != 1 || count[http.StatusGone] != n-1 {
		t.Errorf("statuses %v, want one 303 and %d × 410", count, n-1)
	}
	if got := usersInStore(t, app.store); got != 1 {
		t.Errorf("%d users after concurrent setups, want 1", got)
	}
}

func TestSetupClosedOnceAUserExists(t *testing.T) {
	app := newTestApp(t)
	app.admin()
	b := app.browser()
	for _, path := range []string{"/setup?token=" + testSetupToken, "/setup"} {
		p := b.get(path)
		wantPageStatus(t, p, http.StatusGone)
		if h := strings.TrimSpace(p.Doc.Find("h1").Text()); h != "Setup is complete" {
			t.Errorf("GET %s: heading %q, want %q", path, h, "Setup is complete")
		}
		if p.Doc.Find(`a[href="/login"]`).Length() == 0 {
			t.Errorf("GET %s: no link to sign in", path)
		}
	}
	p := b.post("/setup", url.Values{"token": {testSetupToken}, "email": {"mallory@example.com"}, "name": {"Mallory"}, "password": {testPassword}})
	wantPageStatus(t, p, http.StatusGone)
	if !strings.Contains(p.Body, "Setup is complete") {
		t.Errorf("POST /setup after setup does not say setup is complete:\n%s", p.Body)
	}
	if n := usersInStore(t, app.store); n != 1 {
		t.Errorf("%d users, want 1: setup created a second account", n)
	}
	if _, err := app.store.UserByEmail(t.Context(), "mallory@example.com"); err == nil {
		t.Errorf("a second admin was created through /setup")
	}
}

func TestAnonymousIsSentToSignIn(t *testing.T) {
	app := newTestApp(t)
	app.admin()
	for _, tc := range []struct{ path, want string }{
		{"/", "/login"},
		{"/organizations", "/login?next=%2Forganizations"},
		{"/organizations?page=2", "/login?next=%2Forganizations%3Fpage%3D2"},
		{"/settings/tokens", "/login?next=%2Fsettings%2Ftokens"},
		{"/event-types", "/login?next=%2Fevent-types"},
		{"/users", "/login?next=%2Fusers"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			wantSeeOther(t, app.browser().within(t).get(tc.path), tc.want)
		})
	}
	t.Run("htmx request", func(t *testing.T) {
		p := app.browser().within(t).getWith("/organizations", http.Header{"Hx-Request": {"true"}})
		wantPageStatus(t, p, http.StatusUnauthorized)
		if got := p.Header.Get("HX-Redirect"); got != "/login?next=%2Forganizations" {
			t.Errorf("HX-Redirect %q, want /login?next=%%2Forganizations", got)
		}
	})
	t.Run("anonymous form post", func(t *testing.T) {
		b := app.browser().within(t)
		p := b.post("/organizations", url.Values{"name": {"Sneaky"}})
		wantSeeOther(t, p, "/login")
		if _, ok := storedOrgNamed(t, app.store, "Sneaky"); ok {
			t.Errorf("an anonymous post created an organisation")
		}
	})
}

func TestSignInGoesToNext(t *testing.T) {
	app := newTestApp(t, roomyLogins)
	app.admin()
	b := app.browser()
	p := b.get("/organizations")
	wantSeeOther(t, p, "/login?next=%2Forganizations")
	p = b.follow(p)
	wantPageStatus(t, p, http.StatusOK)
	next, _ := p.Doc.Find(`form[action="/login"] input[name="next"]`).Attr("value")
	if next != "/organizations" {
		t.Fatalf("sign-in form carries next=%q, want /organizations", next)
	}
	p = b.post("/login", url.Values{"email": {"admin@example.com"}, "password": {testPassword}, "next": {next}})
	wantSeeOther(t, p, "/organizations")
	wantPageStatus(t, b.get("/organizations"), http.StatusOK)

	// Signed in already: the sign-in page sends you on.
	wantSeeOther(t, b.get("/login?next=%2Fevent-types"), "/event-types")

	t.Run("e-mail is matched without case", func(t *testing.T) {
		b := app.browser().within(t)
		p := b.post("/login", url.Values{"email": {"  ADMIN@Example.com "}, "password": {testPassword}})
		wantSeeOther(t, p, "/")
	})
}

func TestSignInNeverRedirectsOffSite(t *testing.T) {
	app := newTestApp(t, roomyLogins)
	app.admin()
	for _, tc := range []struct {
		next string
		// exact: the redirect must be to "/" itself, not merely stay on this site.
		exact bool
	}{
		{"//evil.com", true},
		{"//evil.com/path", true},
		{"https://evil.com", true},
		{"http:evil.com", true},
		{"/\\evil.com", true},
		{"\\\\evil.com", true},
		{"  //evil.com", true},
		{"javascript:alert(1)", true},
		{"evil.com", true},
		// Browsers remove tabs and newlines anywhere in a URL (WHATWG URL parsing), so these
		// are //evil.com once they reach the address bar.
		{"/\t/evil.com", false},
		{"/\n/evil.com", false},
		{"/\r\n/evil.com", false},
		{"/\t\\evil.com", false},
	} {
		t.Run(strconv.Quote(tc.next), func(t *testing.T) {
			b := app.browser().within(t)
			p := b.get("/login?next=" + url.QueryEscape(tc.next))
			wantPageStatus(t, p, http.StatusOK)
			if v, _ := p.Doc.Find(`input[name="next"]`).Attr("value"); tc.exact && v != "/" {
				t.Errorf("sign-in form carries next=%q, want /", v)
			}
			status, loc := b.rawPost("/login", url.Values{"email": {"admin@example.com"}, "password": {testPassword}, "next": {tc.next}})
			if status != http.StatusSeeOther {
				t.Fatalf("POST /login: status %d, want 303", status)
			}
			if offSite(app.srv.URL, loc) {
				t.Errorf("POST /login with next=%q redirects to %q, which a browser follows to another site", tc.next, loc)
			} else if tc.exact && loc != "/" {
				t.Errorf("POST /login with next=%q redirects to %q, want /", tc.next, loc)
			}
			// Signed in now: the sign-in page itself redirects to next.
			status, loc = b.rawGet("/login?next=" + url.QueryEscape(tc.next))
			if status != http.StatusSeeOther {
				t.Fatalf("GET /login signed in: status %d, want 303", status)
			}
			if offSite(app.srv.URL, loc) {
				t.Errorf("GET /login?next=%q when signed in redirects to %q, which a browser follows to another site", tc.next, loc)
			}
		})
	}
}

func TestSignInRefusals(t *testing.T) {
	app := newTestApp(t, roomyLogins)
	app.admin()
	var messages []string
	for _, tc := range []struct{ name, email, password string }{
		{"wrong password", "admin@example.com", "wrong password!"},
		{"unknown e-mail", "nobody@example.com", testPassword},
		{"empty password", "admin@example.com", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := app.browser().within(t)
			b.csrfToken() // the visit before: the sign-in page's own cookie
			p := b.post("/login", url.Values{"email": {tc.email}, "password": {tc.password}})
			wantPageStatus(t, p, http.StatusUnauthorized)
			msg := alertText(p)
			if msg == "" {
				t.Fatalf("no message explaining the refusal:\n%s", p.Body)
			}
			messages = append(messages, msg)
			if got := inputValue(t, p, "email"); got != tc.email {
				t.Errorf("e-mail field %q, want the typed %q", got, tc.email)
			}
			if got := inputValue(t, p, "password"); got != "" {
				t.Errorf("password echoed back: %q", got)
			}
			if tc.password != "" && strings.Contains(p.Body, tc.password) {
				t.Errorf("typed password appears in the page")
			}
			if responseCookie(p.Response, "hookyard") != nil {
				t.Errorf("a refused sign-in set the session cookie")
			}
			wantSeeOther(t, b.get("/"), "/login")
		})
	}
	for _, m := range messages[1:] {
		if m != messages[0] {
			t.Errorf("refusals differ (%q vs %q): an unknown e-mail must look like a wrong password", messages[0], m)
		}
	}
}

func TestSignInWithoutUsersPointsToSetup(t *testing.T) {
	app := newTestApp(t)
	p := app.browser().get("/login")
	if h := strings.TrimSpace(p.Doc.Find("h1").Text()); h != "Setup link needed" {
		t.Errorf("heading %q, want %q; status %d", h, "Setup link needed", p.StatusCode)
	}
	if p.Doc.Find(`input[name="password"]`).Length() != 0 {
		t.Errorf("sign-in form shown although no account exists")
	}
	if p.StatusCode >= 500 {
		t.Errorf("status %d", p.StatusCode)
	}
}

func TestSignInRateLimit(t *testing.T) {
	app := newTestApp(t, func(o *handlers.Options) {
		o.LoginBurst = 3
		o.LoginRate = rate.Every(time.Hour)
	})
	app.admin()
	b := app.browser()
	for i := range 3 {
		p := b.post("/login", url.Values{"email": {"admin@example.com"}, "password": {"wrong password " + strconv.Itoa(i)}})
		wantPageStatus(t, p, http.StatusUnauthorized)
	}
	limited := func(t *testing.T, p page) {
		t.Helper()
		wantPageStatus(t, p, http.StatusTooManyRequests)
		ra, err := strconv.Atoi(p.Header.Get("Retry-After"))
		if err != nil || ra <= 0 {
			t.Errorf("Retry-After %q, want a positive number of seconds", p.Header.Get("Retry-After"))
		}
		if msg := alertText(p); !strings.Contains(strings.ToLower(msg), "too many") {
			t.Errorf("message %q does not say there were too many attempts", msg)
		}
		if p.Doc.Find(`form[action="/login"]`).Length() != 1 {
			t.Errorf("the limited page offers no sign-in form to try again later")
		}
	}

	// The right password is refused too while the address is limited.
	p := b.post("/login", url.Values{"email": {"admin@example.com"}, "password": {testPassword}})
	limited(t, p)
	if got := inputValue(t, p, "email"); got != "admin@example.com" {
		t.Errorf("e-mail not kept on the limited page: %q", got)
	}
	wantSeeOther(t, b.get("/"), "/login")

	t.Run("X-Forwarded-For gives no fresh allowance", func(t *testing.T) {
		b := b.within(t)
		hdr := http.Header{"X-Forwarded-For": {"203.0.113.7"}, "X-Real-Ip": {"203.0.113.7"}}
		p := b.postWith("/login", url.Values{"_csrf": {b.csrfToken()}, "email": {"admin@example.com"}, "password": {testPassword}}, hdr)
		limited(t, p)
	})
	t.Run("a fresh cookie jar gives no fresh allowance", func(t *testing.T) {
		p := app.browser().within(t).post("/login", url.Values{"email": {"admin@example.com"}, "password": {testPassword}})
		limited(t, p)
	})
	t.Run("pages still load", func(t *testing.T) {
		wantPageStatus(t, app.browser().within(t).get("/login"), http.StatusOK)
	})
}

func TestLogout(t *testing.T) {
	app := newTestApp(t)
	admin := app.admin()
	b := app.signedInAs(admin)

	t.Run("GET /logout does not sign out", func(t *testing.T) {
		b := b.within(t)
		p := b.get("/logout")
		if p.StatusCode != http.StatusMethodNotAllowed && p.StatusCode != http.StatusNotFound {
			t.Errorf("GET /logout: status %d, want 405 or 404", p.StatusCode)
		}
		wantPageStatus(t, b.get("/"), http.StatusOK)
	})
	t.Run("POST /logout without CSRF token does not sign out", func(t *testing.T) {
		b := b.within(t)
		wantPageStatus(t, b.postRaw("/logout", nil), http.StatusForbidden)
		wantPageStatus(t, b.get("/"), http.StatusOK)
	})

	p := b.post("/logout", nil)
	wantSeeOther(t, p, "/login")
	if c := responseCookie(p.Response, "hookyard"); c == nil || c.MaxAge >= 0 {
		t.Errorf("logout does not expire the session cookie: %+v", c)
	}
	wantSeeOther(t, b.get("/"), "/login")
	wantSeeOther(t, b.get("/organizations"), "/login?next=%2Forganizations")
}

// Signing out must end the session, not only delete the cookie from this browser: a copy of
// the cookie taken before (from a shared computer, a backup, malware, a proxy log) must not
// keep working for the rest of its 30 days.
func TestLogoutEndsTheSessionForCopiesOfTheCookie(t *testing.T) {
	app := newTestApp(t)
	admin := app.admin()
	b := app.signedInAs(admin)
	copied := b.withOnlyCookies("hookyard")
	wantPageStatus(t, copied.get("/"), http.StatusOK)
	wantSeeOther(t, b.post("/logout", nil), "/login")

	if p := copied.get("/"); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/login" {
		t.Errorf("a copy of the signed-out session cookie still opens the dashboard: GET / status %d", p.StatusCode)
	}
	p := copied.post("/organizations", url.Values{"name": {"After logout"}})
	if _, ok := storedOrgNamed(t, app.store, "After logout"); ok {
		t.Errorf("a copy of the signed-out session cookie still changes data (POST status %d)", p.StatusCode)
	}
}

func TestSessionCookieFlags(t *testing.T) {
	app := newTestApp(t)
	app.admin()
	b := app.browser()
	b.get("/login")
	p := b.post("/login", url.Values{"email": {"admin@example.com"}, "password": {testPassword}})
	wantSeeOther(t, p, "/")
	sess := responseCookie(p.Response, "hookyard")
	if sess == nil {
		t.Fatalf("sign-in sets no session cookie; Set-Cookie: %q", p.Header.Values("Set-Cookie"))
	}
	check := func(c *http.Cookie) {
		t.Helper()
		if !c.HttpOnly {
			t.Errorf("cookie %s is not HttpOnly", c.Name)
		}
		if c.SameSite != http.SameSiteLaxMode {
			t.Errorf("cookie %s SameSite=%v, want Lax", c.Name, c.SameSite)
		}
		if c.Path != "/" {
			t.Errorf("cookie %s Path=%q, want /", c.Name, c.Path)
		}
	}
	check(sess)
	if sess.MaxAge <= 0 {
		t.Errorf("session cookie MaxAge=%d, want it to outlive the browser window", sess.MaxAge)
	}
	if strings.Contains(sess.Value, "admin@example.com") {
		t.Errorf("session cookie carries the e-mail in clear")
	}
	if c := responseCookie(b.get("/").Response, "_csrf"); c != nil {
		t.Errorf("a page sets a _csrf cookie: the token belongs in the session, not beside it")
	}
	// The cookie of a visitor who has not signed in (it holds their CSRF token) is set the same way.
	pre := responseCookie(app.browser().get("/login").Response, "hookyard")
	if pre == nil {
		t.Fatal("the sign-in page sets no cookie for its CSRF token")
	}
	check(pre)
}

func TestCookiesAreSecureBehindHTTPS(t *testing.T) {
	app := newTestApp(t, func(o *handlers.Options) { o.BaseURL = &url.URL{Scheme: "https", Host: "hookyard.example"} })
	app.admin()
	b := app.browser()
	p := b.get("/login")
	pre := responseCookie(p.Response, "hookyard")
	if pre == nil || !pre.Secure {
		t.Fatalf("cookie of the sign-in page %+v, want Secure when the base URL is https", pre)
	}
	// The jar will not send a Secure cookie over plain HTTP, so post the cookie by hand.
	tok, _ := p.Doc.Find(`input[name="_csrf"]`).Attr("value")
	req, _ := http.NewRequest(http.MethodPost, app.srv.URL+"/login", strings.NewReader(url.Values{
		"_csrf": {tok}, "email": {"admin@example.com"}, "password": {testPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: pre.Name, Value: pre.Value})
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: status %d", resp.StatusCode)
	}
	if c := responseCookie(resp, "hookyard"); c == nil || !c.Secure || !c.HttpOnly {
		t.Errorf("session cookie %+v, want Secure and HttpOnly when the base URL is https", c)
	}
}

func TestSessionSurvivesRestart(t *testing.T) {
	app := newTestApp(t)
	admin := app.admin()
	b := app.signedInAs(admin)
	again := b.on(app.restarted())
	p := again.get("/")
	wantPageStatus(t, p, http.StatusOK)
	if who := p.Doc.Find(`[data-testid="whoami"]`).Text(); !strings.Contains(who, admin.Name) {
		t.Errorf("after a restart whoami %q, want %q", who, admin.Name)
	}
	// And forms keep working with the cookie from before the restart.
	wantPageStatus(t, again.post("/organizations", url.Values{"name": {"After restart"}}), http.StatusSeeOther)
	if _, ok := storedOrgNamed(t, app.store, "After restart"); !ok {
		t.Errorf("a form posted after the restart did not apply")
	}
}

func TestDeletedUserIsSignedOut(t *testing.T) {
	app := newTestApp(t)
	admin := app.admin()
	m := app.member("mia@example.com", "Mia Member")
	mb := app.signedInAs(m)
	wantPageStatus(t, mb.get("/"), http.StatusOK)
	wantSeeOther(t, app.signedInAs(admin).post("/users/"+m.ID+"/delete", nil), "/users")
	wantSeeOther(t, mb.get("/"), "/login")
	wantPageStatus(t, mb.get("/login"), http.StatusOK)
}

func TestTamperedSessionCookieIsAnonymous(t *testing.T) {
	app := newTestApp(t)
	admin := app.admin()
	b := app.signedInAs(admin)
	c := b.cookie("hookyard")
	if c == nil {
		t.Fatal("no session cookie")
	}
	u, _ := url.Parse(app.srv.URL)
	v := []byte(c.Value)
	v[len(v)/2] ^= 1
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: "hookyard", Value: string(v), Path: "/"}})
	wantSeeOther(t, b.get("/"), "/login")
	wantPageStatus(t, b.get("/login"), http.StatusOK)
}

func TestPasswordResetSignsUserOut(t *testing.T) {
	app := newTestApp(t)
	admin := app.admin()
	m := app.member("mia@example.com", "Mia Member")
	mb := app.signedInAs(m)
	wantPageStatus(t, mb.get("/"), http.StatusOK)
	ab := app.signedInAs(admin)

	p := ab.post("/users/"+m.ID+"/password", url.Values{"password": {"a brand new password"}})
	wantSeeOther(t, p, "/users/"+m.ID)
	if f := flashText(ab.follow(p)); f == "" {
		t.Errorf("no confirmation after the reset")
	}

	wantSeeOther(t, mb.get("/"), "/login")
	wantPageStatus(t, ab.get("/"), http.StatusOK) // the admin who reset it stays signed in

	t.Run("own password", func(t *testing.T) {
		ab := ab.within(t)
		other := app.within(t).browser()
		other.login(admin.Email)
		wantSeeOther(t, ab.post("/users/"+admin.ID+"/password", url.Values{"password": {"the admin's new one"}}), "/users/"+admin.ID)
		wantPageStatus(t, ab.get("/"), http.StatusOK) // here: still signed in
		wantSeeOther(t, other.get("/"), "/login")     // elsewhere: signed out
	})

	nb := app.browser()
	wantPageStatus(t, nb.post("/login", url.Values{"email": {m.Email}, "password": {testPassword}}), http.StatusUnauthorized)
	wantSeeOther(t, nb.post("/login", url.Values{"email": {m.Email}, "password": {"a brand new password"}}), "/")
	wantPageStatus(t, nb.get("/"), http.StatusOK)
}
