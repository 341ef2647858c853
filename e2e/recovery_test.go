package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// TestBrowserRecovery follows a webhook that fails until Hookyard switches it off, then a
// person who finds it on the dashboard, turns it back on with the receiver fixed, gets the
// missed events replayed, and reads an attempt's answer.
func TestBrowserRecovery(t *testing.T) {
	ctx := newTab(t)
	srv := startServer(t, "--allow-private-targets", "--retry-schedule", "30ms,30ms,30ms,30ms")

	var healthy atomic.Bool
	var mu sync.Mutex
	got := map[string]int{} // event id → deliveries that arrived while healthy
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "maintenance")
			return
		}
		var p struct{ ID, Event string }
		_ = json.Unmarshal(body, &p)
		mu.Lock()
		got[p.ID]++
		mu.Unlock()
		_, _ = io.WriteString(w, `{"thanks":"received `+p.Event+`"}`)
	}))
	defer recv.Close()

	setupAdmin(t, ctx, srv)
	do(t, ctx, "create an API token",
		chromedp.Navigate(srv.base+"/settings/tokens"),
		chromedp.SendKeys(inputLabelled("What is it for?"), "platform"),
		chromedp.Click(button("Create token")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="token-secret"]`)),
	)
	token, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="token-secret"]').value`))
	if err != nil || !strings.HasPrefix(token, "hyk_") {
		t.Fatalf("token %q, %v", token, err)
	}
	api := func(method, path string, body any, want int) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, srv.base+"/api/v1"+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %v", method, path, resp.StatusCode, want, out)
		}
		return out
	}
	projects := api(http.MethodGet, "/projects", nil, http.StatusOK)["data"].([]any)
	project := projects[0].(map[string]any)["id"].(string)
	hook := api(http.MethodPost, "/webhooks", map[string]any{"name": "Warehouse sync", "url": recv.URL + "/hook"}, http.StatusCreated)
	hookID := hook["id"].(string)

	publish := func() string {
		return api(http.MethodPost, "/events", map[string]any{"event": "TODO_CHECKLIST_ITEM_ASSIGNEE_REMOVED", "projectId": project,
			"currentValue": map[string]any{"title": "Order more boxes"}}, http.StatusAccepted)["id"].(string)
	}
	first := publish()
	waitFor(t, "the webhook to be switched off", func() bool {
		return api(http.MethodGet, "/webhooks/"+hookID, nil, http.StatusOK)["enabled"] == false
	})
	missed := []string{publish(), publish()}

	do(t, ctx, "see it on the dashboard",
		chromedp.Navigate(srv.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="attention-item"]`)),
	)
	if reason := text(t, ctx, `[data-testid="disabled-reason"]`); !strings.Contains(reason, "5 attempts failed") || !strings.Contains(reason, "HTTP 503") ||
		!strings.Contains(reason, "“Person unassigned from a checklist item”") {
		t.Errorf("the dashboard gives the reason %q, want the event type's label", reason)
	}
	noAPINames(t, ctx, "TODO_CHECKLIST_ITEM_ASSIGNEE_REMOVED")
	atPhoneWidth(t, ctx, func() {
		if out := outsideItsBox(t, ctx, `[data-testid="disabled-reason"]`, `[data-testid="attention-item"]`); out != "" {
			t.Errorf("at 375 px the switch-off reason sticks out of its card: %s", out)
		}
	})
	if got := offMessages(t, ctx); len(got) != 1 {
		t.Errorf("the dashboard tells that Warehouse sync is off in %d places, want once (Needs attention): %q", len(got), got)
	}
	do(t, ctx, "open the switched-off webhook",
		chromedp.Click(chromedp.Search(`//li[@data-testid="attention-item"]//a[normalize-space()="Warehouse sync"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="disabled-notice"]`)),
	)
	if got := offMessages(t, ctx); len(got) != 1 {
		t.Errorf("the switched-off webhook's page tells that it is off in %d places, want once: %q", len(got), got)
	}
	noAPINames(t, ctx, "TODO_CHECKLIST_ITEM_ASSIGNEE_REMOVED")
	do(t, ctx, "back to the dashboard", chromedp.Navigate(srv.base+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="reenable"]`)))

	healthy.Store(true)
	do(t, ctx, "re-enable in place, sending what was missed",
		chromedp.Click(chromedp.CSS(`[data-testid="reenable"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="reenable-result"]`)),
	)
	wantPath(t, ctx, "/")
	if res := text(t, ctx, `[data-testid="reenable-result"]`); !strings.Contains(res, "Back on") || !strings.Contains(res, "3 missed events are being sent") {
		t.Errorf("re-enable result reads %q", res)
	}
	waitFor(t, "the missed events to arrive", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return got[first] > 0 && got[missed[0]] > 0 && got[missed[1]] > 0
	})
	// A later event to the same webhook: once it has arrived and nothing is pending, nothing
	// stored before it (a duplicate) is still on its way.
	sentinel := publish()
	waitFor(t, "the later sentinel event to arrive and nothing to be pending", func() bool {
		mu.Lock()
		in := got[sentinel] > 0
		mu.Unlock()
		return in && len(api(http.MethodGet, "/webhooks/"+hookID+"/deliveries?status=pending", nil, http.StatusOK)["data"].([]any)) == 0
	})
	mu.Lock()
	for _, id := range append([]string{first}, missed...) {
		if got[id] != 1 {
			t.Errorf("event %s arrived %d times after the replay, want once", id, got[id])
		}
	}
	mu.Unlock()

	do(t, ctx, "reload the dashboard", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="all-good"]`)))
	if got := offMessages(t, ctx); len(got) != 0 {
		t.Errorf("back on, the dashboard still says it is off: %q", got)
	}
	do(t, ctx, "open the webhook's page",
		chromedp.Navigate(srv.base+"/webhooks/"+hookID),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="delivery-log"]`)),
	)
	if got := offMessages(t, ctx); len(got) != 0 {
		t.Errorf("back on, the webhook's page still says it is off: %q", got)
	}
	var href string
	waitFor(t, "a delivered row in the log", func() bool {
		href, err = chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('tr[data-testid="log-row"]')]
			.filter(r => r.innerText.includes('Delivered')).map(r => r.querySelector('a').getAttribute('href'))[0] ?? ''`))
		return err == nil && href != ""
	})
	do(t, ctx, "open an attempt",
		chromedp.Click(chromedp.CSS(`tr[data-testid="log-row"] a[href="`+href+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="response-body"]`)),
	)
	if body := text(t, ctx, `[data-testid="response-body"]`); !strings.Contains(body, `"thanks": "received TODO_CHECKLIST_ITEM_ASSIGNEE_REMOVED"`) {
		t.Errorf("the attempt shows the answer %q", body)
	}
	if status := text(t, ctx, `[data-testid="attempt-status"]`); status != "HTTP 200" {
		t.Errorf("the attempt's status reads %q", status)
	}
	// What the page shows as sent passes a receiver's signature check (the Standard Webhooks
	// library, not Hookyard's code).
	body, shown := sentAsShown(t, ctx)
	wh, err := standardwebhooks.NewWebhook(hook["secret"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(body, shown); err != nil {
		t.Errorf("the body and headers the delivery page shows do not verify: %v\nheaders %v\nbody %s", err, shown, body)
	}

	// The first event's delivery failed five times alike: one panel, and a link to the replay
	// that delivered it.
	failedDelivery := ""
	for _, d := range api(http.MethodGet, "/webhooks/"+hookID+"/deliveries?status=failed", nil, http.StatusOK)["data"].([]any) {
		if d := d.(map[string]any); d["eventId"] == first {
			failedDelivery = d["id"].(string)
		}
	}
	if failedDelivery == "" {
		t.Fatalf("no failed delivery of the first event %s", first)
	}
	do(t, ctx, "open it",
		chromedp.Navigate(srv.base+"/deliveries/"+failedDelivery),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="attempt"]`)),
	)
	if panels, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid="attempt"]')].filter(p => p.checkVisibility()).map(p => p.querySelector('h2').innerText)`)); err != nil || len(panels) != 1 || !strings.HasPrefix(panels[0], "Attempts 1–5") {
		t.Errorf("the failed delivery shows the attempt panels %q (%v), want one for attempts 1–5", panels, err)
	}
	do(t, ctx, "follow the link to the replay that delivered it",
		chromedp.Click(chromedp.CSS(`[data-testid="delivered-later"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="original"]`)),
	)
	if got := text(t, ctx, `[data-testid="delivery-summary"]`); !strings.Contains(got, "Delivered") {
		t.Errorf("the replay's page reads %q, want Delivered", got)
	}
}

// sentAsShown reads what the delivery page says was sent: the body, byte for byte as the page
// holds it, and the headers of its table.
func sentAsShown(t *testing.T, ctx context.Context) ([]byte, http.Header) {
	t.Helper()
	body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="payload"]').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](`[...document.querySelectorAll('section[aria-labelledby="payload-h"] table.headers tr')].map(tr => [tr.querySelector('th').innerText, tr.querySelector('td').innerText])`))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for _, r := range rows {
		h.Set(r[0], r[1])
	}
	return []byte(body), h
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// noAPINames fails the test when the page shows a person any of the API names.
func noAPINames(t *testing.T, ctx context.Context, names ...string) {
	t.Helper()
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if strings.Contains(shown, n) {
			t.Errorf("the page %s shows the API name %s to people", location(ctx), n)
		}
	}
}

// atPhoneWidth runs check with the window 375 px wide (a small phone), then restores the
// desktop window.
func atPhoneWidth(t *testing.T, ctx context.Context, check func()) {
	t.Helper()
	do(t, ctx, "narrow the window to 375 px",
		chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Evaluate[chromedp.Void](`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))`, chromedp.EvalAwaitPromise),
	)
	defer do(t, ctx, "restore the desktop window", chromedp.EmulateViewport(1280, 800))
	check()
}

// outsideItsBox says how far the element matching css sticks out of its nearest ancestor
// matching box, or of the window, as a person sees it; "" when it fits.
func outsideItsBox(t *testing.T, ctx context.Context, css, box string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const el = document.querySelector(`+jsString(css)+`);
		if (!el) return "no element " + `+jsString(css)+`;
		const r = el.getBoundingClientRect(), b = el.closest(`+jsString(box)+`).getBoundingClientRect();
		const out = [];
		if (r.right > b.right + 0.5) out.push((r.right - b.right).toFixed(0) + " px past its box's right edge");
		if (r.right > innerWidth + 0.5) out.push((r.right - innerWidth).toFixed(0) + " px past the window");
		if (el.scrollWidth > el.clientWidth + 1) out.push("its text is " + (el.scrollWidth - el.clientWidth) + " px wider than itself");
		return out.join(", ");
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// offMessages are the boxes on screen (notices, badges, state lines, list items) that tell a
// person a webhook is off, outermost only.
func offMessages(t *testing.T, ctx context.Context) []string {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const says = el => el.checkVisibility() && /switched off|still off|turned off|disabled/i.test(el.innerText);
		const boxes = [...document.querySelectorAll('main .notice, main .badge, main .state-line, main li')].filter(says);
		return boxes.filter(b => !boxes.some(o => o !== b && o.contains(b))).map(b => b.innerText.trim());
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestBrowserHealthAfterReenable turns a switched-off webhook back on from its page, with no
// event since, and reads its health as a person would: it says the health check passed and
// when, counts it, and shows no "Never" or old error beside "on".
func TestBrowserHealthAfterReenable(t *testing.T) {
	ctx := newTab(t)
	srv := startServer(t, tourServerFlags...)
	var healthy atomic.Bool
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if !healthy.Load() {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer recv.Close()
	setupAdmin(t, ctx, srv)
	api := newAPIClient(srv.base, browserToken(t, ctx, srv, "platform"))
	var hook, project struct{ ID string }
	var projects struct{ Data []struct{ ID string } }
	api.mustCall(t, http.MethodGet, "/projects", nil, &projects, http.StatusOK)
	project.ID = projects.Data[0].ID
	api.mustCall(t, http.MethodPost, "/webhooks", map[string]any{"name": "Billing export", "url": recv.URL,
		"events": []string{"TODO_CREATED"}, "projectIds": []string{project.ID}}, &hook, http.StatusCreated)
	api.mustCall(t, http.MethodPost, "/events", map[string]any{"event": "TODO_CREATED", "projectId": project.ID}, nil, http.StatusAccepted)
	waitFor(t, "the webhook to be switched off", func() bool {
		var w struct{ Enabled bool }
		api.mustCall(t, http.MethodGet, "/webhooks/"+hook.ID, nil, &w, http.StatusOK)
		return !w.Enabled
	})

	healthy.Store(true)
	do(t, ctx, "turn it back on from its page",
		chromedp.Navigate(srv.base+"/webhooks/"+hook.ID),
		chromedp.Click(button("Check the URL and turn back on")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="state-words"]`)),
	)
	if got := text(t, ctx, `[data-testid="state-words"]`); !strings.Contains(got, "health check passed just now") {
		t.Errorf("back on, the health panel says %q, want when the health check passed", got)
	}
	if got := text(t, ctx, `[data-testid="last-success"]`); got == "Never" || !strings.Contains(got, "health check") {
		t.Errorf("back on, the last success reads %q", got)
	}
	if got := text(t, ctx, `[data-testid="rate-24h"]`); got == "0%" {
		t.Errorf("back on, the success rate reads %q: the passed health check is not counted", got)
	}
	if visible(t, ctx, `[data-testid="last-error"]`) {
		t.Errorf("back on, the page still shows the last error %q", text(t, ctx, `[data-testid="last-error"]`))
	}
	if got := offMessages(t, ctx); len(got) != 0 {
		t.Errorf("back on, the page still says it is off: %q", got)
	}
}

// visible reports, without waiting, whether an element matching css is on screen.
func visible(t *testing.T, ctx context.Context, css string) bool {
	t.Helper()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector(`+jsString(css)+`)?.checkVisibility() ?? false`))
	if err != nil {
		t.Fatal(err)
	}
	return ok
}
