package handlers_test

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"hookyard/handlers"
)

// syncBuffer is a log destination that tests read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// signInFrom tries Mia's sign-in with X-Forwarded-For: client.
func signInFrom(t *testing.T, f *apiFixture, client, password string) int {
	t.Helper()
	b := f.browser().within(t)
	hdr := http.Header{"X-Forwarded-For": {client}}
	return b.postWith("/login", url.Values{"_csrf": {b.csrfToken()}, "email": {f.mia.Email}, "password": {password}}, hdr).StatusCode
}

// X-Forwarded-For names the client only when the connection comes from --trusted-proxies.
func TestTrustedProxies(t *testing.T) {
	t.Run("ignored by default", func(t *testing.T) {
		f := newAPIFixture(t, fewPasswordTries)
		for i := range 3 {
			signInFrom(t, f, "203.0.113.1", "wrong "+strconv.Itoa(i))
		}
		if got := signInFrom(t, f, "203.0.113.2", testPassword); got != http.StatusTooManyRequests {
			t.Errorf("a made-up X-Forwarded-For gave a fresh allowance: status %d, want 429", got)
		}
	})
	t.Run("believed from a trusted proxy", func(t *testing.T) {
		var logs syncBuffer
		f := newAPIFixture(t, fewPasswordTries, func(o *handlers.Options) {
			_, loopback, _ := net.ParseCIDR("127.0.0.0/8") // the test's own connections
			o.TrustedProxies = []*net.IPNet{loopback}
			o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		})
		for i := range 3 {
			signInFrom(t, f, "203.0.113.1", "wrong "+strconv.Itoa(i))
		}
		if got := signInFrom(t, f, "203.0.113.1", testPassword); got != http.StatusTooManyRequests {
			t.Errorf("the guessing client was not held back: status %d, want 429", got)
		}
		if got := signInFrom(t, f, "203.0.113.2", testPassword); got != http.StatusSeeOther {
			t.Errorf("another client behind the proxy was held back too: status %d, want 303", got)
		}
		if !strings.Contains(logs.String(), "client=203.0.113.1") {
			t.Errorf("the request log does not name the forwarded client:\n%s", logs.String())
		}
		// A proxy that is not trusted, in front of the trusted one, is not believed either:
		// the client is the last address the trusted proxies did not add.
		if got := signInFrom(t, f, "203.0.113.3, 203.0.113.1", testPassword); got != http.StatusTooManyRequests {
			t.Errorf("a client prepending an address got a fresh allowance: status %d, want 429", got)
		}

		// The account itself has a cap over all clients: four times the per-client allowance.
		for c := 10; c < 13; c++ { // 3 more clients × 3 wrong guesses, on top of the first 3
			for i := range 3 {
				signInFrom(t, f, "203.0.113."+strconv.Itoa(c), "wrong "+strconv.Itoa(i))
			}
		}
		if got := signInFrom(t, f, "203.0.113.99", testPassword); got != http.StatusTooManyRequests {
			t.Errorf("after 12 wrong guesses from 4 clients a fifth client was let through: status %d, want 429", got)
		}
	})
}

func TestMetricsToken(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hookyard_up 1\n") })
	get := func(t *testing.T, a *testApp, auth string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, a.srv.URL+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusOK && !strings.Contains(string(body), "hookyard_up") {
			t.Errorf("200 without the metrics: %s", body)
		}
		if resp.StatusCode == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("401 without WWW-Authenticate: Bearer")
		}
		return resp.StatusCode
	}
	open := newTestApp(t, func(o *handlers.Options) { o.Metrics = metrics })
	if got := get(t, open, ""); got != http.StatusOK {
		t.Errorf("without --metrics-token: status %d, want 200", got)
	}
	guarded := newTestApp(t, func(o *handlers.Options) { o.Metrics, o.MetricsToken = metrics, "s3cret-metrics-token" })
	for _, tc := range []struct {
		auth string
		want int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer wrong", http.StatusUnauthorized},
		{"Bearer s3cret-metrics-token-and-more", http.StatusUnauthorized},
		{"Basic s3cret-metrics-token", http.StatusUnauthorized},
		{"Bearer s3cret-metrics-token", http.StatusOK},
		{"bearer s3cret-metrics-token", http.StatusOK},
	} {
		if got := get(t, guarded, tc.auth); got != tc.want {
			t.Errorf("Authorization %q: status %d, want %d", tc.auth, got, tc.want)
		}
	}
}

// The HTTP server's figures (hookyard_http_*) count requests by status, method and route
// pattern: never a path with ids in it, nor a host; an error's status is the one answered.
func TestHTTPServerMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := newAPIFixture(t, func(o *handlers.Options) {
		o.MetricsRegisterer, o.Metrics = reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	})
	f.call(t, f.miaToken, http.MethodGet, "/api/v1/webhooks/wh_01jd3k5m7q8r9s0t1v2w3x4y5z", nil, http.StatusNotFound)
	f.call(t, f.miaToken, http.MethodGet, "/api/v1/me", nil, http.StatusOK)
	f.call(t, f.miaToken, http.MethodDelete, "/api/v1/me", nil, http.StatusMethodNotAllowed)
	f.call(t, f.miaToken, http.MethodGet, "/api/v1/usr_secret/nothing", nil, http.StatusNotFound)
	resp, err := http.Get(f.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	text := string(body)
	for _, want := range []string{
		`hookyard_http_requests_total{code="404",host="",method="GET",url="/api/v1/webhooks/:id"} 1`,
		`hookyard_http_requests_total{code="200",host="",method="GET",url="/api/v1/me"} 1`,
		`hookyard_http_requests_total{code="405",host="",method="DELETE",url="/api/v1/*"} 1`,
		`hookyard_http_request_duration_seconds_count{code="200",host="",method="GET",url="/api/v1/me"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics has no line %s", want)
		}
	}
	for _, bad := range []string{"wh_01jd", "usr_secret", "127.0.0.1"} {
		if strings.Contains(text, bad) {
			t.Errorf("/metrics carries %q in a label", bad)
		}
	}
}
