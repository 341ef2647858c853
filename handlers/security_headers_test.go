package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"hookyard/handlers"
)

// Every answer that carries a secret (a webhook's signing secret, a new API token) tells
// browsers and proxies not to keep it: Cache-Control: no-store.
func TestSecretsAreNotCached(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate, roomyLogins)
	const target = "http://127.0.0.1:9/hook" // never called
	b := f.signedInAs(f.mia)
	created := f.createWebhook(t, f.miaToken, map[string]any{"name": "Cached?", "url": target, "events": []string{"TODO_CREATED"}})

	noStore := func(t *testing.T, what string, h http.Header, body, secret string) {
		t.Helper()
		if secret == "" || !strings.Contains(body, secret) {
			t.Fatalf("%s: the answer does not carry the secret it is meant to show", what)
		}
		if got := h.Get("Cache-Control"); !strings.Contains(got, "no-store") {
			t.Errorf("%s: Cache-Control %q, want no-store", what, got)
		}
	}
	secretOf := func(p page) string {
		v, _ := p.Doc.Find(`[data-testid="webhook-secret"]`).Attr("value")
		return v
	}

	t.Run("API create", func(t *testing.T) {
		r := f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks", map[string]any{"name": "Another", "url": target}, http.StatusCreated)
		noStore(t, "POST /api/v1/webhooks", r.Header, string(r.Body), decode[apiWebhook](t, r).Secret)
	})
	t.Run("API rotate", func(t *testing.T) {
		r := f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+created.ID+"/rotate-secret", nil, http.StatusOK)
		noStore(t, "POST rotate-secret", r.Header, string(r.Body), decode[apiWebhook](t, r).Secret)
	})
	t.Run("page after create", func(t *testing.T) {
		b := b.within(t)
		p := b.post("/webhooks", url.Values{"name": {"From the builder"}, "url": {target}, "events": {"TODO_CREATED"}, "all_projects": {"1"}})
		wantPageStatus(t, p, http.StatusSeeOther)
		p = b.follow(p)
		noStore(t, "webhook page after create", p.Header, p.Body, secretOf(p))
	})
	t.Run("reveal secret", func(t *testing.T) {
		p := b.within(t).post("/webhooks/"+created.ID+"/reveal-secret", nil)
		noStore(t, "reveal-secret", p.Header, p.Body, secretOf(p))
	})
	t.Run("rotate secret page", func(t *testing.T) {
		p := b.within(t).post("/webhooks/"+created.ID+"/rotate-secret", nil)
		noStore(t, "rotate-secret page", p.Header, p.Body, secretOf(p))
	})
	t.Run("new API token page", func(t *testing.T) {
		p := b.within(t).post("/settings/tokens", url.Values{"name": {"CI"}})
		wantPageStatus(t, p, http.StatusCreated)
		tok, _ := p.Doc.Find(`#token-secret`).Attr("value")
		noStore(t, "token created", p.Header, p.Body, tok)
	})
}

// With an https base URL every answer asks browsers to keep to https
// (Strict-Transport-Security), also when a TLS-terminating proxy forwards plain HTTP; with
// an http base URL none does, since that would lock people out of a plain-HTTP install.
func TestStrictTransportSecurity(t *testing.T) {
	for _, tc := range []struct {
		base string
		want bool
	}{{"https://hookyard.example", true}, {"", false}} {
		app := newTestApp(t, func(o *handlers.Options) {
			if tc.base != "" {
				o.BaseURL, _ = url.Parse(tc.base)
			}
		})
		for _, path := range []string{"/login", "/healthz", "/api/v1/me", "/no-such-page"} {
			for _, hdr := range []http.Header{nil, {"X-Forwarded-Proto": {"https"}}} {
				p := app.browser().getWith(path, hdr)
				got := p.Header.Get("Strict-Transport-Security")
				if tc.want && !strings.HasPrefix(got, "max-age=") {
					t.Errorf("base %s, GET %s (%v): Strict-Transport-Security %q, want max-age=…", tc.base, path, hdr, got)
				}
				if !tc.want && got != "" {
					t.Errorf("http base URL, GET %s (%v): Strict-Transport-Security %q, want none", path, hdr, got)
				}
			}
		}
	}
}
