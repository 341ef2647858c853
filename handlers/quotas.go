package handlers

import (
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"
)

// Quotas and limits (SPEC §5): what one person may create, and how fast anyone may post to
// a bin.

func (o *Options) withQuotaDefaults() {
	if o.MaxWebhooksPerUser == 0 {
		o.MaxWebhooksPerUser = 1000
	}
	if o.MaxBinsPerUser == 0 {
		o.MaxBinsPerUser = 20
	}
	if o.BinPostRate == 0 {
		o.BinPostRate = 10
	}
	if o.BinPostBurst == 0 {
		o.BinPostBurst = 20
	}
}

// quotaProblem is the answer to creating one more than a quota allows: 429, naming the limit.
func quotaProblem(detail string) *Problem {
	p := problem(http.StatusTooManyRequests, detail)
	p.Type, p.Title = "urn:hookyard:quota-reached", "Quota reached"
	return p
}

// webhookQuotaProblem is the API's answer to one webhook too many; it names the setting for
// the developer or operator reading it.
func (s *Server) webhookQuotaProblem() *Problem {
	return quotaProblem(s.webhookQuotaText(" (--max-webhooks-per-user)"))
}

// webhookQuotaText says why no more webhooks can be made; setting names the limit's setting,
// or is "" on a page.
func (s *Server) webhookQuotaText(setting string) string {
	return fmt.Sprintf("You already have %d webhooks, the most one person may have%s. "+
		"Delete one you no longer need, or ask whoever runs Hookyard to raise the limit.", s.opts.MaxWebhooksPerUser, setting)
}

// binQuotaText says why no more bins can be made (bins have pages only, no API).
func (s *Server) binQuotaText() string {
	return fmt.Sprintf("You already have %d test URLs, the most one person may have. "+
		"Delete one you no longer need (they also go away on their own 7 days after they were made).", s.opts.MaxBinsPerUser)
}

// binPostLimits rate-limit posts to bins from outside: per client address at twice the rate
// of one bin (so one sender can feed a couple of bins), an IPv6 client counted by its /64
// (which one machine usually holds whole); then per bin. This server's own deliveries reach
// bins in-process (Client.ServeLocally) and pass neither.
func (s *Server) binPostLimits() []echo.MiddlewareFunc {
	limit := func(r rate.Limit, burst int, key func(echo.Context) string, detail string) echo.MiddlewareFunc {
		retryAfter := strconv.Itoa(int(max(1, math.Ceil(1/float64(r)))))
		deny := func(c echo.Context) error {
			c.Response().Header().Set("Retry-After", retryAfter)
			return c.JSON(http.StatusTooManyRequests, map[string]string{"error": detail})
		}
		return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
			Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
				Rate: r, Burst: burst,
			}),
			IdentifierExtractor: func(c echo.Context) (string, error) { return key(c), nil },
			DenyHandler:         func(c echo.Context, _ string, _ error) error { return deny(c) },
			ErrorHandler:        func(c echo.Context, _ error) error { return deny(c) },
		})
	}
	perSecond := func(r rate.Limit) string { return strconv.FormatFloat(float64(r), 'g', 3, 64) }
	bin, burst := s.opts.BinPostRate, s.opts.BinPostBurst
	return []echo.MiddlewareFunc{
		limit(2*bin, 2*burst, func(c echo.Context) string { return clientKey(c.RealIP()) },
			"too many requests from your address: bins take at most "+perSecond(2*bin)+" per second from one sender; wait a moment, then send again"),
		limit(bin, burst, func(c echo.Context) string { return c.Param("id") },
			"too many requests to this bin: it takes at most "+perSecond(bin)+" per second from outside; wait a moment, then send again"),
	}
}

// clientKey is the address a rate limit counts a client by: the whole address for IPv4, the
// /64 network for IPv6.
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
