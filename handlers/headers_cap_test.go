package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"hookyard/delivery"
)

// hugeHeaders sets about 1 MB of headers: 1000 of 1000 bytes each.
func hugeHeaders(h http.Header) {
	for i := range 1000 {
		h.Set(fmt.Sprintf("X-Pad-%04d", i), strings.Repeat("p", 1000))
	}
}

// wantStoredHeadersCapped fails unless h takes at most 16 KiB as stored.
func wantStoredHeadersCapped(t *testing.T, what string, h http.Header) {
	t.Helper()
	b, _ := json.Marshal(h)
	if len(b) > delivery.MaxStoredHeaders {
		t.Errorf("%s take %d bytes stored, want at most %d", what, len(b), delivery.MaxStoredHeaders)
	}
}

// A receiver answering with about 1 MB of headers has 16 KiB of them kept, and the attempt
// says so on its page and in the API.
func TestReceiverHeadersStoredShortened(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hugeHeaders(w.Header())
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	hook := f.createWebhook(t, f.miaToken, map[string]any{"name": "Chatty", "url": srv.URL + "/hook", "events": []string{}, "projectIds": []string{}})
	f.recoveryPublish(t, f.miaToken, "TODO_CREATED", f.alpha.ID, map[string]any{"title": "Call"})
	ds := f.recoverySettled(t, hook.ID)
	if len(ds) != 1 {
		t.Fatalf("%d deliveries, want 1", len(ds))
	}
	attempts, err := f.store.Attempts(t.Context(), ds[0].ID)
	if err != nil || len(attempts) != 1 {
		t.Fatalf("attempts %v, %v", attempts, err)
	}
	a := attempts[0]
	wantStoredHeadersCapped(t, "response headers", a.ResponseHeaders)
	wantStoredHeadersCapped(t, "request headers", a.RequestHeaders)
	if !a.HeadersTruncated {
		t.Errorf("the attempt is not marked as having its headers shortened")
	}

	r := f.call(t, f.miaToken, http.MethodGet, "/api/v1/deliveries/"+ds[0].ID, nil, http.StatusOK)
	var got struct {
		AttemptList []map[string]any `json:"attemptList"`
	}
	if err := json.Unmarshal(r.Body, &got); err != nil || len(got.AttemptList) != 1 || got.AttemptList[0]["headersTruncated"] != true {
		t.Errorf("the API shows the attempt as %.300s (%v)", r.Body, err)
	}

	mia := f.signedInAs(f.mia)
	p := mia.getBounded(t, "/deliveries/"+ds[0].ID)
	if got := squash(p.Doc.Find(`[data-testid="attempt"] [data-testid="headers-shortened"]`).Text()); !strings.HasPrefix(got, "Headers shortened to 16 KiB") {
		t.Errorf("the attempt says %q about its headers, want Headers shortened to 16 KiB", got)
	}
	// What was kept can be downloaded as it travels, by whoever may see the delivery.
	raw := "/deliveries/" + ds[0].ID + "/attempts/1/response-headers"
	wantRawText(t, mia, raw, "X-Pad-0000: "+strings.Repeat("p", 1000)+"\r\n")
	wantPageStatus(t, f.signedInAs(f.otto).get(raw), http.StatusNotFound)
	for _, missing := range []string{"/attempts/2/response-headers", "/attempts/1/secrets"} {
		wantPageStatus(t, mia.get("/deliveries/"+ds[0].ID+missing), http.StatusNotFound)
	}
}

// A bin that receives about 1 MB of request headers keeps 16 KiB of them and says so.
func TestBinHeadersStoredShortened(t *testing.T) {
	f := newAPIFixture(t, roomyLogins)
	mia := f.signedInAs(f.mia)
	binPath := mia.post("/inspector", url.Values{}).Header.Get("Location")
	binID := strings.TrimPrefix(binPath, "/inspector/")
	for _, huge := range []bool{true, false} {
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/inspect/"+binID, strings.NewReader(`{"hello":"bin"}`))
		if huge {
			hugeHeaders(req.Header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("posting to the bin: %d", resp.StatusCode)
		}
	}
	reqs, err := f.store.BinRequests(t.Context(), binID)
	if err != nil || len(reqs) != 2 {
		t.Fatalf("bin requests %d, %v", len(reqs), err)
	}
	small, huge := reqs[0], reqs[1] // newest first
	wantStoredHeadersCapped(t, "the bin's request headers", huge.Headers)
	if !huge.HeadersTruncated || small.HeadersTruncated {
		t.Errorf("headers shortened: huge %t, small %t; want true, false", huge.HeadersTruncated, small.HeadersTruncated)
	}
	raw := fmt.Sprintf("/inspector/%s/requests/%d/headers", binID, huge.ID)
	wantRawText(t, mia, raw, "X-Pad-0000: "+strings.Repeat("p", 1000)+"\r\n")
	wantPageStatus(t, f.signedInAs(f.otto).get(raw), http.StatusNotFound)
	for _, missing := range []string{fmt.Sprintf("/%d/cookies", huge.ID), "/999999/body", "/x/body"} {
		wantPageStatus(t, mia.get(binPath+"/requests"+missing), http.StatusNotFound)
	}
	p := mia.getBounded(t, binPath)
	notes := p.Doc.Find(`[data-testid="bin-request"]`).Map(func(_ int, s *goquery.Selection) string {
		return squash(s.Find(`[data-testid="headers-shortened"]`).Text())
	})
	if len(notes) != 2 || notes[0] != "" || !strings.HasPrefix(notes[1], "Headers shortened to 16 KiB") {
		t.Errorf("the bin's requests say %q about their headers", notes)
	}
}
