package handlers_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"hookyard/handlers"
)

// Quotas of the request inspector (SPEC §5): bins per person, the body a bin keeps, and the
// rate of anonymous posts.

// newBin creates a bin as b's user and returns its public URL.
func newBin(t *testing.T, b *browser) string {
	t.Helper()
	p := b.post("/inspector", url.Values{})
	wantPageStatus(t, p, http.StatusSeeOther)
	id, ok := strings.CutPrefix(p.Header.Get("Location"), "/inspector/")
	if !ok {
		t.Fatalf("creating a bin leads to %q", p.Header.Get("Location"))
	}
	return b.app.srv.URL + "/inspect/" + id
}

// postToBin sends body to a bin from outside and returns the status, Retry-After and the
// answer's text.
func postToBin(t *testing.T, binURL string, body []byte) (int, string, string) {
	t.Helper()
	resp, err := http.Post(binURL, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(text)
}

// binID is the id at the end of a bin URL.
func binID(binURL string) string { return binURL[strings.LastIndex(binURL, "/")+1:] }

func (a *testApp) binRequestCount(t *testing.T, binURL string) int {
	t.Helper()
	reqs, err := a.store.BinRequests(t.Context(), binID(binURL))
	if err != nil {
		t.Fatal(err)
	}
	return len(reqs)
}

// A person may keep 20 bins; the 21st is refused with 429 on the inspector page, naming the
// limit and still listing every bin, from both buttons that make one.
func TestBinsPerPersonQuota(t *testing.T) {
	f := newAPIFixture(t, roomyLogins)
	mia := f.signedInAs(f.mia)
	for range 20 {
		newBin(t, mia)
	}
	for _, path := range []string{"/inspector", "/inspector/first-webhook"} {
		p := mia.post(path, url.Values{})
		wantPageStatus(t, p, http.StatusTooManyRequests)
		if msg := squash(p.Doc.Find(`[data-testid="flash"]`).Text()); !strings.Contains(msg, "You already have 20 test URLs, the most one person may have") {
			t.Errorf("POST %s: the page says %q, want the limit named", path, msg)
		}
		if n := p.Doc.Find(`[data-testid="bin-link"]`).Length(); n != 20 {
			t.Errorf("POST %s: the page lists %d bins, want all 20", path, n)
		}
	}
	if bins, err := f.store.ListBins(t.Context(), f.mia.ID); err != nil || len(bins) != 20 {
		t.Errorf("Mia has %d bins (%v), want 20", len(bins), err)
	}
	// The quota is per person: another member still gets one.
	newBin(t, f.signedInAs(f.otto))
}

// A bin keeps bodies of up to 64 KiB; a larger one is refused with 413 and stores nothing.
func TestBinBodyCap(t *testing.T) {
	f := newAPIFixture(t, roomyLogins)
	bin := newBin(t, f.signedInAs(f.mia))

	if status, _, text := postToBin(t, bin, bytes.Repeat([]byte("a"), 64<<10)); status != http.StatusOK {
		t.Fatalf("a 64 KiB body: %d %s, want 200", status, text)
	}
	status, _, text := postToBin(t, bin, bytes.Repeat([]byte("a"), 64<<10+1))
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(text, "larger than 64 KiB") || !strings.Contains(text, "nothing was stored") {
		t.Errorf("a body of 64 KiB + 1: %d %s, want 413 saying the limit", status, text)
	}
	if n := f.binRequestCount(t, bin); n != 1 {
		t.Errorf("the bin keeps %d requests, want only the 64 KiB one", n)
	}
}

// The bin answers 413 once it has read one byte past the cap, without waiting for the rest
// of a chunked body that never ends: it never reads more than 64 KiB + 1.
func TestBinBodyCapReadsNoMoreThanTheCap(t *testing.T) {
	f := newAPIFixture(t, roomyLogins)
	bin := newBin(t, f.signedInAs(f.mia))
	u, _ := url.Parse(bin)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n", u.Path, u.Host, 64<<10+1)
	if _, err := conn.Write(bytes.Repeat([]byte("a"), 64<<10+1)); err != nil {
		t.Fatal(err)
	}
	// No last chunk follows: as far as the server knows, the body goes on.
	fmt.Fprint(conn, "\r\n")
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second)) // "did not hang", not a timing
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer after 64 KiB + 1 of an endless body: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
	if n := f.binRequestCount(t, bin); n != 0 {
		t.Errorf("the bin keeps %d requests, want none", n)
	}
}

// Posts from outside are rate-limited per bin, and per sender across bins (twice a bin's
// burst), with 429 and Retry-After; refused posts store nothing.
func TestBinPostRateLimit(t *testing.T) {
	slow := func(o *handlers.Options) { o.BinPostRate, o.BinPostBurst = rate.Every(time.Hour), 3 }
	f := newAPIFixture(t, roomyLogins, slow)
	mia := f.signedInAs(f.mia)
	first, second := newBin(t, mia), newBin(t, mia)

	send := func(bin string, want int, words string) {
		t.Helper()
		status, retry, text := postToBin(t, bin, []byte(`{"n":1}`))
		if status != want {
			t.Fatalf("POST to bin: %d %s, want %d", status, text, want)
		}
		if want == http.StatusTooManyRequests {
			if n, err := strconv.Atoi(retry); err != nil || n < 1 {
				t.Errorf("Retry-After %q, want a number of seconds", retry)
			}
			if !strings.Contains(text, words) {
				t.Errorf("the 429 says %s, want %q", text, words)
			}
		}
	}
	// The sender may make 6 posts in a burst, one bin takes 3 of them.
	for range 3 {
		send(first, http.StatusOK, "")
	}
	send(first, http.StatusTooManyRequests, "too many requests to this bin: it takes at most")
	for range 2 {
		send(second, http.StatusOK, "")
	}
	send(second, http.StatusTooManyRequests, "too many requests from your address: bins take at most")
	if a, b := f.binRequestCount(t, first), f.binRequestCount(t, second); a != 3 || b != 2 {
		t.Errorf("the bins keep %d and %d requests, want 3 and 2 (the accepted ones)", a, b)
	}
}

// The limit is for posts from outside: this server's own deliveries reach its bins
// in-process and are not slowed down, however many there are.
func TestBinRateLimitSparesOwnDeliveries(t *testing.T) {
	slow := func(o *handlers.Options) { o.BinPostRate, o.BinPostBurst = rate.Every(time.Hour), 1 }
	f := newAPIFixture(t, roomyLogins, slow)
	bin := newBin(t, f.signedInAs(f.mia))
	w := f.createWebhook(t, f.miaToken, map[string]any{"name": "To the bin", "url": bin})
	events := make([]map[string]any, 30)
	for i := range events {
		events[i] = map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID, "currentValue": map[string]any{"n": i}}
	}
	f.call(t, f.miaToken, http.MethodPost, "/api/v1/events/batch", map[string]any{"events": events}, http.StatusAccepted)
	deadline := time.Now().Add(10 * time.Second)
	for f.binRequestCount(t, bin) < 30 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := f.binRequestCount(t, bin); n != 30 {
		t.Fatalf("the bin received %d of 30 deliveries", n)
	}
	if got := f.storedWebhook(t, w.ID); got.ConsecutiveFailures != 0 || !got.Enabled {
		t.Errorf("deliveries to the bin failed: %+v", got)
	}
	// Meanwhile a post from outside is limited.
	postToBin(t, bin, []byte(`{}`))
	if status, _, _ := postToBin(t, bin, []byte(`{}`)); status != http.StatusTooManyRequests {
		t.Errorf("a second post from outside answers %d, want 429", status)
	}
}
