package handlers_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// A bin on this server receives a real delivery from the engine while the outbound guard is
// on (the default), and its page shows the signatures as verified; a tampered copy fails.
func TestInspectorReceivesSignedDeliveryWithDefaultGuard(t *testing.T) {
	f := newAPIFixture(t, roomyLogins) // private targets NOT allowed
	b := f.signedInAs(f.mia)
	p := b.post("/inspector", url.Values{})
	wantPageStatus(t, p, http.StatusSeeOther)
	binPath := p.Header.Get("Location")
	if !strings.HasPrefix(binPath, "/inspector/bin_") {
		t.Fatalf("creating a bin leads to %q", binPath)
	}
	binURL := f.srv.URL + "/inspect/" + strings.TrimPrefix(binPath, "/inspector/")

	// The bin's loopback URL is accepted for a webhook although private targets are refused…
	w := f.createWebhook(t, f.miaToken, map[string]any{"name": "Try it", "url": binURL})
	// …while another loopback URL still is not.
	r := f.api(f.miaToken, http.MethodPost, "/api/v1/webhooks", map[string]any{"name": "x", "url": f.srv.URL + "/elsewhere"})
	wantFieldErrors(t, r, "url")

	f.call(t, f.miaToken, http.MethodPost, "/api/v1/events", map[string]any{"event": "TODO_MOVED", "projectId": f.alpha.ID,
		"currentValue": map[string]any{"title": "Ship it"}}, http.StatusAccepted)
	deadline := time.Now().Add(5 * time.Second)
	var page page
	for time.Now().Before(deadline) {
		page = b.get(binPath)
		if page.Doc.Find(`[data-testid="bin-request"]`).Length() > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	reqs := page.Doc.Find(`[data-testid="bin-request"]`)
	if reqs.Length() != 1 {
		t.Fatalf("the bin shows %d requests, want 1", reqs.Length())
	}
	if n := reqs.Find(`[data-testid="sig-ok"]`).Length(); n != 2 {
		t.Errorf("%d signatures verified, want 2 (X-Signature and webhook-signature):\n%s", n, squash(reqs.Text()))
	}
	if !strings.Contains(reqs.Text(), "Record moved to another list") || !strings.Contains(reqs.Find(`[data-testid="bin-body"]`).Text(), `"title": "Ship it"`) {
		t.Errorf("the request shows %q", squash(reqs.Text()))
	}
	// The bin has the request before the sender has stored its outcome.
	for deadline := time.Now().Add(5 * time.Second); f.storedWebhook(t, w.ID).LastSuccessAt == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the delivery to the bin is not recorded as a success")
		}
	}

	// A tampered copy with the same headers does not verify.
	var first http.Header
	var body []byte
	bins, err := f.store.ListBins(t.Context(), f.mia.ID)
	if err != nil || len(bins) != 1 {
		t.Fatalf("bins: %v %v", bins, err)
	}
	got, err := f.store.BinRequests(t.Context(), bins[0].ID)
	if err != nil || len(got) != 1 {
		t.Fatalf("bin requests: %v %v", got, err)
	}
	first, body = got[0].Headers, got[0].Body
	tampered := bytes.Replace(body, []byte("Ship it"), []byte("Ship it NOW"), 1)
	req, _ := http.NewRequest(http.MethodPost, binURL, bytes.NewReader(tampered))
	for _, h := range []string{"Content-Type", "X-Signature", "webhook-id", "webhook-timestamp", "webhook-signature"} {
		req.Header.Set(h, first.Get(h))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("posting to the bin: %d", resp.StatusCode)
	}
	newest := b.get(binPath).Doc.Find(`[data-testid="bin-request"]`).First()
	if n := newest.Find(`[data-testid="sig-bad"]`).Length(); n != 2 {
		t.Errorf("tampered request: %d signatures refused, want 2:\n%s", n, squash(newest.Text()))
	}

	// Another member cannot open the bin.
	if p := f.signedInAs(f.otto).get(binPath); p.StatusCode != http.StatusNotFound {
		t.Errorf("another member opens the bin: %d", p.StatusCode)
	}
	// An unknown bin refuses requests.
	resp, err = http.Post(f.srv.URL+"/inspect/bin_nope", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown bin answers %d, want 404", resp.StatusCode)
	}
}

// In-process deliveries reach the bins and nothing else: a URL that climbs out of /inspect/
// gets the bin's 404, not another route of the server.
func TestInspectorLocalRouteReachesOnlyBins(t *testing.T) {
	f := newAPIFixture(t, roomyLogins)
	for _, path := range []string{"/inspect/../api/v1/me", "/inspect/x/../../api/v1/me", "/inspect/..%2Fapi%2Fv1%2Fme"} {
		w := f.createWebhook(t, f.adminToken, map[string]any{"name": "sneaky", "url": f.srv.URL + path})
		r := f.call(t, f.adminToken, http.MethodPost, "/api/v1/webhooks/"+w.ID+"/test", map[string]any{"event": "TODO_CREATED"}, http.StatusOK)
		res := r.JSON(t)
		if res["ok"] != false || res["statusCode"] != float64(http.StatusNotFound) || !strings.Contains(res["responseBody"].(string), "no such bin") {
			t.Errorf("%s: test answered %v, want the bin receiver's 404", path, res)
		}
	}
}

// A bin never keeps credentials: a signed-in person lured to the bin's URL must not hand their
// session to the bin's owner. Bins take POST only.
func TestInspectorKeepsNoCredentials(t *testing.T) {
	f := newAPIFixture(t, roomyLogins)
	mia := f.signedInAs(f.mia)
	binPath := mia.post("/inspector", url.Values{}).Header.Get("Location")
	binURL := f.srv.URL + "/inspect/" + strings.TrimPrefix(binPath, "/inspector/")

	admin := f.signedInAs(f.admin)
	req, _ := http.NewRequest(http.MethodPost, binURL, strings.NewReader(`{"hello":"bin"}`))
	req.Header.Set("Authorization", "Bearer "+f.adminToken)
	resp, err := admin.client.Do(req) // carries the admin's session cookie
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST to the bin: %d", resp.StatusCode)
	}
	page := mia.get(binPath).Body
	for _, secret := range []string{"hookyard=", "_csrf=", f.adminToken, "Cookie", "Authorization"} {
		if strings.Contains(page, secret) {
			t.Errorf("the bin page shows %q", secret)
		}
	}
	resp, err = admin.client.Get(binURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET on a bin answers %d, want 405", resp.StatusCode)
	}
}

// A test URL is named after the webhook that calls it, on the inspector's list and its own
// page (which links to the webhook); the builder's Send test, made before the webhook exists,
// is said to be that rather than "a webhook you cannot see".
func TestInspectorNamesBinsAfterTheirWebhook(t *testing.T) {
	f := newAPIFixture(t, roomyLogins)
	b := f.signedInAs(f.mia)
	p := b.post("/inspector", url.Values{})
	binPath := p.Header.Get("Location")
	binURL := f.srv.URL + "/inspect/" + strings.TrimPrefix(binPath, "/inspector/")
	if got := squash(b.get("/inspector").Doc.Find(`[data-testid="bin-link"]`).Text()); got != "Unused test URL" {
		t.Errorf("a new test URL is listed as %q, want “Unused test URL”", got)
	}

	// The builder's Send test, before saving.
	p = b.post("/webhooks", url.Values{"action": {"test"}, "name": {"Orders"}, "url": {binURL}, "all_events": {"1"}, "all_projects": {"1"}, "test_event": {"TODO_CREATED"}})
	if r := squash(p.Doc.Find(`[data-testid="test-result"]`).Text()); !strings.Contains(r, "It works") {
		t.Fatalf("Send test to the test URL: %q", r)
	}
	req := b.get(binPath).Doc.Find(`[data-testid="bin-request"]`).First()
	if got := squash(req.Text()); !strings.Contains(got, "“Send test” from the webhook builder") || strings.Contains(got, "cannot see") {
		t.Errorf("the builder's test reads %q, want it said to be the builder's Send test", got)
	}

	w := f.createWebhook(t, f.miaToken, map[string]any{"name": "Orders", "url": binURL})
	if got := squash(b.get("/inspector").Doc.Find(`[data-testid="bin-link"]`).Text()); got != "Test URL for “Orders”" {
		t.Errorf("the test URL is listed as %q, want “Test URL for “Orders””", got)
	}
	p = b.get(binPath)
	if got := squash(p.Doc.Find(`[data-testid="bin-title"]`).Text()); got != "Test URL for “Orders”" {
		t.Errorf("the test URL's page is headed %q", got)
	}
	if href, _ := p.Doc.Find(`[data-testid="bin-webhook"]`).Attr("href"); href != "/webhooks/"+w.ID {
		t.Errorf("the test URL's page links to %q, want the webhook", href)
	}
	if strings.Contains(squash(p.Doc.Find("main").Text()), "Bin") {
		t.Errorf("the test URL's page says “Bin”: %q", squash(p.Doc.Find("main").Text()))
	}
}
