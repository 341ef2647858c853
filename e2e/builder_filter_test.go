package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserBuilderOnlyWhen builds a filter with the builder's "Only when…" section the way
// a person would: picking "Current value → status" from the fields of recent events, typing
// the value, and watching the preview say how many of the last 20 matching events would
// have been sent and why each other one was left out; then narrowing it with a second
// condition, saving, and seeing only the events that pass reach the receiver.
func TestBrowserBuilderOnlyWhen(t *testing.T) {
	ctx := newTab(t)
	srv := startServer(t, "--allow-private-targets")
	var mu sync.Mutex
	var received []map[string]any
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		_ = json.NewDecoder(r.Body).Decode(&v)
		mu.Lock()
		received = append(received, v)
		mu.Unlock()
	}))
	defer recv.Close()

	setupAdmin(t, ctx, srv)
	token := createToken(t, ctx, srv)
	// A custom type of its own, so the demo's random events never mix in.
	apiCall(t, srv, token, "POST", "/event-types", map[string]any{"name": "ORDER_UPDATED", "label": "Order updated", "category": "Shop"}, 201)
	var projects struct {
		Data []struct{ ID, Name string } `json:"data"`
	}
	apiDecode(t, apiCall(t, srv, token, "GET", "/projects?limit=500", nil, 200), &projects)
	website := ""
	for _, p := range projects.Data {
		if p.Name == "Website" {
			website = p.ID
		}
	}
	if website == "" {
		t.Fatalf("no Website project among %v", projects.Data)
	}
	// 20 orders, 7 of them shipped; 3 of those for 100 or more.
	statuses := []string{"Shipped", "Pending", "Pending", "Shipped", "Paid", "Shipped", "Pending", "Paid", "Shipped", "Pending",
		"Pending", "Shipped", "Paid", "Pending", "Shipped", "Pending", "Paid", "Pending", "Shipped", "Pending"}
	for i, st := range statuses {
		total := 40
		if i == 0 || i == 8 || i == 11 || i == 13 { // three shipped, one paid
			total = 150
		}
		apiCall(t, srv, token, "POST", "/events", map[string]any{"event": "ORDER_UPDATED", "projectId": website,
			"previousValue": map[string]any{"status": "New"}, "currentValue": map[string]any{"status": st, "total": total, "id": fmt.Sprintf("ord_%d", i)}}, 202)
	}

	do(t, ctx, "open the builder and choose the orders of the Website",
		chromedp.Navigate(srv.base+"/webhooks/new"),
		chromedp.WaitVisible(chromedp.CSS("#summary")),
		chromedp.SendKeys(inputLabelled("Name"), "Shipped orders"),
		chromedp.SendKeys(inputLabelled("URL to call"), recv.URL+"/shipped"),
		chromedp.Click(chromedp.Search(`//fieldset[legend[contains(., "Acme")]]//label[.//span[starts-with(normalize-space(), "Website")]]`)),
		chromedp.Click(chromedp.Search(`//label[.//strong[normalize-space()="Order updated"]]`)),
	)
	waitPreview(t, ctx, "Of the last 20 matching events, all 20 would have been sent")
	// The fields of the orders' payloads are offered as a person reads them.
	do(t, ctx, "add a second condition", chromedp.Click(chromedp.CSS(`[data-testid="add-condition"]`)))
	waitRows(t, ctx, 2)
	chooseOption(t, ctx, "filter_path_0", "Current value → status")
	chooseOption(t, ctx, "filter_op_0", "is")
	do(t, ctx, "type the status", chromedp.SendKeys(chromedp.CSS("#filter_value_0"), "Shipped\t"))
	waitPreview(t, ctx, "Of the last 20 matching events, 7 would have been sent.")
	rows := visibleTexts(t, ctx, `[data-testid="filter-preview-row"]`)
	if len(rows) != 20 {
		t.Fatalf("the preview lists %d events, want 20: %q", len(rows), rows)
	}
	// Newest first: the last order (a pending one) is left out, and says why.
	if !strings.Contains(rows[0], "Left out") || !strings.Contains(rows[0], "Current value → status is “Shipped” did not hold (it was “Pending”)") {
		t.Errorf("the newest event's row reads %q, want it left out with the condition and the value it saw", rows[0])
	}
	if !strings.Contains(rows[1], "Sent") || strings.Contains(rows[1], "did not hold") {
		t.Errorf("the second newest (shipped) reads %q, want it sent", rows[1])
	}
	waitSummary(t, ctx, "only when Current value → status is “Shipped”")

	chooseOption(t, ctx, "filter_path_1", "Current value → total")
	chooseOption(t, ctx, "filter_op_1", "is at least")
	do(t, ctx, "type the least total", chromedp.SendKeys(chromedp.CSS("#filter_value_1"), "100\t"))
	waitPreview(t, ctx, "Of the last 20 matching events, 3 would have been sent.")
	waitSummary(t, ctx, "only when Current value → status is “Shipped” and Current value → total is at least 100")
	shootIfAsked(t, ctx, "builder-only-when")

	do(t, ctx, "save",
		chromedp.Click(button("Create webhook")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="webhook-filter"]`)),
	)
	if got := text(t, ctx, `[data-testid="webhook-filter"]`); got != "Current value → status is “Shipped” and Current value → total is at least 100." {
		t.Errorf("the webhook page says %q", got)
	}
	shootIfAsked(t, ctx, "webhook-only-when")
	for _, o := range []map[string]any{{"status": "Shipped", "total": 120, "id": "ord_big"}, {"status": "Shipped", "total": 10, "id": "ord_small"},
		{"status": "Pending", "total": 500, "id": "ord_pending"}} {
		apiCall(t, srv, token, "POST", "/events", map[string]any{"event": "ORDER_UPDATED", "projectId": website, "currentValue": o}, 202)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(received)
		mu.Unlock()
		if n >= 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // anything else on its way arrives too
	mu.Lock()
	defer mu.Unlock()
	if len(received) != 1 || received[0]["currentValue"].(map[string]any)["id"] != "ord_big" {
		t.Errorf("the receiver got %v, want only the big shipped order", received)
	}
}

// chooseOption picks, in the select with the given id, the option a person reads as label,
// as choosing it does (the change event included).
func chooseOption(t *testing.T, ctx context.Context, id, label string) {
	t.Helper()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		const s = document.getElementById(%q);
		const o = s && [...s.options].find(o => o.text.trim() === %q);
		if (!o || !s.checkVisibility()) return false;
		s.value = o.value;
		s.dispatchEvent(new Event("change", {bubbles: true}));
		return true;
	})()`, id, label)))
	if err != nil || !ok {
		opts, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(`[...(document.getElementById(%q)?.options ?? [])].map(o => o.text)`, id)))
		t.Fatalf("choose %q in #%s: not offered among %q (%v)", label, id, opts, err)
	}
}

// waitPreview waits until the preview's sentence contains want.
func waitPreview(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const e = document.querySelector('[data-testid="filter-preview-text"]');
			return e && e.checkVisibility() ? e.innerText : ''; })()`))
		if err != nil {
			t.Fatal(err)
		}
		if last = s; strings.Contains(s, want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the preview never said %q; it reads %q", want, last)
}

// waitRows waits until the section shows n condition rows.
func waitRows(t *testing.T, ctx context.Context, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if len(visibleTexts(t, ctx, `[data-testid="filter-row"]`)) == n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the section never showed %d conditions", n)
}

// visibleTexts is the text of every visible element matching css.
func visibleTexts(t *testing.T, ctx context.Context, css string) []string {
	t.Helper()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(
		`[...document.querySelectorAll(%q)].filter(e => e.checkVisibility()).map(e => e.innerText.replace(/\s+/g, " ").trim())`, css)))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// createToken makes an API token through the tokens page and returns it.
func createToken(t *testing.T, ctx context.Context, srv *server) string {
	t.Helper()
	do(t, ctx, "create an API token",
		chromedp.Navigate(srv.base+"/settings/tokens"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/settings/tokens"]`)),
		chromedp.SendKeys(inputLabelled("What is it for?"), "Order system"),
		chromedp.Click(button("Create token")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="token-secret"]`)),
	)
	tok, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="token-secret"]').value`))
	if err != nil || !strings.HasPrefix(tok, "hyk_") {
		t.Fatalf("token shown %q (%v)", tok, err)
	}
	return tok
}

// apiCall calls the JSON API with token and fails t unless it answers want.
func apiCall(t *testing.T, srv *server, token, method, path string, body any, want int) []byte {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, srv.base+"/api/v1"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, out)
	}
	return out
}

func apiDecode(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}

// shootIfAsked saves the page at each screenshot width when $SCREENSHOT_DIR is set.
func shootIfAsked(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, w := range screenshotWidths {
		saveScreenshot(t, ctx, filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, w.width)), w.width, w.height, w.mobile)
	}
	do(t, ctx, "restore the desktop window", chromedp.EmulateViewport(1280, 800))
}
