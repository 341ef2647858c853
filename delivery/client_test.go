package delivery_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"hookyard/delivery"
)

const testUserAgent = "Hookyard/test-1.2.3"

// received is one request as a receiver saw it.
type received struct {
	method, path string
	header       http.Header
	body         []byte
}

// receiver is a real HTTP server that records every request it gets.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.reqs...)
}

func (r *receiver) wrap(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, received{req.Method, req.URL.Path, req.Header.Clone(), body})
		r.mu.Unlock()
		h(w, req)
	}
}

// newReceiver starts a loopback server answering with h (200 when h is nil).
func newReceiver(t *testing.T, h http.HandlerFunc) *receiver {
	t.Helper()
	r := &receiver{}
	if h == nil {
		h = func(http.ResponseWriter, *http.Request) {}
	}
	r.Server = httptest.NewServer(r.wrap(h))
	t.Cleanup(r.Close)
	return r
}

// newReceiverOn is newReceiver on a chosen listen address; it skips when the address family
// is unavailable.
func newReceiverOn(t *testing.T, network, addr string, h http.HandlerFunc) *receiver {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("cannot listen on %s %s: %v", network, addr, err)
	}
	r := &receiver{}
	if h == nil {
		h = func(http.ResponseWriter, *http.Request) {}
	}
	r.Server = httptest.NewUnstartedServer(r.wrap(h))
	r.Listener.Close()
	r.Listener = l
	r.Start()
	t.Cleanup(r.Close)
	return r
}

func respond(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func loopbackClient(timeout time.Duration) *delivery.Client {
	return delivery.NewClient(delivery.ClientOptions{AllowPrivate: true, Timeout: timeout, UserAgent: testUserAgent})
}

func testRequest(u string, body []byte, secrets ...string) delivery.Request {
	if len(secrets) == 0 {
		secrets = []string{katSecret}
	}
	return delivery.Request{URL: u, Secrets: secrets, MessageID: "dlv_01TEST", Event: "TODO_MOVED", Attempt: 3, Body: body}
}

func send(t *testing.T, c *delivery.Client, u string) delivery.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.Send(ctx, testRequest(u, []byte(`{"id":"evt_1"}`)))
}

func TestSendSuccess(t *testing.T) {
	rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Receiver", "yes")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"ok":true}`)
	})
	body := []byte(`{"id":"evt_1","event":"TODO_MOVED","currentValue":{"name":"Ünïcode & <tags>"}}`)
	secret := delivery.NewSecret()
	before := time.Now()
	res := loopbackClient(5*time.Second).Send(context.Background(), testRequest(rcv.URL+"/hook?x=1", body, secret))

	if !res.OK() || res.Error != "" {
		t.Fatalf("OK() = %t, Error = %q, want success", res.OK(), res.Error)
	}
	if res.StatusCode != http.StatusOK || res.Cause != "2xx" {
		t.Errorf("StatusCode = %d, cause %q; want 200, 2xx", res.StatusCode, res.Cause)
	}
	if res.Duration <= 0 {
		t.Errorf("Duration = %v, want > 0", res.Duration)
	}
	if res.StartedAt.Before(before.Add(-time.Second)) || res.StartedAt.After(time.Now()) {
		t.Errorf("StartedAt = %v, not the time of this attempt", res.StartedAt)
	}
	if string(res.ResponseBody) != `{"ok":true}` || res.Truncated {
		t.Errorf("ResponseBody = %q (truncated %t), want the receiver's answer", res.ResponseBody, res.Truncated)
	}
	if got := res.ResponseHeaders.Get("X-Receiver"); got != "yes" {
		t.Errorf("ResponseHeaders X-Receiver = %q, want yes", got)
	}

	reqs := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	got := reqs[0]
	if got.method != http.MethodPost || got.path != "/hook" {
		t.Errorf("request = %s %s, want POST /hook", got.method, got.path)
	}
	if !bytes.Equal(got.body, body) {
		t.Errorf("receiver got body %q, want exactly %q", got.body, body)
	}
	wantHeaders := map[string]string{
		"Content-Type":       "application/json",
		"User-Agent":         testUserAgent,
		"X-Hookyard-Event":   "TODO_MOVED",
		"X-Hookyard-Attempt": "3",
		"webhook-id":         "dlv_01TEST",
		"X-Signature":        hexHMAC(secret, body),
	}
	for name, want := range wantHeaders {
		if v := got.header.Get(name); v != want {
			t.Errorf("received %s = %q, want %q", name, v, want)
		}
	}
	ts, err := strconv.ParseInt(got.header.Get("webhook-timestamp"), 10, 64)
	if err != nil || ts < before.Unix() || ts > time.Now().Unix() {
		t.Errorf("received webhook-timestamp = %q, want the Unix seconds of this attempt", got.header.Get("webhook-timestamp"))
	}
	if !strings.HasPrefix(got.header.Get("webhook-signature"), "v1,") {
		t.Errorf("received webhook-signature = %q, want v1,…", got.header.Get("webhook-signature"))
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(got.body, got.header); err != nil {
		t.Errorf("the receiver cannot verify the request with the standard-webhooks library: %v", err)
	}
	// What is stored as the attempt's request headers is what was sent.
	for _, name := range []string{"Content-Type", "User-Agent", "X-Hookyard-Event", "X-Hookyard-Attempt", "webhook-id", "webhook-timestamp", "webhook-signature", "X-Signature"} {
		if a, b := res.RequestHeaders.Get(name), got.header.Get(name); a != b || a == "" {
			t.Errorf("Result.RequestHeaders %s = %q, receiver saw %q", name, a, b)
		}
	}
	if !hmac.Equal([]byte(res.RequestHeaders.Get("X-Signature")), []byte(hexHMAC(secret, body))) {
		t.Errorf("Result.RequestHeaders X-Signature is not the body's HMAC")
	}
}

func TestSendAny2xxSucceeds(t *testing.T) {
	for _, status := range []int{200, 201, 202, 204, 299} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			rcv := newReceiver(t, respond(status, ""))
			res := send(t, loopbackClient(5*time.Second), rcv.URL)
			if !res.OK() || res.StatusCode != status || res.Error != "" {
				t.Errorf("status %d: OK() = %t, StatusCode = %d, Error = %q; want success", status, res.OK(), res.StatusCode, res.Error)
			}
		})
	}
}

func TestSendFailureStatuses(t *testing.T) {
	tests := []struct {
		status           int
		wantError, cause string
	}{
		{500, "HTTP 500 Internal Server Error", "5xx"},
		{410, "HTTP 410 Gone", "4xx"},
		{404, "HTTP 404 Not Found", "4xx"},
		{400, "HTTP 400 Bad Request", "4xx"},
		{502, "HTTP 502 Bad Gateway", "5xx"},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			rcv := newReceiver(t, respond(tt.status, "upstream says no"))
			res := send(t, loopbackClient(5*time.Second), rcv.URL)
			if res.OK() {
				t.Errorf("OK() = true for %d", tt.status)
			}
			if res.Error != tt.wantError {
				t.Errorf("Error = %q, want %q", res.Error, tt.wantError)
			}
			if res.Cause != tt.cause {
				t.Errorf("Cause = %q, want the status class %q", res.Cause, tt.cause)
			}
			if res.StatusCode != tt.status {
				t.Errorf("StatusCode = %d, want %d", res.StatusCode, tt.status)
			}
			if string(res.ResponseBody) != "upstream says no" {
				t.Errorf("ResponseBody = %q, want the receiver's answer kept for the inspector", res.ResponseBody)
			}
			if res.RetryAfter != 0 {
				t.Errorf("RetryAfter = %v without a Retry-After header", res.RetryAfter)
			}
			if len(rcv.requests()) != 1 {
				t.Errorf("receiver got %d requests, want 1", len(rcv.requests()))
			}
		})
	}
}

func TestSendDoesNotFollowRedirects(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			target := newReceiver(t, nil)
			location := target.URL + "/final"
			rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, location, status)
			})
			res := send(t, loopbackClient(5*time.Second), rcv.URL)
			if res.OK() {
				t.Errorf("OK() = true for a %d redirect", status)
			}
			if res.StatusCode != status || res.Cause != "3xx" {
				t.Errorf("StatusCode = %d, cause %q; want %d, 3xx", res.StatusCode, res.Cause, status)
			}
			if !strings.Contains(res.Error, "redirect") || !strings.Contains(res.Error, location) {
				t.Errorf("Error = %q, want it to mention the redirect to %s", res.Error, location)
			}
			if n := len(target.requests()); n != 0 {
				t.Errorf("redirect target received %d requests, want none", n)
			}
		})
	}
}

func TestSendRetryAfter(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		header   func() string
		min, max time.Duration
	}{
		{"429 seconds", 429, func() string { return "120" }, 120 * time.Second, 120 * time.Second},
		{"503 seconds", 503, func() string { return "7" }, 7 * time.Second, 7 * time.Second},
		// An HTTP date has whole seconds, and a moment passes before it is read.
		{"429 HTTP date", 429, func() string { return time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat) }, 85 * time.Second, 90 * time.Second},
		{"503 HTTP date", 503, func() string { return time.Now().Add(10 * time.Minute).UTC().Format(http.TimeFormat) }, 10*time.Minute - 5*time.Second, 10 * time.Minute},
		{"503 date in the past", 503, func() string { return time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat) }, 0, 0},
		{"503 unreadable", 503, func() string { return "soon" }, 0, 0},
		{"429 absent", 429, func() string { return "" }, 0, 0},
		{"503 negative", 503, func() string { return "-5" }, 0, 0},
		// "Much later": the caller caps it at 1 h, so it must not come back small or negative.
		{"429 huge seconds", 429, func() string { return "9999999999" }, time.Hour, time.Duration(1<<63 - 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
				if v := tt.header(); v != "" {
					w.Header().Set("Retry-After", v)
				}
				w.WriteHeader(tt.status)
			})
			res := send(t, loopbackClient(5*time.Second), rcv.URL)
			if res.OK() || res.StatusCode != tt.status {
				t.Errorf("OK() = %t, StatusCode = %d; want failure with %d", res.OK(), res.StatusCode, tt.status)
			}
			if want := fmt.Sprintf("HTTP %d %s", tt.status, http.StatusText(tt.status)); res.Error != want {
				t.Errorf("Error = %q, want %q", res.Error, want)
			}
			if res.RetryAfter < tt.min || res.RetryAfter > tt.max {
				t.Errorf("RetryAfter = %v, want between %v and %v", res.RetryAfter, tt.min, tt.max)
			}
		})
	}
}

func TestSendKeepsAtMost16KiBOfTheAnswer(t *testing.T) {
	for _, size := range []int{0, 100, 16384, 16385, 20 * 1024, 1 << 20} {
		for _, status := range []int{200, 500} {
			t.Run(fmt.Sprintf("%d bytes %d", size, status), func(t *testing.T) {
				answer := make([]byte, size)
				for i := range answer {
					answer[i] = 'a' + byte(i%26)
				}
				rcv := newReceiver(t, respond(status, string(answer)))
				res := send(t, loopbackClient(5*time.Second), rcv.URL)
				if res.StatusCode != status {
					t.Fatalf("StatusCode = %d, want %d (Error %q)", res.StatusCode, status, res.Error)
				}
				wantLen, wantTrunc := size, false
				if size > 16384 {
					wantLen, wantTrunc = 16384, true
				}
				if len(res.ResponseBody) != wantLen || res.Truncated != wantTrunc {
					t.Errorf("kept %d bytes (truncated %t), want %d (truncated %t)", len(res.ResponseBody), res.Truncated, wantLen, wantTrunc)
				}
				if !bytes.Equal(res.ResponseBody, answer[:len(res.ResponseBody)]) {
					t.Errorf("kept bytes are not the start of the answer")
				}
				if status == 200 && !res.OK() {
					t.Errorf("a large 2xx answer is not a success: %q", res.Error)
				}
			})
		}
	}
}

func TestSendTimeout(t *testing.T) {
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	start := time.Now()
	res := send(t, loopbackClient(200*time.Millisecond), rcv.URL)
	elapsed := time.Since(start)
	if res.OK() || res.StatusCode != 0 {
		t.Errorf("OK() = %t, StatusCode = %d; want a failure without an answer", res.OK(), res.StatusCode)
	}
	if !strings.Contains(res.Error, "timed out") || res.Cause != delivery.CauseTimeout {
		t.Errorf("Error = %q, cause %q; want a plain 'timed out', cause timeout", res.Error, res.Cause)
	}
	if strings.Contains(res.Error, "context deadline") || strings.Contains(res.Error, "Client.Timeout") {
		t.Errorf("Error = %q leaks Go error text", res.Error)
	}
	if elapsed < 150*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("Send took %v with a 200ms timeout", elapsed)
	}
	if res.Duration < 150*time.Millisecond {
		t.Errorf("Duration = %v, want about the timeout", res.Duration)
	}
}

func TestSendSlowBodyAfter2xxIsFailure(t *testing.T) {
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	res := send(t, loopbackClient(300*time.Millisecond), rcv.URL)
	if res.OK() || res.Error == "" {
		t.Errorf("OK() = %t, Error = %q; a 2xx whose answer does not finish within the timeout is a failure", res.OK(), res.Error)
	}
}

func TestSendTransportFailures(t *testing.T) {
	tls := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	tls.Config.ErrorLog = log.New(io.Discard, "", 0) // the expected handshake failure is not news
	tls.StartTLS()
	t.Cleanup(tls.Close)
	hangup := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(hangup.Close)
	tests := []struct {
		name   string
		url    string
		want   []string // any of these
		causes []string // any of these
	}{
		{"untrusted certificate", tls.URL, []string{"certificate"}, []string{delivery.CauseTLS}},
		{"plain HTTP server spoken to over TLS", strings.Replace(hangup.URL, "http://", "https://", 1), []string{"TLS", "HTTPS", "certificate", "closed", "reset"},
			[]string{delivery.CauseTLS, delivery.CauseClosed, delivery.CauseReset}},
		{"connection closed without an answer", hangup.URL, []string{"closed before an answer", "reset"}, []string{delivery.CauseClosed, delivery.CauseReset}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := send(t, loopbackClient(5*time.Second), tt.url)
			if res.OK() || res.StatusCode != 0 {
				t.Fatalf("OK() = %t, StatusCode = %d; want a failure without an answer", res.OK(), res.StatusCode)
			}
			if !slices.Contains(tt.causes, res.Cause) {
				t.Errorf("Cause = %q (%s), want one of %q", res.Cause, res.Error, tt.causes)
			}
			for _, w := range tt.want {
				if strings.Contains(res.Error, w) {
					return
				}
			}
			t.Errorf("Error = %q, want it to mention one of %q", res.Error, tt.want)
		})
	}
}

func TestSendConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	res := send(t, loopbackClient(5*time.Second), "http://"+addr+"/hook")
	if res.OK() || res.StatusCode != 0 {
		t.Errorf("OK() = %t, StatusCode = %d; want a failure without an answer", res.OK(), res.StatusCode)
	}
	if !strings.Contains(res.Error, "Connection refused") || res.Cause != delivery.CauseRefused {
		t.Errorf("Error = %q, cause %q; want 'Connection refused', cause refused", res.Error, res.Cause)
	}
}

func TestSendUnknownHost(t *testing.T) {
	for _, allow := range []bool{false, true} {
		c := delivery.NewClient(delivery.ClientOptions{AllowPrivate: allow, Timeout: 5 * time.Second, UserAgent: testUserAgent})
		res := send(t, c, "https://does-not-exist.invalid/hook")
		if res.OK() || res.StatusCode != 0 {
			t.Errorf("OK() = %t, StatusCode = %d; want a failure without an answer", res.OK(), res.StatusCode)
		}
		if !strings.Contains(res.Error, "DNS") || !strings.Contains(res.Error, "does-not-exist.invalid") || res.Cause != delivery.CauseDNS {
			t.Errorf("allowPrivate=%t: Error = %q, cause %q; want a DNS error naming the host, cause dns", allow, res.Error, res.Cause)
		}
	}
}

// proxyChildEnv marks the re-executed test binary that checks proxy use in a fresh process:
// net/http reads the proxy environment once per process, so a check after other tests have
// sent requests could pass for the wrong reason.
const proxyChildEnv = "HOOKYARD_TEST_PROXY_CHILD"

// proxyProbeURL is not loopback (Go never proxies loopback) and does not resolve, so
// without a proxy the request fails at DNS, and with one it reaches the proxy.
const proxyProbeURL = "http://hookyard-proxy-probe.invalid/hook"

func TestSendIgnoresEnvironmentProxy(t *testing.T) {
	if os.Getenv(proxyChildEnv) == "1" {
		res := send(t, loopbackClient(5*time.Second), proxyProbeURL)
		if res.OK() {
			t.Errorf("request to %s succeeded: it went through the environment's proxy", proxyProbeURL)
		}
		// The environment really does name a proxy for this URL.
		req, _ := http.NewRequest(http.MethodPost, proxyProbeURL, nil)
		if p, err := http.ProxyFromEnvironment(req); err != nil || p == nil {
			t.Errorf("test setup: environment proxy for %s = %v, %v; want the recording proxy", proxyProbeURL, p, err)
		}
		return
	}
	proxy := newReceiver(t, respond(200, "proxied"))
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"} {
		t.Setenv(k, proxy.URL)
	}
	for _, k := range []string{"NO_PROXY", "no_proxy"} {
		t.Setenv(k, "")
	}
	res := send(t, loopbackClient(5*time.Second), proxyProbeURL)
	if res.OK() {
		t.Errorf("request to %s succeeded: it went through the environment's proxy", proxyProbeURL)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestSendIgnoresEnvironmentProxy$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), proxyChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("fresh-process check failed: %v\n%s", err, out)
	}
	if n := len(proxy.requests()); n != 0 {
		t.Errorf("the environment's proxy received %d requests, want none", n)
	}
}

func TestSendRefusesPrivateTargets(t *testing.T) {
	v4 := newReceiver(t, nil)
	_, port, _ := net.SplitHostPort(v4.Listener.Addr().String())
	tests := []struct {
		name     string
		url      func(t *testing.T) (string, *receiver)
		loopback bool // reachable here when private targets are allowed
	}{
		{"127.0.0.1", func(*testing.T) (string, *receiver) { return v4.URL + "/hook", v4 }, true},
		{"localhost", func(*testing.T) (string, *receiver) { return "http://localhost:" + port + "/hook", v4 }, true},
		{"IPv4-mapped ::ffff:127.0.0.1", func(*testing.T) (string, *receiver) { return "http://[::ffff:127.0.0.1]:" + port + "/hook", v4 }, true},
		{"::1", func(t *testing.T) (string, *receiver) {
			v6 := newReceiverOn(t, "tcp6", "[::1]:0", nil)
			return v6.URL + "/hook", v6
		}, true},
		{"0.0.0.0 (this host)", func(*testing.T) (string, *receiver) { return "http://0.0.0.0:" + port + "/hook", v4 }, false},
		{"10.0.0.1", func(*testing.T) (string, *receiver) { return "http://10.0.0.1/hook", nil }, false},
		{"192.168.1.1", func(*testing.T) (string, *receiver) { return "https://192.168.1.1:8443/hook", nil }, false},
		{"169.254.169.254 metadata", func(*testing.T) (string, *receiver) { return "http://169.254.169.254/latest/meta-data", nil }, false},
		{"100.64.0.1 CGNAT", func(*testing.T) (string, *receiver) { return "http://100.64.0.1/hook", nil }, false},
		{"fd00::1 unique local", func(*testing.T) (string, *receiver) { return "http://[fd00::1]/hook", nil }, false},
		{"fe80::1 link-local", func(*testing.T) (string, *receiver) { return "http://[fe80::1]:8080/hook", nil }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/refused", func(t *testing.T) {
			u, target := tt.url(t)
			before := 0
			if target != nil {
				before = len(target.requests())
			}
			c := delivery.NewClient(delivery.ClientOptions{Timeout: 3 * time.Second, UserAgent: testUserAgent})
			start := time.Now()
			res := send(t, c, u)
			if res.OK() || res.StatusCode != 0 {
				t.Errorf("OK() = %t, StatusCode = %d; want refused", res.OK(), res.StatusCode)
			}
			if !strings.Contains(res.Error, "private or internal address") || res.Cause != delivery.CauseBlocked {
				t.Errorf("Error = %q, cause %q; want the plain 'private or internal address' refusal, cause blocked", res.Error, res.Cause)
			}
			if target != nil {
				if n := len(target.requests()) - before; n != 0 {
					t.Errorf("target received %d requests, want none", n)
				}
			}
			// Refused before connecting, not after a connect timeout.
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("refusal took %v", d)
			}
		})
		if !tt.loopback {
			continue
		}
		t.Run(tt.name+"/allowed", func(t *testing.T) {
			u, target := tt.url(t)
			before := len(target.requests())
			res := send(t, loopbackClient(5*time.Second), u)
			if !res.OK() {
				t.Errorf("with AllowPrivate: OK() = false, Error = %q", res.Error)
			}
			if n := len(target.requests()) - before; n != 1 {
				t.Errorf("target received %d requests, want 1", n)
			}
		})
	}
}

func TestSendRejectsUnusableURL(t *testing.T) {
	res := loopbackClient(time.Second).Send(context.Background(), testRequest("http://exa mple.com/\x7f", []byte("{}")))
	if res.OK() || res.Error == "" {
		t.Errorf("OK() = %t, Error = %q; want a failure for a malformed URL", res.OK(), res.Error)
	}
}

func TestCheckURL(t *testing.T) {
	const (
		refused    = "private or loopback address"
		anyProblem = " "
	)
	long := "https://example.com/" + strings.Repeat("a", 2000)
	tests := []struct {
		raw          string
		allowPrivate bool
		want         string // "" for acceptable, else a substring of the problem
	}{
		{"", false, "Enter the URL"},
		{"   ", false, anyProblem},
		{"ftp://example.com/hook", false, "https://"},
		{"file:///etc/passwd", false, "https://"},
		{"javascript:alert(1)", false, "https://"},
		{"example.com/hook", false, "https://"},
		{"http://", false, "host name"},
		{"https:///path", false, "host name"},
		{"https://user:pass@example.com/hook", false, "password"},
		{"https://token@example.com/hook", false, "password"},
		{"http://exa mple.com/", false, "not a valid URL"},
		{long, false, "2000"},
		{"http://localhost/x", false, refused},
		{"http://localhost/x", true, ""},
		{"http://LOCALHOST:8080/x", false, refused},
		{"http://127.0.0.1", false, refused},
		{"http://127.0.0.1:9000/hook", true, ""},
		{"http://[::1]/", false, refused},
		{"http://[::ffff:127.0.0.1]/", false, refused},
		{"http://0.0.0.0/", false, refused},
		{"http://169.254.169.254/latest/meta-data", false, refused},
		{"http://169.254.169.254/latest/meta-data", true, ""},
		{"http://10.1.2.3", false, refused},
		{"http://172.16.0.1/", false, refused},
		{"http://192.168.0.10/", false, refused},
		{"http://100.64.0.1/", false, refused},
		{"http://[fd00::1]/", false, refused},
		{"https://93.184.216.34/ok", false, ""},
		{"https://93.184.216.34:8443/ok?x=1", false, ""},
		{"http://[2606:4700:4700::1111]/hook", false, ""},
		// Unresolvable now: the dial-time guard decides when sending.
		{"https://does-not-exist.invalid/hook", false, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.60s/allowPrivate=%t", tt.raw, tt.allowPrivate), func(t *testing.T) {
			got := delivery.CheckURL(context.Background(), tt.raw, tt.allowPrivate)
			switch {
			case tt.want == "" && got != "":
				t.Errorf("CheckURL(%q) = %q, want it accepted", tt.raw, got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("CheckURL(%q) = %q, want a problem mentioning %q", tt.raw, got, tt.want)
			}
		})
	}
}

// Every spelling of a refused address that the HTTP client or the resolver would dial is
// refused at save time too (SPEC §2), and allowed with --allow-private-targets.
func TestCheckURLRefusesEverySpellingOfAPrivateAddress(t *testing.T) {
	spellings := []string{
		"http://127.1/",              // shorthand a.b
		"http://127.0.1/",            // shorthand a.b.c
		"http://0x7f000001/",         // one hex number
		"http://0X7F000001/",         // upper-case hex
		"http://2130706433/",         // one decimal number
		"http://017700000001/",       // one octal number
		"http://0177.0.0.1/",         // octal first part
		"http://0x7f.0.0.1/",         // hex first part
		"http://0x7f.1/",             // hex shorthand
		"http://127.000.000.001/",    // zero-padded (octal zeros)
		"http://127.0.0.1./",         // trailing dot
		"http://127.1.:8080/x",       // shorthand with trailing dot and port
		"http://localhost./",         // absolute name
		"http://LocalHost../",        // case and dots
		"http://hooks.localhost/",    // RFC 6761: every *.localhost is loopback
		"http://１２７.０.０.１/",          // full-width digits
		"http://１２７。０。０。１/",          // full-width digits, ideographic full stops
		"http://ｌｏｃａｌｈｏｓｔ/",          // full-width letters
		"http://[::ffff:127.0.0.1]/", // IPv4-mapped IPv6
		"http://[::ffff:7f00:1]/",    // IPv4-mapped IPv6, hex
		"http://[0:0:0:0:0:ffff:127.0.0.1]/",
		"http://[::127.0.0.1]/", // IPv4-compatible IPv6
		"http://0.0.0.0/",       // this host
		"http://0/",             // this host, one number
		"http://[::]/",          // unspecified IPv6
		"http://[::1]/",
		"http://0xa9fea9fe/latest/meta-data", // 169.254.169.254
		"http://10.1/",                       // 10.0.0.1
		"http://3232235521/",                 // 192.168.0.1
		"http://[fe80::1%25eth0]/",           // link-local with a zone
	}
	for _, raw := range spellings {
		t.Run(raw, func(t *testing.T) {
			if got := delivery.CheckURL(context.Background(), raw, false); !strings.Contains(got, "private or loopback address") {
				t.Errorf("CheckURL(%q) = %q, want it refused as a private or loopback address", raw, got)
			}
			if got := delivery.CheckURL(context.Background(), raw, true); got != "" {
				t.Errorf("CheckURL(%q) with --allow-private-targets = %q, want it accepted", raw, got)
			}
		})
	}
}

// Hosts that look numeric but stand for no address are refused rather than sent to DNS;
// public addresses in any spelling stay accepted.
func TestCheckURLNumericHosts(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"http://4294967296/", "not a valid one"}, // past 255.255.255.255
		{"http://256.0.0.1/", "not a valid one"},  // a part over 255
		{"http://1.2.3.4.5/", "not a valid one"},  // five parts
		{"http://08.0.0.1/", "not a valid one"},   // 8 is no octal digit
		{"http://1..2/", "not a valid one"},       // empty part
		{"http://10.0x/", "private or loopback"},  // 10.0.0.0
		{"http://0x5db8d822/", ""},                // 93.184.216.34: public
		{"https://1572395042:8443/ok", ""},        // the same, decimal
		{"http://v1.example/hook", ""},            // a name, even with digits
		{"http://0x.example/hook", ""},            // a name, not a number
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got := delivery.CheckURL(context.Background(), tt.raw, false)
			switch {
			case tt.want == "" && got != "":
				t.Errorf("CheckURL(%q) = %q, want it accepted", tt.raw, got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("CheckURL(%q) = %q, want a problem mentioning %q", tt.raw, got, tt.want)
			}
		})
	}
}

// A refusal of a name says that it resolves to a private address, never which one: the
// answer would map the private network for whoever types names.
func TestCheckURLDoesNotSayWhereANameResolves(t *testing.T) {
	got := delivery.CheckURL(context.Background(), "http://localhost:8080/x", false)
	if !strings.Contains(got, "localhost resolves to a private or loopback address") {
		t.Errorf("CheckURL(localhost) = %q, want \"localhost resolves to a private or loopback address\"", got)
	}
	for _, addr := range []string{"127.0.0.1", "::1", "127.0.1.1"} {
		if strings.Contains(got, addr) {
			t.Errorf("CheckURL(localhost) = %q, names the address %s it resolved to", got, addr)
		}
	}
}
