package handlers_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func TestPagesEscapeUserText(t *testing.T) {
	const evil = `<script>alert(1)</script>`
	const escaped = `&lt;script&gt;alert(1)&lt;/script&gt;`
	app := newTestApp(t)
	admin := app.admin()
	b := app.signedInAs(admin)

	// Created through the form, so the flash message on the next page carries the name too.
	p := b.post("/organizations", url.Values{"name": {evil}})
	wantPageStatus(t, p, http.StatusSeeOther)
	o, ok := storedOrgNamed(t, app.store, evil)
	if !ok {
		t.Fatal("organisation not stored with its name as typed")
	}
	app.project(o.ID, `"><img src=x onerror=alert(2)>`)
	m := app.member("x@example.com", `<b onmouseover=alert(3)>Mallory</b>`)
	app.addMember(o.ID, m.ID)

	pages := map[string]page{"organisation page with flash": b.follow(p)}
	for _, path := range []string{"/organizations", "/organizations/" + o.ID, "/users", "/users/" + m.ID} {
		pages[path] = b.get(path)
	}
	pages["rejected rename"] = b.post("/organizations/"+o.ID, url.Values{"name": {evil + strings.Repeat("x", 100)}})
	for name, p := range pages {
		t.Run(name, func(t *testing.T) {
			if p.StatusCode != http.StatusOK && p.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", p.StatusCode)
			}
			for _, raw := range []string{evil, `<img src=x onerror`, `<b onmouseover`} {
				if strings.Contains(p.Body, raw) {
					t.Errorf("page contains %q unescaped", raw)
				}
			}
			if p.Doc.Find("script:not([src])").Length() != 0 || p.Doc.Find("img[onerror], b[onmouseover]").Length() != 0 {
				t.Errorf("user text became markup")
			}
			if !strings.Contains(p.Body, escaped) {
				t.Errorf("page does not show the name as text (%s)", escaped)
			}
		})
	}
	if got := pages["/organizations/"+o.ID].Doc.Find(`[data-testid="org-name"]`).Text(); got != evil {
		t.Errorf("heading text %q, want %q", got, evil)
	}
}

func TestStaticAssets(t *testing.T) {
	app := newTestApp(t)
	p := app.browser().get("/login")
	href, _ := p.Doc.Find(`link[rel="stylesheet"]`).Attr("href")
	if !regexp.MustCompile(`^/static/app\.[0-9a-f]{8,}\.css$`).MatchString(href) {
		t.Fatalf("stylesheet href %q, want /static/app.<hash>.css", href)
	}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(app.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	resp, body := get(href)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", href, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type %q, want text/css", ct)
	}
	cc := resp.Header.Get("Cache-Control")
	if !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control %q, want max-age=31536000 and immutable", cc)
	}
	if len(body) == 0 {
		t.Errorf("empty stylesheet")
	}
	for _, sel := range []string{`script[src*="htmx"]`, `link[rel="icon"]`} {
		attr := "src"
		if strings.HasPrefix(sel, "link") {
			attr = "href"
		}
		u, _ := p.Doc.Find(sel).Attr(attr)
		if r, _ := get(u); u == "" || r.StatusCode != http.StatusOK {
			t.Errorf("%s %q does not load", sel, u)
		}
	}
	for _, path := range []string{"/static/x.css", "/static/app.css", "/static/app.0000000000.css", "/static/"} {
		if r, _ := get(path); r.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, r.StatusCode)
		}
	}
}

func TestUnknownPage(t *testing.T) {
	app := newTestApp(t)
	admin := app.admin()
	m := app.member("mia@example.com", "Mia Member")
	for _, tc := range []struct {
		name string
		b    *browser
	}{
		{"admin", app.signedInAs(admin)},
		{"member", app.signedInAs(m)},
	} {
		for _, path := range []string{"/no-such-page", "/organizations/x/y/z"} {
			t.Run(tc.name+path, func(t *testing.T) {
				p := tc.b.within(t).get(path)
				wantPageStatus(t, p, http.StatusNotFound)
				if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
					t.Errorf("Content-Type %q, want an HTML page", ct)
				}
				if p.Doc.Find(`[data-testid="error-page"]`).Length() != 1 {
					t.Errorf("no error page:\n%s", p.Body)
				}
				if p.Doc.Find(`[data-testid="error-page"] a[href="/"]`).Length() == 0 {
					t.Errorf("404 page offers no way back to the dashboard")
				}
				if !strings.Contains(p.Doc.Find("h1").Text(), "not found") {
					t.Errorf("heading %q", p.Doc.Find("h1").Text())
				}
			})
		}
	}
	t.Run("member posts to an unknown address", func(t *testing.T) {
		b := app.signedInAs(m).within(t)
		wantPageStatus(t, b.post("/no-such-page", url.Values{"x": {"1"}}), http.StatusNotFound)
	})
	t.Run("anonymous", func(t *testing.T) {
		p := app.browser().within(t).get("/no-such-page")
		switch p.StatusCode {
		case http.StatusNotFound:
			if p.Doc.Find(`[data-testid="error-page"] a[href="/login"]`).Length() == 0 {
				t.Errorf("404 page offers an anonymous visitor no way to sign in")
			}
		case http.StatusSeeOther:
			if loc := p.Header.Get("Location"); !strings.HasPrefix(loc, "/login") {
				t.Errorf("redirect to %q", loc)
			}
		default:
			t.Errorf("status %d, want 404 or a redirect to sign in", p.StatusCode)
		}
	})
}

func TestSecurityHeadersOnPages(t *testing.T) {
	app := newTestApp(t)
	admin := app.admin()
	b := app.signedInAs(admin)
	for _, path := range []string{"/login", "/", "/organizations", "/users", "/no-such-page", "/setup"} {
		t.Run(path, func(t *testing.T) {
			p := b.within(t).get(path)
			if got := p.Header.Get("X-Frame-Options"); got != "DENY" {
				t.Errorf("X-Frame-Options %q, want DENY", got)
			}
			if got := p.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
			csp := p.Header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "script-src") && strings.Contains(csp, "'unsafe-inline'") &&
				regexp.MustCompile(`script-src[^;]*'unsafe-inline'`).MatchString(csp) {
				t.Errorf("CSP allows inline scripts: %q", csp)
			}
		})
	}
	t.Run("signed-in pages are not cached", func(t *testing.T) {
		p := b.within(t).get("/organizations")
		if cc := p.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("Cache-Control %q, want no-store", cc)
		}
	})
}

// SPEC §4: labels on every input. Every visible form control has a label (by for=id, by
// wrapping, or aria-label), and ids are unique so that each label names one control.
func TestEveryInputHasALabel(t *testing.T) {
	app := newTestApp(t)
	setup := app.browser().get("/setup?token=" + testSetupToken)
	admin := app.admin()
	m := app.member("mia@example.com", "Mia Member")
	o := app.org("Acme")
	app.project(o.ID, "Website")
	app.project(o.ID, "Support")
	app.addMember(o.ID, m.ID)
	app.org("Globex")
	b := app.signedInAs(admin)
	pages := map[string]page{
		"/setup":        setup,
		"/login":        app.browser().get("/login"),
		"token created": b.post("/settings/tokens", url.Values{"name": {"CI"}}),
		"rejected user": b.post("/users", url.Values{"name": {""}}),
	}
	for _, path := range []string{"/", "/organizations", "/organizations/" + o.ID, "/users", "/users/" + m.ID, "/users/" + admin.ID, "/event-types", "/settings/tokens", "/webhooks", "/webhooks/new"} {
		pages[path] = b.get(path)
	}
	for name, p := range pages {
		t.Run(name, func(t *testing.T) {
			if p.StatusCode >= 300 && p.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", p.StatusCode)
			}
			if p.Doc.Find(`meta[name="viewport"][content*="width=device-width"]`).Length() != 1 {
				t.Errorf("no responsive viewport meta tag")
			}
			ids := map[string]int{}
			p.Doc.Find("[id]").Each(func(_ int, s *goquery.Selection) {
				id, _ := s.Attr("id")
				ids[id]++
			})
			for id, n := range ids {
				if n > 1 {
					t.Errorf("id %q used %d times", id, n)
				}
			}
			p.Doc.Find("input, select, textarea").Each(func(_ int, s *goquery.Selection) {
				typ, _ := s.Attr("type")
				if typ == "hidden" || typ == "submit" || typ == "button" {
					return
				}
				name, _ := s.Attr("name")
				if _, ok := s.Attr("aria-label"); ok {
					return
				}
				if _, ok := s.Attr("aria-labelledby"); ok {
					return
				}
				if s.ParentsFiltered("label").Length() > 0 {
					return
				}
				id, _ := s.Attr("id")
				if id == "" || p.Doc.Find(`label[for="`+id+`"]`).Length() == 0 {
					t.Errorf("control %s (name=%q id=%q) has no label", goquery.NodeName(s), name, id)
				}
			})
		})
	}
}
