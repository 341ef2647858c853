package handlers_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"hookyard/store"
)

// Test sends and health checks go through the per-webhook limit of requests in flight
// (issue 9 point 7: "30 concurrent Send test calls all hit one URL at once"): a stored
// webhook's lane is its own, shared with its deliveries; an unsaved webhook's lane is its URL.

// heldReceiver is a webhook endpoint on loopback that holds every request until the test
// lets it through, and counts how many it holds at once.
type heldReceiver struct {
	URL  string
	next chan chan struct{} // the test sends one to let one request through; closed once it is

	mu             sync.Mutex
	inFlight, most int
}

func newHeldReceiver(t *testing.T) *heldReceiver {
	t.Helper()
	r := &heldReceiver{next: make(chan chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		r.inFlight++
		r.most = max(r.most, r.inFlight)
		r.mu.Unlock()
		var through chan struct{}
		select {
		case through = <-r.next:
		case <-req.Context().Done():
		}
		// No longer counted once it may be answered: the sender frees its slot only after
		// reading the answer, so the next request cannot arrive before this.
		r.mu.Lock()
		r.inFlight--
		r.mu.Unlock()
		if through != nil {
			close(through)
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/hook"
	return r
}

// counts reports the requests held now and the most ever held at once.
func (r *heldReceiver) counts() (inFlight, most int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inFlight, r.most
}

// waitHolding waits until the receiver holds n requests.
func (r *heldReceiver) waitHolding(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if held, _ := r.counts(); held >= n {
			return
		}
		if time.Now().After(deadline) {
			held, _ := r.counts()
			t.Fatalf("the receiver holds %d requests after 10 s, want %d", held, n)
		}
	}
}

// letThrough answers n requests one at a time, each once the receiver holds as many as
// limit allows (or all that remain). It starts once all n calls are in the engine's
// Limited (some sending, the rest waiting for a slot), or once the receiver holds more than
// limit: so every request that could reach the receiver without waiting has reached it, and
// the most held at once says whether the limit held.
func (r *heldReceiver) letThrough(t *testing.T, n, limit int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		held, _ := r.counts()
		if held > limit || (held >= min(limit, n) && callsInLimited() >= n) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s the receiver holds %d requests and %d calls are in Engine.Limited; want %d and %d",
				held, callsInLimited(), min(limit, n), n)
		}
	}
	for i := range n {
		r.waitHolding(t, min(limit, n-i))
		through := make(chan struct{})
		r.next <- through
		<-through
	}
}

// callsInLimited counts the goroutines of this test process inside delivery.Engine.Limited:
// requests outside the queue that wait for a slot of their lane or are being sent.
func callsInLimited() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	n := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte("hookyard/delivery.(*Engine).Limited(")) {
			n++
		}
	}
	return n
}

func TestSendTestWaitsForWebhookLimit(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newHeldReceiver(t)
	w := f.createWebhook(t, f.miaToken, map[string]any{"name": "Busy", "url": rcv.URL})

	const calls = 30
	results := make(chan apiResult, calls)
	for range calls {
		go func() {
			results <- f.api(f.miaToken, "POST", "/api/v1/webhooks/"+w.ID+"/test", map[string]any{"event": "TODO_CREATED"})
		}()
	}
	rcv.letThrough(t, calls, testPerWebhook)
	for range calls {
		r := <-results
		if r.Status != http.StatusOK {
			t.Errorf("POST /webhooks/{id}/test: status %d %s", r.Status, r.Body)
		} else if res := decode[struct{ OK bool }](t, r); !res.OK {
			t.Errorf("test send not OK: %s", r.Body)
		}
	}
	if _, most := rcv.counts(); most > testPerWebhook {
		t.Errorf("%d concurrent test sends reached the receiver %d at once; the per-webhook limit is %d", calls, most, testPerWebhook)
	}
}

// builderSendTest posts the builder's "Send test" for an unsaved webhook calling target, as
// b, and returns the test result as the page shows it.
func builderSendTest(b *browser, f *apiFixture, target string) string {
	p := b.post("/webhooks", builderForm("test", "Try me", target, []string{"TODO_CREATED"}, []string{f.alpha.ID}))
	if p.StatusCode != http.StatusOK {
		return p.Status
	}
	return squash(p.Doc.Find(`[data-testid="test-result"]`).Text())
}

func TestBuilderSendTestWaitsForURLLimit(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate, roomyLogins)
	rcv := newHeldReceiver(t)

	// 30 people press "Send test" at once for unsaved webhooks calling the same URL: they
	// share its limit, whoever they are.
	const calls = 30
	people := make([]*browser, calls)
	for i := range people {
		people[i] = f.signedInAs([]store.User{f.mia, f.admin}[i%2])
		people[i].csrfToken()
	}
	results := make(chan string, calls)
	for _, b := range people {
		go func() { results <- builderSendTest(b, f, rcv.URL) }()
	}
	rcv.letThrough(t, calls, testPerWebhook)
	for range calls {
		if r := <-results; !strings.Contains(r, "It works") {
			t.Errorf("Send test result %q, want It works", r)
		}
	}
	if _, most := rcv.counts(); most > testPerWebhook {
		t.Errorf("%d concurrent Send tests reached the URL %d at once; the limit is %d", calls, most, testPerWebhook)
	}
}

// The limit of an unsaved webhook is its URL's: tests to one URL that is slow to answer do
// not hold up a test to another.
func TestBuilderSendTestLaneIsTheURL(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate, roomyLogins)
	busy, other := newHeldReceiver(t), newHeldReceiver(t)

	var wg sync.WaitGroup
	var mu sync.Mutex
	var busyResults []string
	for range testPerWebhook {
		b := f.signedInAs(f.mia)
		b.csrfToken()
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := builderSendTest(b, f, busy.URL)
			mu.Lock()
			busyResults = append(busyResults, r)
			mu.Unlock()
		}()
	}
	busy.waitHolding(t, testPerWebhook)

	// Another person's test to another URL goes through while those are held.
	b := f.signedInAs(f.admin)
	b.csrfToken()
	result := make(chan string, 1)
	go func() { result <- builderSendTest(b, f, other.URL) }()
	other.letThrough(t, 1, 1)
	if r := <-result; !strings.Contains(r, "It works") {
		t.Errorf("Send test to another URL: %q, want It works", r)
	}
	mu.Lock()
	ended := busyResults
	mu.Unlock()
	if len(ended) > 0 {
		t.Errorf("the Send test to another URL waited for the busy URL's tests to end (%q): they share one limit", ended)
		wg.Wait() // the rest end too, when the client gives up on them
		return
	}

	busy.letThrough(t, testPerWebhook, testPerWebhook)
	wg.Wait()
	for _, r := range busyResults {
		if !strings.Contains(r, "It works") {
			t.Errorf("Send test to the busy URL: %q, want It works", r)
		}
	}
}
