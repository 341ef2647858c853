package handlers_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"hookyard/handlers"
	"hookyard/store"
)

// Helpers of the browser-page tests (pages_*_test.go), on top of harness_test.go.

// roomyLogins lifts the sign-in rate limit for tests that sign in many times from one address.
func roomyLogins(o *handlers.Options) { o.LoginBurst = 1000 }

// in returns the same app bound to another (sub)test, so that failures are reported there.
func (a *testApp) within(t *testing.T) *testApp {
	return &testApp{t: t, store: a.store, srv: a.srv}
}

// in returns the same browser (same cookies) bound to another (sub)test.
func (b *browser) within(t *testing.T) *browser {
	return &browser{t: t, app: b.app.within(t), client: b.client, csrf: b.csrf}
}

// on returns a browser with the same cookie jar that talks to another server.
func (b *browser) on(a *testApp) *browser {
	return &browser{t: b.t, app: a, client: b.client, csrf: b.csrf}
}

// restart starts a second Hookyard on the same database, as after a process restart.
func (a *testApp) restarted() *testApp {
	a.t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base, _ := url.Parse("http://" + srv.Listener.Addr().String())
	e, err := handlers.New(a.t.Context(), a.store, handlers.Options{
		BaseURL: base, SetupToken: testSetupToken, Version: "test",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Engine: testEngine(a.t, a.store, false),
	})
	if err != nil {
		a.t.Fatal(err)
	}
	srv.Config.Handler = e
	srv.Start()
	a.t.Cleanup(srv.Close)
	return &testApp{t: a.t, store: a.store, srv: srv}
}

// signedIn returns a browser signed in as u (who must have testPassword).
func (a *testApp) signedInAs(u store.User) *browser {
	a.t.Helper()
	b := a.browser()
	b.login(u.Email)
	return b
}

// getWith fetches a page with extra request headers.
func (b *browser) getWith(path string, hdr http.Header) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.app.srv.URL+path, nil)
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	return b.do(req)
}

// postWith submits exactly the given form with extra request headers (no CSRF token added).
func (b *browser) postWith(path string, form url.Values, hdr http.Header) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.app.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	return b.do(req)
}

// cookie returns the browser's cookie of that name, or nil.
func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.app.srv.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// withOnlyCookies returns a new browser on the same server holding only the named cookies.
func (b *browser) withOnlyCookies(names ...string) *browser {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(b.app.srv.URL)
	var keep []*http.Cookie
	for _, n := range names {
		if c := b.cookie(n); c != nil {
			keep = append(keep, &http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	jar.SetCookies(u, keep)
	return &browser{t: b.t, app: b.app, csrf: new(string), client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// responseCookie returns the last Set-Cookie of that name in a response, or nil.
func responseCookie(resp *http.Response, name string) *http.Cookie {
	var found *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == name {
			found = c
		}
	}
	return found
}

// wantStatus fails the test unless the page has the status.
func wantPageStatus(t *testing.T, p page, status int) {
	t.Helper()
	if p.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; Location %q; body:\n%s",
			p.Request.Method, p.Request.URL.RequestURI(), p.StatusCode, status, p.Header.Get("Location"), p.Body)
	}
}

// wantRedirect fails the test unless the page is a 303 to exactly loc.
func wantSeeOther(t *testing.T, p page, loc string) {
	t.Helper()
	wantPageStatus(t, p, http.StatusSeeOther)
	if got := p.Header.Get("Location"); got != loc {
		t.Fatalf("%s %s: Location %q, want %q", p.Request.Method, p.Request.URL.RequestURI(), got, loc)
	}
}

// follow fetches where a redirect points.
func (b *browser) follow(p page) page {
	b.t.Helper()
	loc := p.Header.Get("Location")
	if loc == "" {
		b.t.Fatalf("%s %s: no Location to follow (status %d)", p.Request.Method, p.Request.URL.RequestURI(), p.StatusCode)
	}
	return b.get(loc)
}

// inputValue is the value of the form control with that id (fails when absent).
func inputValue(t *testing.T, p page, id string) string {
	t.Helper()
	sel := p.Doc.Find("#" + id)
	if sel.Length() != 1 {
		t.Fatalf("%s: want one element #%s, found %d; body:\n%s", p.Request.URL.RequestURI(), id, sel.Length(), p.Body)
	}
	v, _ := sel.Attr("value")
	return v
}

// fieldError is the inline error shown under the field with that name ("" when none).
func fieldError(p page, name string) string {
	return strings.TrimSpace(p.Doc.Find("#" + name + "-error").Text())
}

// flash is the one-time message at the top of the page.
func flashText(p page) string {
	return strings.TrimSpace(p.Doc.Find(`[data-testid="flash"]`).Text())
}

// alert is the message about a whole form.
func alertText(p page) string {
	return strings.TrimSpace(p.Doc.Find(`[role="alert"]`).Text())
}

// texts are the trimmed texts of every element matching sel.
func textsOf(s *goquery.Selection) []string {
	var out []string
	s.Each(func(_ int, e *goquery.Selection) { out = append(out, strings.TrimSpace(e.Text())) })
	return out
}

// postForms are the <form method=post> elements of a page.
func postForms(p page) *goquery.Selection {
	return p.Doc.Find("form").FilterFunction(func(_ int, f *goquery.Selection) bool {
		m, _ := f.Attr("method")
		return strings.EqualFold(m, "post")
	})
}

// snapshot describes everything the admin forms can change, to prove a refused request
// changed nothing.
func storeSnapshot(t *testing.T, st *store.Store) string {
	t.Helper()
	ctx := t.Context()
	var sb strings.Builder
	orgs, _, err := st.ListOrganizations(ctx, "", store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range orgs {
		fmt.Fprintf(&sb, "org %s %q %d\n", o.ID, o.Name, o.UpdatedAt.UnixMilli())
	}
	projects, _, err := st.ListProjects(ctx, store.ProjectFilter{}, store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range projects {
		fmt.Fprintf(&sb, "project %s %s %q %d\n", p.ID, p.OrganizationID, p.Name, p.UpdatedAt.UnixMilli())
	}
	users, _, err := st.ListUsers(ctx, store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		fmt.Fprintf(&sb, "user %s %q %q %s %s %d\n", u.ID, u.Email, u.Name, u.Role, u.PasswordHash, u.UpdatedAt.UnixMilli())
	}
	members, err := st.MemberOrganizations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&sb, "members %v\n", members)
	types, err := st.ListEventTypes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, et := range types {
		fmt.Fprintf(&sb, "event type %s %q %q\n", et.Name, et.Category, et.Label)
	}
	tokens, _, err := st.ListTokens(ctx, "", store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tokens {
		fmt.Fprintf(&sb, "token %s %s %q\n", tk.ID, tk.UserID, tk.Name)
	}
	return sb.String()
}

// orgNamed finds an organisation by name in the store.
func storedOrgNamed(t *testing.T, st *store.Store, name string) (store.Organization, bool) {
	t.Helper()
	orgs, _, err := st.ListOrganizations(t.Context(), "", store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range orgs {
		if o.Name == name {
			return o, true
		}
	}
	return store.Organization{}, false
}

// countOrgs is how many organisations exist.
func orgsInStore(t *testing.T, st *store.Store) int {
	t.Helper()
	orgs, _, err := st.ListOrganizations(t.Context(), "", store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return len(orgs)
}

// projectsOf lists the names of an organisation's projects.
func projectsOf(t *testing.T, st *store.Store, orgID string) []string {
	t.Helper()
	ps, _, err := st.ListProjects(t.Context(), store.ProjectFilter{OrganizationID: orgID}, store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	return names
}

// countUsers is how many user accounts exist.
func usersInStore(t *testing.T, st *store.Store) int {
	t.Helper()
	n, err := st.CountUsers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// rawPost submits a form with the CSRF token through the bare transport, so that a Location
// header Go's client would refuse to parse still reaches the test. It returns the status and
// the Location exactly as sent.
func (b *browser) rawPost(path string, form url.Values) (status int, location string) {
	b.t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("_csrf", b.csrfToken())
	req, _ := http.NewRequest(http.MethodPost, b.app.srv.URL+path, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range b.client.Jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	b.client.Jar.SetCookies(req.URL, resp.Cookies())
	return resp.StatusCode, resp.Header.Get("Location")
}

// rawGet fetches a page through the bare transport (see rawPost) and returns the status and
// the Location exactly as sent.
func (b *browser) rawGet(path string) (status int, location string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.app.srv.URL+path, nil)
	for _, c := range b.client.Jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	b.client.Jar.SetCookies(req.URL, resp.Cookies())
	return resp.StatusCode, resp.Header.Get("Location")
}

// offSite reports whether a browser on base would leave the site (or run a script) when
// sent to loc. It resolves loc the way browsers do (WHATWG URL): surrounding spaces and
// control characters and every tab and newline are dropped, and \ counts as /.
func offSite(base, loc string) bool {
	clean := strings.TrimFunc(loc, func(r rune) bool { return r <= ' ' })
	clean = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, clean)
	clean = strings.ReplaceAll(clean, `\`, "/")
	b, err := url.Parse(base)
	if err != nil {
		panic(err)
	}
	u, err := b.Parse(clean)
	if err != nil {
		return true
	}
	return u.Host != b.Host || u.Scheme != b.Scheme
}
