package handlers_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// HTTP conventions of the API (SPEC §5): a method an address does not take is 405 with Allow
// naming those it does, and a body not sent as JSON is 415; neither changes anything.

func TestAPIWrongMethodIs405WithAllow(t *testing.T) {
	f := newWebhookFixture(t)
	hook := f.createWebhook(t, f.miaToken, map[string]any{"name": "Hook", "url": publicURL})
	before := f.state(t)
	for _, c := range []struct {
		method, path string
		allow        []string
	}{
		{http.MethodDelete, "/api/v1/webhooks", []string{"GET", "POST"}},
		{http.MethodPut, "/api/v1/webhooks/" + hook.ID, []string{"GET", "PATCH", "DELETE"}},
		{http.MethodGet, "/api/v1/webhooks/" + hook.ID + "/rotate-secret", []string{"POST"}},
		{http.MethodPost, "/api/v1/me", []string{"GET"}},
		{http.MethodPatch, "/api/v1/deliveries/dlv_x/resend", []string{"POST"}},
		{http.MethodDelete, "/api/v1/openapi.json", []string{"GET"}},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			r := f.api(f.miaToken, c.method, c.path, nil)
			p := wantProblem(t, r, http.StatusMethodNotAllowed)
			if got := strings.Split(r.Header.Get("Allow"), ", "); !slices.Equal(got, c.allow) {
				t.Errorf("Allow %q, want %q", r.Header.Get("Allow"), strings.Join(c.allow, ", "))
			}
			if !strings.Contains(p.Detail, c.method) {
				t.Errorf("detail %q does not name the method refused", p.Detail)
			}
		})
	}
	// HEAD is answered as GET, without a body.
	if r := f.api(f.miaToken, http.MethodHead, "/api/v1/webhooks/"+hook.ID, nil); r.Status != http.StatusOK || len(r.Body) != 0 {
		t.Errorf("HEAD /api/v1/webhooks/{id}: %d with %d bytes, want 200 without a body", r.Status, len(r.Body))
	}
	if r := f.api(f.ottoToken, http.MethodHead, "/api/v1/webhooks/"+hook.ID, nil); r.Status != http.StatusNotFound {
		t.Errorf("HEAD of another member's webhook: %d, want 404 as for GET", r.Status)
	}
	// OPTIONS says what an address takes; an address with no route at all stays 404.
	if r := f.api(f.miaToken, http.MethodOptions, "/api/v1/webhooks", nil); r.Status != http.StatusNoContent || r.Header.Get("Allow") != "GET, POST" {
		t.Errorf("OPTIONS /api/v1/webhooks: %d with Allow %q, want 204 with GET, POST", r.Status, r.Header.Get("Allow"))
	}
	for _, m := range []string{http.MethodGet, http.MethodDelete} {
		if r := f.api(f.miaToken, m, "/api/v1/nothing-here", nil); r.Status != http.StatusNotFound || r.Header.Get("Allow") != "" {
			t.Errorf("%s /api/v1/nothing-here: %d with Allow %q, want 404 without Allow", m, r.Status, r.Header.Get("Allow"))
		}
	}
	f.unchanged(t, before, "requests with a wrong method")
	if got := f.allWebhooks(t); len(got) != 1 || got[0].Name != "Hook" {
		t.Errorf("webhooks after wrong methods: %+v", got)
	}
}

func TestAPIBodyNotSentAsJSONIs415(t *testing.T) {
	f := newWebhookFixture(t)
	body := []byte(`{"name": "Sent as a form", "url": "` + publicURL + `"}`)
	before := f.state(t)
	for _, ct := range []string{"", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x", "application/jsonx", "not a type"} {
		t.Run("Content-Type "+ct, func(t *testing.T) {
			r, err := f.apiRaw(f.miaToken, http.MethodPost, "/api/v1/webhooks", body, http.Header{"Content-Type": {ct}})
			if err != nil {
				t.Fatal(err)
			}
			p := wantProblem(t, r, http.StatusUnsupportedMediaType)
			if !strings.Contains(p.Detail, "application/json") {
				t.Errorf("detail %q does not say what to send", p.Detail)
			}
		})
	}
	if got := f.allWebhooks(t); len(got) != 0 {
		t.Errorf("%d webhooks stored from bodies not sent as JSON", len(got))
	}
	f.unchanged(t, before, "bodies not sent as JSON")

	// JSON with parameters, and +json types, are JSON; an empty optional body needs no type.
	for _, ct := range []string{"application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json"} {
		r, err := f.apiRaw(f.miaToken, http.MethodPost, "/api/v1/webhooks", body, http.Header{"Content-Type": {ct}})
		if err != nil || r.Status != http.StatusCreated {
			t.Errorf("Content-Type %q: %d %s, want 201", ct, r.Status, r.Body)
		}
	}
	hook := f.allWebhooks(t)[0]
	if r, err := f.apiRaw(f.miaToken, http.MethodPost, "/api/v1/webhooks/"+hook.ID+"/test", nil, http.Header{"Content-Type": {""}}); err != nil || r.Status != http.StatusOK {
		t.Errorf("test send without a body or a type: %d %s, want 200", r.Status, r.Body)
	}
}
