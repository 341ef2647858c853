package handlers_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// Pages that show what outsiders sent (payloads, answers, bin requests) stay small whatever
// its shape: tests of the bounded renderer on the real router.

// maxPageBytes is the most a page showing hostile text may weigh.
const maxPageBytes = 1 << 20

// nestedArrays is a small document that naive pretty-printing turns into a huge one: each
// level adds a line indented by one more step.
func nestedArrays(depth int) string { return strings.Repeat("[", depth) + strings.Repeat("]", depth) }

// manyNestedArrays is many small documents nested a little deeper than is shown.
func manyNestedArrays(n, depth int) string {
	return "[" + strings.TrimSuffix(strings.Repeat(nestedArrays(depth)+",", n), ",") + "]"
}

// getBounded fetches a page like get, failing t as soon as it is larger than maxPageBytes.
func (b *browser) getBounded(t *testing.T, path string) page {
	t.Helper()
	resp, err := b.client.Get(b.app.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes+1))
	if err != nil {
		t.Fatal(err)
	}
	if len(body) > maxPageBytes {
		t.Fatalf("%s is larger than %d bytes", path, maxPageBytes)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return page{Response: resp, Doc: doc, Body: string(body)}
}

// wantShortened fails unless sel says, in words, that it shows less than what was stored,
// and returns where the whole text can be downloaded.
func wantShortened(t *testing.T, what string, sel *goquery.Selection) string {
	t.Helper()
	note := sel.Find(`[data-testid="shortened"]`)
	if note.Length() == 0 || !strings.HasPrefix(squash(note.First().Text()), "Shown shortened:") {
		t.Errorf("%s does not say it was shortened (notes: %q)", what, squash(note.Text()))
		return ""
	}
	href, _ := note.First().Find("a").Attr("href")
	return href
}

// wantRawText downloads a raw text link as b and checks it is the whole stored text, as a
// plain-text attachment.
func wantRawText(t *testing.T, b *browser, href, want string) {
	t.Helper()
	if href == "" {
		t.Errorf("no link to the whole text")
		return
	}
	p := b.get(href)
	wantPageStatus(t, p, http.StatusOK)
	if ct := p.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("%s: Content-Type %q, want text/plain; charset=utf-8", href, ct)
	}
	if cd := p.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename=") {
		t.Errorf("%s: Content-Disposition %q, want an attachment", href, cd)
	}
	if !strings.Contains(p.Body, want) {
		t.Errorf("%s: %d bytes that do not hold the stored text", href, len(p.Body))
	}
}

// A payload of deeply nested arrays, published as an event, delivered, answered with by the
// receiver and sent to a bin, shows on every page as a bounded, shortened block with a link to
// the whole text, which only those who may see the page can download.
func TestHostileJSONPagesStayBounded(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	deep := nestedArrays(4000)
	answer := nestedArrays(8000) // within the 16 KiB kept of an answer
	rcv := newReceiver(t, http.StatusOK, answer)
	hook := f.createWebhook(t, f.miaToken, map[string]any{"name": "Hostile", "url": rcv.URL, "events": []string{}, "projectIds": []string{}})
	pub := f.call(t, f.miaToken, http.MethodPost, "/api/v1/events",
		fmt.Sprintf(`{"event":"TODO_CREATED","projectId":%q,"previousValue":null,"currentValue":%s}`, f.alpha.ID, deep), http.StatusAccepted)
	ev := decode[recoveryPublished](t, pub)
	ds := f.recoverySettled(t, hook.ID)
	if len(ds) != 1 {
		t.Fatalf("%d deliveries, want 1", len(ds))
	}
	mia, otto := f.signedInAs(f.mia), f.signedInAs(f.otto)

	t.Run("event", func(t *testing.T) {
		p := mia.getBounded(t, "/events/"+ev.ID)
		wantPageStatus(t, p, http.StatusOK)
		raw := wantShortened(t, "the event page", p.Doc.Selection)
		wantRawText(t, mia, raw, deep)
		wantPageStatus(t, otto.get(raw), http.StatusNotFound)
	})
	t.Run("delivery", func(t *testing.T) {
		p := mia.getBounded(t, "/deliveries/"+ds[0].ID)
		wantPageStatus(t, p, http.StatusOK)
		payload := wantShortened(t, "the request body", p.Doc.Find(`[aria-labelledby="payload-h"]`))
		wantRawText(t, mia, payload, deep)
		wantPageStatus(t, otto.get(payload), http.StatusNotFound)
		body := wantShortened(t, "the response body", p.Doc.Find(`[data-testid="attempt"]`))
		wantRawText(t, mia, body, answer)
		wantPageStatus(t, otto.get(body), http.StatusNotFound)
	})
	t.Run("bin", func(t *testing.T) {
		binPath := mia.post("/inspector", url.Values{}).Header.Get("Location")
		binURL := f.srv.URL + "/inspect/" + strings.TrimPrefix(binPath, "/inspector/")
		bodies := []string{nestedArrays(4000), manyNestedArrays(400, 40), nestedArrays(4000)}
		for _, body := range bodies {
			resp, err := http.Post(binURL, "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("posting to the bin: %d", resp.StatusCode)
			}
		}
		for _, path := range []string{binPath, binPath + "/requests"} {
			p := mia.getBounded(t, path)
			wantPageStatus(t, p, http.StatusOK)
			reqs := p.Doc.Find(`[data-testid="bin-request"]`)
			if reqs.Length() != len(bodies) {
				t.Fatalf("%s shows %d requests, want %d", path, reqs.Length(), len(bodies))
			}
			reqs.Each(func(i int, r *goquery.Selection) {
				raw := wantShortened(t, fmt.Sprintf("%s, request %d", path, i+1), r)
				wantRawText(t, mia, raw, bodies[len(bodies)-1-i]) // newest first
				if i == 0 {
					wantPageStatus(t, otto.get(raw), http.StatusNotFound)
				}
			})
		}
	})
}

// An ordinary payload is shown whole: no note, nothing left out.
func TestOrdinaryJSONShownWhole(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	ev := f.recoveryPublish(t, f.adminToken, "TODO_CREATED", f.alpha.ID, map[string]any{"title": "Call", "tags": []string{"a", "b"}})
	p := f.signedInAs(f.admin).getBounded(t, "/events/"+ev.ID)
	if n := p.Doc.Find(`[data-testid="shortened"]`).Length(); n != 0 {
		t.Errorf("an ordinary event says it was shortened %d times", n)
	}
	want := "{\n  \"previousValue\": null,\n  \"currentValue\": {\n    \"tags\": [\n      \"a\",\n      \"b\"\n    ],\n    \"title\": \"Call\"\n  }\n}"
	if got := strings.TrimSpace(p.Doc.Find(`[data-testid="event-payload"]`).Text()); got != want {
		t.Errorf("the event page shows\n%s\nwant\n%s", got, want)
	}
}
