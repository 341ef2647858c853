// Package handlers owns Hookyard's HTTP surface: the browser pages (templ + htmx), the
// /api/v1 JSON API, sessions, CSRF, API tokens, authorisation and error rendering. A handler
// parses input, calls the store, and renders.
package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo-contrib/session"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"hookyard/delivery"
	"hookyard/static"
	"hookyard/store"
)

// Options are the parts of the configuration the HTTP layer needs.
type Options struct {
	BaseURL *url.URL
	// SetupToken guards /setup while no user exists; "" closes setup.
	SetupToken string
	Version    string
	Logger     *slog.Logger
	// AllowPrivateTargets lets webhooks use private and loopback addresses.
	AllowPrivateTargets bool
	// Outbound sends test requests and health checks; nil builds one from the options above.
	Outbound *delivery.Client
	// Engine publishes events and sends deliveries. Required.
	Engine *delivery.Engine
	// Metrics serves /metrics; nil leaves it out.
	Metrics http.Handler
	// MetricsRegisterer, when set, gets the HTTP server's figures (hookyard_http_*).
	MetricsRegisterer prometheus.Registerer
	// MaxPayload is the largest publish body accepted (--max-payload); 0 means 256 KiB.
	MaxPayload int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// LoginRate and LoginBurst limit password checks (sign-in, password changes) per account
	// and client address; an account, and a client, over all get four times as much.
	LoginRate  rate.Limit
	LoginBurst int
	// TrustedProxies are the proxies whose X-Forwarded-For names the client (for the
	// password limit and the logs); none by default, so the client is the connection's peer.
	TrustedProxies []*net.IPNet
	// MetricsToken, when set, is the bearer token /metrics asks for.
	MetricsToken string
	// Quotas (SPEC §5); 0 means the default in brackets. MaxWebhooksPerUser [1000] is
	// --max-webhooks-per-user; MaxBinsPerUser [20] counts live request bins.
	MaxWebhooksPerUser int
	MaxBinsPerUser     int
	// BinPostRate and BinPostBurst [10/s, 20] limit posts to one bin from outside; one client
	// address gets twice that across bins. This server's own deliveries to its bins pass.
	BinPostRate  rate.Limit
	BinPostBurst int
}

// Server holds what every handler needs.
type Server struct {
	store    *store.Store
	opts     Options
	log      *slog.Logger
	assets   *static.Assets
	sessions *sessions.CookieStore
	outbound *delivery.Client
	types    atomic.Pointer[eventTypeCache]
	// openAPIDoc is /api/v1/openapi.json as last served, with the event types of its version.
	openAPIDoc atomic.Pointer[openAPIServed]
	// origin is the base URL's origin, which every state-changing browser request must come from.
	origin    string
	passwords *passwordLimiter
	// dummyHash is a password hash of the store's cost that matches nothing.
	dummyHash func() string
}

// New builds the Echo router with every route and middleware.
func New(ctx context.Context, st *store.Store, opts Options) (*echo.Echo, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.BaseURL == nil {
		opts.BaseURL = &url.URL{Scheme: "http", Host: "localhost:8080"}
	}
	if opts.Engine == nil {
		return nil, errors.New("handlers: Options.Engine is required")
	}
	if opts.MaxPayload == 0 {
		opts.MaxPayload = 256 << 10
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LoginRate == 0 {
		opts.LoginRate = rate.Every(12 * time.Second)
	}
	if opts.LoginBurst == 0 {
		opts.LoginBurst = 5
	}
	opts.withQuotaDefaults()
	assets, err := static.Load()
	if err != nil {
		return nil, fmt.Errorf("load static files: %w", err)
	}
	hashKey, blockKey, err := st.SessionKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("session keys: %w", err)
	}
	cookies := sessions.NewCookieStore(hashKey, blockKey)
	cookies.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int((30 * 24 * time.Hour).Seconds()),
		HttpOnly: true,
		Secure:   opts.BaseURL.Scheme == "https",
		SameSite: http.SameSiteLaxMode,
	}
	if opts.Outbound == nil {
		opts.Outbound = delivery.NewClient(delivery.ClientOptions{
			AllowPrivate: opts.AllowPrivateTargets, UserAgent: "Hookyard/" + opts.Version,
		})
	}
	s := &Server{store: st, opts: opts, log: opts.Logger, assets: assets, sessions: cookies, outbound: opts.Outbound,
		origin: originOf(opts.BaseURL.String()), passwords: newPasswordLimiter(opts.LoginRate, opts.LoginBurst)}
	s.dummyHash = sync.OnceValue(func() string {
		var b [16]byte
		_, _ = rand.Read(b[:])
		h, _ := st.HashPassword(hex.EncodeToString(b[:]))
		return h
	})

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// Behind no proxy by default: the client address is the connection's, so X-Forwarded-For
	// cannot be forged to dodge the password limit. With --trusted-proxies, X-Forwarded-For is
	// believed only as far back as it passes through those proxies (not every private or
	// loopback address, as Echo would by default).
	e.IPExtractor = echo.ExtractIPDirect()
	if len(opts.TrustedProxies) > 0 {
		trust := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range opts.TrustedProxies {
			trust = append(trust, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(trust...)
	}
	e.HTTPErrorHandler = s.handleError
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true}))
	e.Use(middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURIPath: true, LogMethod: true, LogLatency: true, LogError: true, LogRemoteIP: true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			s.log.LogAttrs(c.Request().Context(), level, "request",
				slog.String("method", v.Method), slog.String("path", v.URIPath), slog.Int("status", v.Status),
				slog.Float64("latency_ms", float64(v.Latency.Microseconds())/1000), slog.String("client", v.RemoteIP))
			return nil
		},
	}))
	if opts.MetricsRegisterer != nil {
		e.Use(httpMetrics(opts.MetricsRegisterer))
	}
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection:         "0",
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		ReferrerPolicy:        "same-origin",
		ContentSecurityPolicy: "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
	}))
	if opts.BaseURL.Scheme == "https" {
		e.Use(strictTransportSecurity)
	}
	e.Use(middleware.BodyLimit(strconv.FormatInt(max(2<<20, opts.MaxPayload), 10) + "B"))
	s.routes(e)
	// This server's own bins are reached in-process, so they work with the outbound guard on.
	s.outbound.ServeLocally(inspectPrefix(opts.BaseURL.String()), binReceiver{st})
	return e, nil
}

func (s *Server) now() time.Time { return s.opts.Now().UTC() }

// isAPI reports whether a request is for the JSON API (bearer tokens, problem+json errors).
func isAPI(c echo.Context) bool {
	return strings.HasPrefix(c.Request().URL.Path, "/api/")
}

// strictTransportSecurity tells browsers to use only https here for a year. It is sent on
// every response when the base URL is https, also when a TLS-terminating proxy forwards
// plain HTTP (Echo's Secure middleware sends it only for requests that arrived as https).
func strictTransportSecurity(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderStrictTransportSecurity, "max-age=31536000")
		return next(c)
	}
}

// noStore keeps responses out of every cache: API answers are one user's data, and some
// carry secrets (a webhook's signing secret after create or rotate).
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// httpMetrics counts requests by status, method and route pattern (hookyard_http_*): the
// route, such as /api/v1/webhooks/:id, never a path with ids, and no host.
func httpMetrics(reg prometheus.Registerer) echo.MiddlewareFunc {
	return echoprometheus.NewMiddlewareWithConfig(echoprometheus.MiddlewareConfig{
		Namespace: "hookyard", Subsystem: "http", Registerer: reg, DoNotUseRequestPathFor404: true,
		LabelFuncs: map[string]echoprometheus.LabelValueFunc{"host": func(echo.Context, error) string { return "" }},
		// Errors become their answer's status only in the error handler, after this runs.
		StatusCodeResolver: func(c echo.Context, err error) int {
			if err != nil {
				p, _ := asProblem(err)
				return p.Status
			}
			return c.Response().Status
		},
	})
}

// sessionStore exposes the cookie store for the session middleware.
func (s *Server) sessionMiddleware() echo.MiddlewareFunc { return session.Middleware(s.sessions) }
