package delivery

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"code.dny.dev/ssrf"
	"golang.org/x/net/idna"
)

// MaxResponseBody is how much of a receiver's answer is kept.
const MaxResponseBody = 16 << 10

// ClientOptions configure outbound requests.
type ClientOptions struct {
	// AllowPrivate lets webhooks call loopback, private, link-local, CGNAT and metadata
	// addresses (--allow-private-targets).
	AllowPrivate bool
	Timeout      time.Duration
	UserAgent    string
	// MaxConnsPerHost bounds connections to one receiver (0: no bound).
	MaxConnsPerHost int
}

// guardian returns the dial-time address check: after DNS resolution, so a name that
// resolves to a private address is refused too (DNS-rebinding safe).
func guardian(allowPrivate bool) *ssrf.Guardian {
	opts := []ssrf.Option{ssrf.WithAnyPort()}
	if allowPrivate {
		opts = append(opts,
			ssrf.WithAllowedV4Prefixes(netip.MustParsePrefix("0.0.0.0/0")),
			ssrf.WithAllowedV6Prefixes(netip.MustParsePrefix("::/0")))
	}
	return ssrf.New(opts...)
}

// Client sends signed webhook requests through the outbound guard.
type Client struct {
	http         *http.Client
	guard        *ssrf.Guardian
	userAgent    string
	timeout      time.Duration
	allowPrivate bool
	local        atomic.Pointer[localRoute]
}

// localRoute sends requests for URLs under prefix to a handler in this process.
type localRoute struct {
	prefix  string
	handler http.Handler
}

// ServeLocally sends requests for URLs that start with prefix straight to h, in-process,
// without the network: this server's own request inspector then works while the outbound
// guard still refuses every other private address.
func (c *Client) ServeLocally(prefix string, h http.Handler) {
	c.local.Store(&localRoute{prefix: prefix, handler: h})
}

// isLocal reports whether a URL is served in-process.
func (c *Client) isLocal(raw string) bool {
	l := c.local.Load()
	return l != nil && strings.HasPrefix(raw, l.prefix) && len(raw) > len(l.prefix)
}

// CheckURL is the package CheckURL with this client's settings: private targets as
// configured, and this server's own inspector always allowed.
func (c *Client) CheckURL(ctx context.Context, raw string) string {
	return CheckURL(ctx, raw, c.allowPrivate || c.isLocal(strings.TrimSpace(raw)))
}

// roundTrip routes local URLs to the in-process handler and the rest to the network.
type roundTrip struct {
	c    *Client
	next http.RoundTripper
}

func (rt roundTrip) RoundTrip(req *http.Request) (*http.Response, error) {
	if l := rt.c.local.Load(); l != nil && rt.c.isLocal(req.URL.String()) {
		rec := httptest.NewRecorder()
		l.handler.ServeHTTP(rec, req.WithContext(req.Context()))
		resp := rec.Result()
		resp.Request = req
		return resp, nil
	}
	return rt.next.RoundTrip(req)
}

// NewClient builds the outbound client: no proxy from the environment, no redirects,
// a timeout per request, addresses checked at dial time.
func NewClient(o ClientOptions) *Client {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	g := guardian(o.AllowPrivate)
	dialer := &net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second, Control: g.Safe}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   64,
		MaxConnsPerHost:       o.MaxConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   o.Timeout,
		ResponseHeaderTimeout: o.Timeout,
	}
	c := &Client{guard: g, userAgent: o.UserAgent, timeout: o.Timeout, allowPrivate: o.AllowPrivate}
	c.http = &http.Client{
		Transport:     roundTrip{c: c, next: tr},
		Timeout:       o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// Request is one signed POST to send.
type Request struct {
	URL       string
	Secrets   []string // current first, then rotated-out ones still signing (newest first)
	MessageID string   // webhook-id: stable across retries, resends and replays
	Event     string
	Attempt   int
	Body      []byte
	// Headers are the webhook's extra request headers (SPEC §9), already checked
	// (CheckHeaders); Hookyard's own headers are set after them and always win.
	Headers map[string]string
}

// Result is what happened to one attempt, ready to be stored and shown.
type Result struct {
	StartedAt       time.Time
	Duration        time.Duration
	RequestHeaders  http.Header // at most MaxStoredHeaders, as ResponseHeaders
	StatusCode      int         // 0 when no answer arrived
	ResponseHeaders http.Header
	ResponseBody    []byte
	Truncated       bool // the body was longer than MaxResponseBody
	// HeadersTruncated says the request's or the answer's headers were longer than
	// MaxStoredHeaders and only their first part is kept.
	HeadersTruncated bool
	Error            string // plain-language failure, "" on success
	// Cause names what happened in one word, for metrics: the status class (2xx…5xx) of an
	// answer, or timeout, refused, reset, closed, dns, tls, blocked (the outbound guard) or
	// other when none came.
	Cause      string
	RetryAfter time.Duration
}

// Causes of an attempt without an answer (Result.Cause).
const (
	CauseTimeout   = "timeout"
	CauseRefused   = "refused"
	CauseReset     = "reset"
	CauseClosed    = "closed"
	CauseDNS       = "dns"
	CauseTLS       = "tls"
	CauseBlocked   = "blocked"
	CauseCancelled = "cancelled"
	CauseOther     = "other"
)

// statusClass is "2xx" for 200 to 299 and so on; "other" outside 100 to 599.
func statusClass(code int) string {
	if code < 100 || code > 599 {
		return CauseOther
	}
	return strconv.Itoa(code/100) + "xx"
}

// OK reports whether the receiver accepted the request (any 2xx).
func (r Result) OK() bool { return r.Error == "" && r.StatusCode >= 200 && r.StatusCode < 300 }

// Send makes one attempt. It never returns an error: every failure is in Result.Error.
func (c *Client) Send(ctx context.Context, r Request) Result {
	res := Result{StartedAt: time.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		res.Error, res.Cause = "The URL cannot be used: "+err.Error(), CauseOther
		return res
	}
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("X-Hookyard-Event", r.Event)
	req.Header.Set("X-Hookyard-Attempt", strconv.Itoa(r.Attempt))
	if err := Sign(req.Header, r.Secrets, r.MessageID, res.StartedAt, r.Body); err != nil {
		res.Error, res.Cause = "Could not sign the request: "+err.Error(), CauseOther
		return res
	}
	res.RequestHeaders, res.HeadersTruncated = CapHeaders(req.Header, MaxStoredHeaders)
	resp, err := c.http.Do(req)
	if err != nil {
		res.Duration = time.Since(res.StartedAt)
		res.Error, res.Cause = c.explain(err, req.URL)
		return res
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody+1))
	res.Duration = time.Since(res.StartedAt)
	res.StatusCode, res.Cause = resp.StatusCode, statusClass(resp.StatusCode)
	var headersCut bool
	res.ResponseHeaders, headersCut = CapHeaders(resp.Header, MaxStoredHeaders)
	res.HeadersTruncated = res.HeadersTruncated || headersCut
	if len(body) > MaxResponseBody {
		body, res.Truncated = body[:MaxResponseBody], true
	}
	res.ResponseBody = body
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		res.Error = fmt.Sprintf("HTTP %d: the receiver answered with a redirect", resp.StatusCode)
		if loc := resp.Header.Get("Location"); loc != "" {
			res.Error += " to " + shortened(loc, maxErrorLocation)
		}
		res.Error += ". Redirects are not followed; use the final URL."
	case resp.StatusCode < 200 || resp.StatusCode >= 300:
		res.Error = fmt.Sprintf("HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			res.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
	case err != nil:
		res.Error, res.Cause = "The answer was cut off: "+err.Error(), CauseClosed
	}
	return res
}

// maxErrorLocation is the most of a redirect's Location an error message repeats: the message
// is kept with the delivery, the webhook and its owner's notice.
const maxErrorLocation = 500

// shortened is s cut to at most n bytes at a character boundary, with "…" when cut.
func shortened(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// maxRetryAfter caps how long a receiver may ask Hookyard to wait.
const maxRetryAfter = time.Hour

// parseRetryAfter reads seconds or an HTTP date, capped at maxRetryAfter; 0 when absent or
// unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if v != "" && strings.Trim(v, "0123456789") == "" {
		// All digits: seconds. A number too large to parse is "very long", not "none".
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}

// explain turns a transport error into words a non-technical person can act on, and names
// its cause.
func (c *Client) explain(err error, u *url.URL) (string, string) {
	host := u.Host
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	switch {
	case errors.Is(err, ssrf.ErrProhibitedIP):
		return "Refused: " + u.Hostname() + " points to a private or internal address. Hookyard does not call private networks unless it is started with --allow-private-targets.", CauseBlocked
	case errors.Is(err, ssrf.ErrProhibitedNetwork), errors.Is(err, ssrf.ErrProhibitedPort):
		return "Refused by the outbound safety check: " + err.Error(), CauseBlocked
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Sprintf("No answer within %s: the request timed out.", c.timeout), CauseTimeout
	case errors.Is(err, context.Canceled):
		return "The request was cancelled because Hookyard was shutting down; it will be retried.", CauseCancelled
	case errors.As(err, &dnsErr):
		return "Could not find the server " + u.Hostname() + " (DNS lookup failed). Check the spelling of the address.", CauseDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return "Connection refused: nothing is accepting connections at " + host + ".", CauseRefused
	case errors.Is(err, syscall.ECONNRESET):
		return "The connection was reset by " + host + " before it answered.", CauseReset
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &invalidCert):
		return "The server's HTTPS certificate is not valid: " + rootCause(err), CauseTLS
	case strings.Contains(err.Error(), "HTTP response to HTTPS client"):
		return "The secure (TLS) connection failed: the server answered in plain HTTP. Use an http:// address, or turn on HTTPS at the receiver.", CauseTLS
	case strings.Contains(err.Error(), "tls:"):
		return "The secure (TLS) connection failed: " + rootCause(err), CauseTLS
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "The connection to " + host + " closed before an answer arrived.", CauseClosed
	}
	return "The request failed: " + rootCause(err), CauseOther
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// rootCause strips the "Post \"url\": " wrapping of http.Client errors.
func rootCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// CheckURL validates a webhook URL when it is saved and returns a plain-language problem or
// "". The host is judged as the HTTP client and the resolver will read it (see targetHost),
// so no other spelling of a refused address gets through. Names that resolve to refused
// addresses are caught here for early feedback; the dial-time guard still checks every
// request, since DNS answers can change.
func CheckURL(ctx context.Context, raw string, allowPrivate bool) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case raw == "":
		return "Enter the URL Hookyard should call."
	case err != nil:
		return "This is not a valid URL."
	case u.Scheme != "http" && u.Scheme != "https":
		return "Use an address starting with https:// (or http://)."
	case u.Host == "" || u.Hostname() == "":
		return "The URL needs a host name, as in https://example.com/webhook."
	case strings.ContainsAny(raw, " \t\n\"<>\\^`{|}"):
		return "The URL contains spaces or characters such as \" < > that must be percent-encoded."
	case u.User != nil:
		return "Do not put a user name or password in the URL; Hookyard signs every request instead."
	case len(raw) > 2000:
		return "Use a URL of at most 2000 characters."
	}
	host := u.Hostname()
	t, problem := targetHost(host)
	if problem != "" || allowPrivate {
		return problem
	}
	const private = "a private or loopback address. Hookyard only calls public addresses unless it is started with --allow-private-targets."
	g := guardian(false)
	switch {
	case t.addr.IsValid() && g.SafeAddr(t.addr) != nil:
		if t.addr.String() != host {
			return fmt.Sprintf("%s is another way of writing %s, %s", host, t.addr, private)
		}
		return fmt.Sprintf("%s is %s", host, private)
	case t.addr.IsValid():
		return ""
	}
	lctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(lctx, "ip", t.name)
	switch {
	case err != nil && (t.name == "localhost" || strings.HasSuffix(t.name, ".localhost")):
		// Loopback by definition (RFC 6761), even where this resolver has no answer.
		return fmt.Sprintf("%s resolves to %s", host, private)
	case err != nil:
		// Unresolvable now (or no DNS here): the dial-time guard decides when sending.
		return ""
	}
	for _, a := range addrs {
		// Never say which address: that would let anyone map names of the private network.
		if g.SafeAddr(a.Unmap()) != nil {
			return fmt.Sprintf("%s resolves to %s", host, private)
		}
	}
	return ""
}

// target is a URL's host as it will be dialled: an address, or a name to resolve.
type target struct {
	addr netip.Addr // valid when the host is an address in any spelling
	name string     // the canonical name otherwise
}

// targetHost reads a host the way the HTTP client and the resolver will: IDNA-mapped as
// net/http does (full-width digits and dots become ASCII ones, letters lower case), without
// the trailing dot of an absolute name, and an IPv4 address in any inet_aton spelling (127.1,
// 0x7f000001, 2130706433, 0177.0.0.1) as the address it stands for. IPv4-mapped IPv6
// addresses are unmapped. A host that looks numeric but is no address is a problem.
func targetHost(host string) (target, string) {
	if a, err := netip.ParseAddr(host); err == nil {
		return target{addr: a.Unmap()}, ""
	}
	name := host
	if !isASCII(host) {
		// Only non-ASCII hosts are mapped, as net/http does before dialling.
		var err error
		if name, err = idna.Lookup.ToASCII(host); err != nil {
			return target{}, "The host name " + strconv.Quote(host) + " contains characters that cannot be part of a web address."
		}
	}
	name = strings.TrimRight(strings.ToLower(name), ".")
	if name == "" {
		return target{}, "The URL needs a host name, as in https://example.com/webhook."
	}
	if a, err := netip.ParseAddr(name); err == nil {
		return target{addr: a.Unmap()}, ""
	}
	parts := strings.Split(name, ".")
	if !isNumber(parts[len(parts)-1]) {
		return target{name: name}, "" // an ordinary name
	}
	a, ok := parseIPv4Loose(parts)
	if !ok {
		return target{}, strconv.Quote(host) + " looks like a numeric address but is not a valid one."
	}
	return target{addr: a}, ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isNumber reports whether a label is written as a number (decimal digits, or 0x and hex
// digits): a host ending in one is an IPv4 address or nothing, as in the URL standard.
func isNumber(p string) bool {
	if len(p) > 1 && (p[:2] == "0x" || p[:2] == "0X") {
		return strings.Trim(p[2:], "0123456789abcdefABCDEF") == ""
	}
	return p != "" && strings.Trim(p, "0123456789") == ""
}

// parseIPv4Loose reads an IPv4 address as inet_aton and the URL standard do: one to four
// parts, each decimal, octal (leading 0) or hex (0x); the last part fills the remaining bytes.
func parseIPv4Loose(parts []string) (netip.Addr, bool) {
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, p := range parts {
		n, err := ipv4Part(p)
		if err != nil {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 255 {
				return netip.Addr{}, false
			}
			v |= n << (8 * (3 - i))
			continue
		}
		if n >= 1<<(8*(4-i)) {
			return netip.Addr{}, false
		}
		v |= n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// ipv4Part reads one part of a loose IPv4 address.
func ipv4Part(p string) (uint64, error) {
	base := 10
	switch {
	case len(p) > 1 && (p[:2] == "0x" || p[:2] == "0X"):
		base, p = 16, p[2:]
		if p == "" {
			return 0, nil // "0x" alone is zero, as in the URL standard
		}
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	return strconv.ParseUint(p, base, 64)
}
