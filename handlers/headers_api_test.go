package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// A webhook's extra request headers (SPEC §9) through the API: stored and read back, sent on
// a test request, replaced by a PATCH, and refused with 422 saying why.
func TestHeadersAPI(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, "ok")
	w := f.createWebhook(t, f.miaToken, map[string]any{"name": "With headers", "url": rcv.URL,
		"headers": map[string]string{"X-Api-Key": "k_123", "X-Tenant": "acme"}})
	headersOf := func() map[string]string {
		t.Helper()
		raw := decode[map[string]json.RawMessage](t, f.call(t, f.miaToken, http.MethodGet, "/api/v1/webhooks/"+w.ID, nil, http.StatusOK))
		var h map[string]string
		if err := json.Unmarshal(raw["headers"], &h); err != nil || h == nil {
			t.Fatalf("headers field %s: %v", raw["headers"], err)
		}
		return h
	}
	if h := headersOf(); h["X-Api-Key"] != "k_123" || h["X-Tenant"] != "acme" || len(h) != 2 {
		t.Errorf("stored headers %v", h)
	}
	f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+w.ID+"/test", map[string]string{"event": "TODO_CREATED"}, http.StatusOK)
	if got := rcv.last(t, 1).Header; got.Get("X-Api-Key") != "k_123" || got.Get("X-Tenant") != "acme" {
		t.Errorf("the test request carried %v, want the extra headers", got)
	}
	f.call(t, f.miaToken, http.MethodPatch, "/api/v1/webhooks/"+w.ID, map[string]any{"name": "Renamed"}, http.StatusOK)
	if h := headersOf(); len(h) != 2 {
		t.Errorf("a PATCH without headers changed them to %v", h)
	}
	f.call(t, f.miaToken, http.MethodPatch, "/api/v1/webhooks/"+w.ID, map[string]any{"headers": map[string]string{"Authorization": "Bearer t"}}, http.StatusOK)
	if h := headersOf(); len(h) != 1 || h["Authorization"] != "Bearer t" {
		t.Errorf("after replacing: %v", h)
	}
	f.call(t, f.miaToken, http.MethodPatch, "/api/v1/webhooks/"+w.ID, map[string]any{"headers": map[string]string{}}, http.StatusOK)
	if h := headersOf(); len(h) != 0 {
		t.Errorf("after emptying: %v", h)
	}
	plain := f.createWebhook(t, f.miaToken, map[string]any{"name": "Plain", "url": rcv.URL})
	raw := decode[map[string]json.RawMessage](t, f.call(t, f.miaToken, http.MethodGet, "/api/v1/webhooks/"+plain.ID, nil, http.StatusOK))
	if string(raw["headers"]) != "{}" {
		t.Errorf("a webhook without extra headers answers %s, want {}", raw["headers"])
	}

	many := map[string]string{}
	for i := range 21 {
		many[fmt.Sprintf("X-H%d", i)] = "v"
	}
	for _, c := range []struct {
		headers map[string]string
		says    string
	}{
		{map[string]string{"Content-Type": "text/plain"}, "set by Hookyard itself"},
		{map[string]string{"webhook-id": "x"}, "set by Hookyard itself"},
		{map[string]string{"X-Hookyard-Attempt": "1"}, "set by Hookyard itself"},
		{map[string]string{"Host": "elsewhere"}, "URL"},
		{map[string]string{"Content-Length": "1"}, "body"},
		{map[string]string{"Transfer-Encoding": "chunked"}, "hop-by-hop"},
		{map[string]string{"X-Bad": "a\nb"}, "line breaks"},
		{many, "at most 20"},
	} {
		before := f.state(t)
		for _, req := range []struct{ method, path string }{{http.MethodPost, "/api/v1/webhooks"}, {http.MethodPatch, "/api/v1/webhooks/" + w.ID}} {
			p := wantFieldErrors(t, f.api(f.miaToken, req.method, req.path, map[string]any{"name": "Refused", "url": rcv.URL, "headers": c.headers}), "headers")
			if !strings.Contains(p.Errors[0].Message, c.says) {
				t.Errorf("%s %v: %q, want it to say %q", req.method, c.headers, p.Errors[0].Message, c.says)
			}
		}
		f.unchanged(t, before, "refused headers")
	}
}
