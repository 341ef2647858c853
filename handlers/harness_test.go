package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/bcrypt"

	"hookyard/delivery"
	"hookyard/handlers"
	"hookyard/internal/testdb"
	"hookyard/store"
)

// The shared harness of the handler tests: a real store in a temp dir behind the real router
// on a loopback httptest server, and clients that behave like a browser or an API script.

const (
	testSetupToken = "test-setup-token"
	testPassword   = "correct horse battery"
)

type testApp struct {
	t     *testing.T
	store *store.Store
	srv   *httptest.Server
	dsn   string // the database, for what only direct SQL can change
}

// newTestApp starts Hookyard on an empty database. opts may adjust the handler options.
func newTestApp(t *testing.T, opts ...func(*handlers.Options)) *testApp {
	t.Helper()
	dsn := testdb.DSN(t)
	st, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.SetPasswordCost(bcrypt.MinCost)
	srv := httptest.NewUnstartedServer(nil)
	base, _ := url.Parse("http://" + srv.Listener.Addr().String())
	o := handlers.Options{
		BaseURL:    base,
		SetupToken: testSetupToken,
		Version:    "test",
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, f := range opts {
		f(&o)
	}
	if o.Outbound == nil {
		o.Outbound = testClient(o.AllowPrivateTargets)
	}
	if o.Engine == nil {
		o.Engine = testEngineWith(t, st, o.Outbound)
	}
	e, err := handlers.New(t.Context(), st, o)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = e
	srv.Start()
	t.Cleanup(srv.Close)
	return &testApp{t: t, store: st, srv: srv, dsn: dsn}
}

// testRetrySchedule makes retries fast enough for tests: 5 attempts within half a second.
var testRetrySchedule = []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond, 160 * time.Millisecond}

// testEngine starts a delivery engine on st, stopped when the test ends (before the store
// closes).
func testEngine(t *testing.T, st *store.Store, allowPrivate bool) *delivery.Engine {
	t.Helper()
	return testEngineWith(t, st, testClient(allowPrivate))
}

func testClient(allowPrivate bool) *delivery.Client {
	return delivery.NewClient(delivery.ClientOptions{AllowPrivate: allowPrivate, Timeout: 2 * time.Second, UserAgent: "Hookyard/test"})
}

// testPerWebhook is the test engine's limit of requests in flight to one webhook
// (--per-webhook-concurrency).
const testPerWebhook = 4

// testEngineWith starts an engine that sends through client (shared with the handlers, so
// this server's inspector bins are reached in-process).
func testEngineWith(t *testing.T, st *store.Store, client *delivery.Client) *delivery.Engine {
	t.Helper()
	eng := delivery.NewEngine(st, client, delivery.Config{RetrySchedule: testRetrySchedule, Workers: 16, PerWebhook: testPerWebhook,
		RequestTimeout: 2 * time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := eng.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		eng.Stop(ctx)
	})
	return eng
}

// user creates an account with testPassword.
func (a *testApp) user(email, name string, role store.Role) store.User {
	a.t.Helper()
	hash, err := a.store.HashPassword(testPassword)
	if err != nil {
		a.t.Fatal(err)
	}
	u := store.User{Email: email, Name: name, Role: role, PasswordHash: hash}
	if err := a.store.CreateUser(a.t.Context(), &u); err != nil {
		a.t.Fatal(err)
	}
	return u
}

func (a *testApp) admin() store.User {
	return a.user("admin@example.com", "Ada Admin", store.RoleAdmin)
}

func (a *testApp) member(email, name string) store.User {
	return a.user(email, name, store.RoleMember)
}

// token creates an API token for u and returns its secret.
func (a *testApp) token(u store.User) string {
	a.t.Helper()
	_, secret, err := a.store.CreateToken(a.t.Context(), u.ID, "test")
	if err != nil {
		a.t.Fatal(err)
	}
	return secret
}

func (a *testApp) org(name string) store.Organization {
	a.t.Helper()
	o, err := a.store.CreateOrganization(a.t.Context(), name)
	if err != nil {
		a.t.Fatal(err)
	}
	return o
}

func (a *testApp) project(orgID, name string) store.Project {
	a.t.Helper()
	p, err := a.store.CreateProject(a.t.Context(), orgID, name)
	if err != nil {
		a.t.Fatal(err)
	}
	return p
}

func (a *testApp) addMember(orgID, userID string) {
	a.t.Helper()
	if err := a.store.AddMember(a.t.Context(), orgID, userID); err != nil {
		a.t.Fatal(err)
	}
}

// browser is an HTTP client with a cookie jar that does not follow redirects, like a person's
// browser seen one request at a time. It sends no Sec-Fetch-Site header, so CSRF is checked
// by token.
type browser struct {
	t      *testing.T
	app    *testApp
	client *http.Client
	// csrf is the CSRF token of the browser's session as its last page showed it, shared by
	// the copies of this browser (within, on); "" until a page with a form was fetched.
	csrf *string
}

func (a *testApp) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: a.t, app: a, csrf: new(string), client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is a response with its body parsed as HTML.
type page struct {
	*http.Response
	Doc  *goquery.Document
	Body string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	b.noteCSRFToken(req, resp, doc)
	return page{Response: resp, Doc: doc, Body: string(body)}
}

// noteCSRFToken remembers the token the page's forms carry. Signing in or out, and setup,
// start another session with another token.
func (b *browser) noteCSRFToken(req *http.Request, resp *http.Response, doc *goquery.Document) {
	if v, _ := doc.Find(`input[name="_csrf"]`).First().Attr("value"); v != "" {
		*b.csrf = v
		return
	}
	switch req.URL.Path {
	case "/login", "/logout", "/setup":
		if req.Method == http.MethodPost && resp.StatusCode == http.StatusSeeOther {
			*b.csrf = ""
		}
	}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.app.srv.URL+path, nil)
	return b.do(req)
}

// csrfToken is the token a form on this site would carry. It belongs to the browser's
// session, so it is read from a page as a person's browser would: the last page with a form,
// or else the sign-in page, the setup page (no account yet) or the account page (signed in).
func (b *browser) csrfToken() string {
	b.t.Helper()
	for _, path := range []string{"/login", "/setup?token=" + testSetupToken, "/account"} {
		if *b.csrf != "" {
			break
		}
		b.get(path)
	}
	return *b.csrf
}

// post submits a form the way the page would: with the CSRF token (fetching a page first
// if none was seen yet).
func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("_csrf", b.csrfToken())
	return b.postRaw(path, f)
}

// postRaw submits exactly the given form, with no CSRF token added.
func (b *browser) postRaw(path string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.app.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// login signs in with testPassword and fails the test if that does not work.
func (b *browser) login(email string) {
	b.t.Helper()
	p := b.post("/login", url.Values{"email": {email}, "password": {testPassword}})
	if p.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("login %s: status %d, want 303; body:\n%s", email, p.StatusCode, p.Body)
	}
}

// apiResult is one API response.
type apiResult struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic value.
func (r apiResult) JSON(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.Body)
	}
	return v
}

// api calls the JSON API with a bearer token ("" for none). body may be nil, a string (sent
// as is) or any value (sent as JSON).
func (a *testApp) api(token, method, path string, body any) apiResult {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, a.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return apiResult{Status: resp.StatusCode, Header: resp.Header, Body: out}
}
