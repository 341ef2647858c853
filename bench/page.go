package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"time"
)

// webhookPage measures the webhook page of a webhook with 1,000,000 attempts in its history
// (200,000 deliveries of 5 attempts, written straight into the database), as a signed-in
// person opens it: the server time of the whole page and of its delivery log.
func (b *bench) webhookPage(db string) error {
	hook, err := b.webhook("History", b.recv.url+"/history")
	if err != nil {
		return err
	}
	eventID, _, err := b.publishOne(b.api)
	if err != nil {
		return err
	}
	const deliveries, perDelivery = 200_000, 5
	start := time.Now()
	if err := seedHistory(db, hook, eventID, deliveries, perDelivery); err != nil {
		return fmt.Errorf("seed the history: %w", err)
	}
	fmt.Fprintf(os.Stderr, "  seeded %d attempts in %v\n", deliveries*perDelivery, time.Since(start).Round(time.Millisecond))

	web, err := b.signIn()
	if err != nil {
		return err
	}
	measure := func(path string) (p50, p95 time.Duration, err error) {
		var d []time.Duration
		for i := range 40 {
			t0 := time.Now()
			resp, err := web.Get(b.srv.base + path)
			if err != nil {
				return 0, 0, err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return 0, 0, fmt.Errorf("GET %s: %d", path, resp.StatusCode)
			}
			if i >= 5 { // the first few warm the caches
				d = append(d, time.Since(t0))
			}
		}
		slices.Sort(d)
		return pct(d, 50), pct(d, 95), nil
	}
	p50, p95, err := measure("/webhooks/" + hook)
	if err != nil {
		return err
	}
	b.fig.WebhookPageMs1MAttempts = ms(p50)
	b.rep.add("webhook_page_ms_1m_attempts", fmt.Sprintf("%.2f ms", ms(p50)), "< 50 ms", check(ms(p50) < 50),
		fmt.Sprintf("median of 35 page loads, p95 %.2f ms; 1,000,000 attempts stored; loopback, so ≈ server time", ms(p95)))
	lp50, lp95, err := measure("/webhooks/" + hook + "/log?status=failed")
	if err != nil {
		return err
	}
	b.rep.add("delivery log (failed)", fmt.Sprintf("%.2f ms", ms(lp50)), "", nil, fmt.Sprintf("p95 %.2f ms", ms(lp95)))
	return b.latencyDuringDelete(hook)
}

// latencyDuringDelete publishes at the steady rate to another webhook while the history
// webhook (1,000,000 attempts) is deleted, and reports that latency: deleting must not
// stall everyone else's deliveries.
func (b *bench) latencyDuringDelete(history string) error {
	live, err := b.webhook("Live", b.recv.url+"/live")
	if err != nil {
		return err
	}
	b.recv.reset(true)
	defer b.recv.setTracking(false)
	deleted := make(chan error, 1)
	var took time.Duration
	go func() {
		time.Sleep(300 * time.Millisecond)
		t0 := time.Now()
		deleted <- b.api.do("DELETE", "/webhooks/"+history, nil, nil, http.StatusNoContent)
		took = time.Since(t0)
	}()
	starts, err := b.steady(b.o.latencyRate, 3*time.Second)
	if err != nil {
		return err
	}
	if err := <-deleted; err != nil {
		return fmt.Errorf("delete the history webhook: %w", err)
	}
	d, err := b.latencies(starts, live)
	if err != nil {
		return err
	}
	slices.Sort(d)
	b.rep.add("latency p99 while deleting 1M attempts", fmt.Sprintf("%.2f ms", ms(pct(d, 99))), "", nil,
		fmt.Sprintf("p50 %.2f ms, max %.2f ms; %d events at %d/s; the delete took %v", ms(pct(d, 50)), ms(d[len(d)-1]),
			len(d), b.o.latencyRate, took.Round(time.Millisecond)))
	return nil
}

// seedHistory writes a long delivery history for one webhook, as months of failures would
// leave it, and marks the webhook as switched off and on again a day ago (so the page also
// counts what could be replayed).
func seedHistory(db, webhook, eventID string, deliveries, perDelivery int) error {
	conn, err := openSeed(db)
	if err != nil {
		return err
	}
	defer conn.Close()
	now := time.Now().UnixMilli()
	tx, err := conn.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO deliveries (id, event_id, webhook_id, event_type, status, attempts, last_status_code, last_error, created_at, updated_at)
		SELECT printf('dlv_0bench%021d', i), ?, ?, 'TODO_CREATED', 'failed', ?, 500, 'HTTP 500 Internal Server Error',
			? - i * 10000, ? - i * 10000 FROM n`, deliveries, eventID, webhook, perDelivery, now, now); err != nil {
		return err
	}
	if _, err := tx.Exec(`WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < ?)
		INSERT INTO attempts (delivery_id, webhook_id, number, started_at, duration_us, request_headers, status_code,
			response_headers, response_body, truncated, error, ok)
		SELECT d.id, d.webhook_id, k.n, d.created_at + k.n, 1500, '{"Content-Type":["application/json"]}', 500, '{}',
			'{"error":"unavailable"}', 0, 'HTTP 500 Internal Server Error', 0
		FROM deliveries d, k WHERE d.webhook_id = ? AND d.id LIKE 'dlv_0bench%'`, perDelivery, webhook); err != nil {
		return err
	}
	if _, err := tx.Exec(`UPDATE webhooks SET last_disabled_at = ? WHERE id = ?`, now-86_400_000, webhook); err != nil {
		return err
	}
	return tx.Commit()
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// signIn returns an HTTP client with a browser session of the bench user.
func (b *bench) signIn() (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	web := &http.Client{Jar: jar, Timeout: time.Minute}
	resp, err := web.Get(b.srv.base + "/login")
	if err != nil {
		return nil, err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(page)
	if m == nil {
		return nil, fmt.Errorf("no CSRF token on the sign-in page")
	}
	resp, err = web.PostForm(b.srv.base+"/login", url.Values{"_csrf": {string(m[1])},
		"email": {"bench@example.com"}, "password": {"bench password"}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK { // redirects were followed to the dashboard
		return nil, fmt.Errorf("sign in: %d", resp.StatusCode)
	}
	return web, nil
}
