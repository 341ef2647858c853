package handlers

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo-contrib/session"
	"github.com/labstack/echo/v4"

	"hookyard/store"
)

const (
	sessionName = "hookyard"
	ctxUser     = "user"
	ctxCSRF     = "csrf"
	// csrfField and csrfHeader carry the CSRF token of a form post or a script's request.
	csrfField  = "_csrf"
	csrfHeader = "X-CSRF-Token"
	// preSessionCSRF is where a visitor who is not signed in keeps their CSRF token: in the
	// signed and encrypted session cookie, whose content no other site can choose.
	preSessionCSRF = "csrf"
)

var errCSRFToken = problem(http.StatusForbidden,
	"This form has expired or did not come from Hookyard. Go back, reload the page and try again.")

// csrf guards every state-changing request of the browser pages (anything but GET, HEAD and
// OPTIONS) twice over:
//   - a browser must say the request comes from a page of Hookyard: Origin, or Referer when
//     there is no Origin, must be the base URL's origin. Clients that send neither (scripts,
//     tests) are left to the token;
//   - the request must carry its own session's token. A signed-in session's token lives in
//     the database, a visitor's in the signed session cookie, so a _csrf cookie planted by a
//     page on another port or subdomain of the same host supplies nothing.
//
// Only Sec-Fetch-Site: same-origin, which no page can forge, stands in for the token;
// same-site is exactly the neighbour this guards against, and cross-site is refused outright.
func (s *Server) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token := csrfToken(c) // the signed-in session's, set by loadUser
		if token == "" {
			var err error
			if token, err = s.preSessionToken(c); err != nil {
				return err
			}
			c.Set(ctxCSRF, token)
		}
		r := c.Request()
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if err := s.checkOrigin(r); err != nil {
			return err
		}
		switch r.Header.Get("Sec-Fetch-Site") {
		case "same-origin":
			return next(c)
		case "cross-site":
			return errCSRFToken
		}
		if !sameToken(c.FormValue(csrfField), token) && !sameToken(r.Header.Get(csrfHeader), token) {
			return errCSRFToken
		}
		return next(c)
	}
}

func sameToken(sent, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(sent), []byte(want)) == 1
}

// preSessionToken is the CSRF token of a visitor who is not signed in (the sign-in and setup
// forms), made on their first visit. Signing in replaces it with the session's own.
func (s *Server) preSessionToken(c echo.Context) (string, error) {
	sess := s.session(c)
	if t, _ := sess.Values[preSessionCSRF].(string); t != "" {
		return t, nil
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	t := base64.RawURLEncoding.EncodeToString(b[:])
	sess.Values[preSessionCSRF] = t
	return t, sess.Save(c.Request(), c.Response())
}

// checkOrigin refuses a request that the browser says was sent by a page of another origin
// (another port or subdomain of the same host included).
func (s *Server) checkOrigin(r *http.Request) error {
	from := r.Header.Get("Origin")
	if from == "" {
		if from = r.Header.Get("Referer"); from == "" {
			return nil
		}
	}
	sent := originOf(from)
	if sent == s.origin {
		return nil
	}
	if sent == "" {
		sent = "a page that gives no address"
	}
	return problem(http.StatusForbidden, "This form was sent from "+sent+", not from Hookyard at "+s.origin+
		", so nothing was changed. Open Hookyard at "+s.origin+" and submit the form from there.")
}

// originOf is the origin (scheme://host[:port], lower case, default port left out) of a URL,
// or "" when it has none, as for "null".
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if port := u.Port(); (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		host = strings.TrimSuffix(host, ":"+port)
	}
	return scheme + "://" + host
}

func csrfToken(c echo.Context) string {
	t, _ := c.Get(ctxCSRF).(string)
	return t
}

func (s *Server) session(c echo.Context) *sessions.Session {
	sess, err := session.Get(sessionName, c)
	if err != nil {
		// A cookie signed with another key (or tampered with) is treated as no session.
		sess, _ = s.sessions.New(c.Request(), sessionName)
	}
	return sess
}

// sessionTTL is how long a browser stays signed in.
const sessionTTL = 30 * 24 * time.Hour

// sessionToken is the server-side session this browser holds, or "".
func (s *Server) sessionToken(c echo.Context) string {
	t, _ := s.session(c).Values["sid"].(string)
	return t
}

// loadUser puts the signed-in user, if any, and their session's CSRF token into the request.
// The cookie only names a session; the session itself lives in the database, so signing out
// ends it everywhere.
func (s *Server) loadUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token := s.sessionToken(c)
		if token == "" {
			return next(c)
		}
		sess, err := s.store.Session(c.Request().Context(), token)
		if errors.Is(err, store.ErrNotFound) {
			return next(c)
		}
		if err != nil {
			return err
		}
		c.Set(ctxUser, &sess.User)
		c.Set(ctxCSRF, sess.CSRFToken)
		return next(c)
	}
}

// currentUser is the signed-in user (browser) or the token's user (API); nil when anonymous.
func currentUser(c echo.Context) *store.User {
	u, _ := c.Get(ctxUser).(*store.User)
	return u
}

// requireUser sends anonymous visitors to the sign-in page, then back.
func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if currentUser(c) != nil {
			return next(c)
		}
		target := "/login"
		if r := c.Request(); r.Method == http.MethodGet && r.URL.Path != "/" {
			target += "?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		if c.Request().Header.Get("HX-Request") == "true" {
			c.Response().Header().Set("HX-Redirect", target)
			return c.NoContent(http.StatusUnauthorized)
		}
		return c.Redirect(http.StatusSeeOther, target)
	}
}

// requireMetricsToken asks for Authorization: Bearer <--metrics-token> when one is set.
func (s *Server) requireMetricsToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.opts.MetricsToken == "" {
			return next(c)
		}
		scheme, sent, _ := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
		if !strings.EqualFold(scheme, "Bearer") || !sameToken(strings.TrimSpace(sent), s.opts.MetricsToken) {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="metrics"`)
			return c.String(http.StatusUnauthorized, "/metrics needs Authorization: Bearer <the --metrics-token>.\n")
		}
		return next(c)
	}
}

// requireAdmin refuses members: 403 with a plain explanation.
func requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u := currentUser(c); u == nil || !u.IsAdmin() {
			return errForbidden
		}
		return next(c)
	}
}

// safeNext keeps a post-sign-in redirect on this site: a path starting with one "/".
// Browsers drop tabs and newlines from URLs and read "\\" as "/", so "/\t/evil.com" and
// "/\\evil.com" would leave the site; any control character or backslash is refused.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsRune(next, '\\') || strings.ContainsFunc(next, unicode.IsControl) {
		return "/"
	}
	return next
}

// signIn starts a session for u, replacing any this browser had. The new session comes with
// a new CSRF token, and the visitor's pre-session token is dropped with the old values.
func (s *Server) signIn(c echo.Context, u store.User) error {
	ctx := c.Request().Context()
	if old := s.sessionToken(c); old != "" {
		if err := s.store.DeleteSession(ctx, old); err != nil {
			return err
		}
	}
	token, err := s.store.CreateSession(ctx, u.ID, sessionTTL)
	if err != nil {
		return err
	}
	sess := s.session(c)
	sess.Values = map[any]any{"sid": token}
	return sess.Save(c.Request(), c.Response())
}

// setFlash leaves a one-time message for the next page.
func (s *Server) setFlash(c echo.Context, kind, text string) {
	sess := s.session(c)
	sess.AddFlash(kind+"|"+text, "flash")
	_ = sess.Save(c.Request(), c.Response())
}

// takeFlash reads and removes the pending message, if any.
func (s *Server) takeFlash(c echo.Context) (kind, text string) {
	sess := s.session(c)
	flashes := sess.Flashes("flash")
	if len(flashes) == 0 {
		return "", ""
	}
	_ = sess.Save(c.Request(), c.Response())
	v, _ := flashes[len(flashes)-1].(string)
	kind, text, _ = strings.Cut(v, "|")
	return kind, text
}
