package handlers_test

import (
	"net/http"
	"net/url"
	"testing"
)

// A first walk through the harness: setup, then the dashboard.
func TestSetupThenDashboard(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	p := b.get("/setup?token=" + testSetupToken)
	if p.StatusCode != http.StatusOK {
		t.Fatalf("GET /setup: %d", p.StatusCode)
	}
	p = b.post("/setup", url.Values{"token": {testSetupToken}, "email": {"ada@example.com"}, "name": {"Ada"}, "password": {testPassword}})
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/" {
		t.Fatalf("POST /setup: %d %s\n%s", p.StatusCode, p.Header.Get("Location"), p.Body)
	}
	p = b.get("/")
	if p.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %d\n%s", p.StatusCode, p.Body)
	}
	if got := p.Doc.Find(`[data-testid="whoami"]`).Text(); got == "" {
		t.Fatalf("dashboard does not show who is signed in:\n%s", p.Body)
	}
}
