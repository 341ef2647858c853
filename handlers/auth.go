package handlers

import (
	"crypto/rand"
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
	"github.com/labstack/echo/v4/middleware"

	"hookyard/store"
)

const (
	sessionName    = "hookyard"
	csrfCookieName = "_csrf"
	ctxUser        = "user"
	ctxCSRF        = "csrf"
)

// csrf protects every browser form. Modern browsers pass on Sec-Fetch-Site; other clients
// must echo the token from the _csrf cookie in the form field _csrf or the X-CSRF-Token header.
func (s *Server) csrf() echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "form:_csrf,header:X-CSRF-Token",
		CookieName:     csrfCookieName,
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   s.opts.BaseURL.Scheme == "https",
		CookieSameSite: http.SameSiteLaxMode,
		ContextKey:     ctxCSRF,
		ErrorHandler: func(err error, c echo.Context) error {
			return echo.NewHTTPError(http.StatusForbidden,
				"This form has expired or did not come from Hookyard. Go back, reload the page and try again.").SetInternal(err)
		},
	})
}

// realCSRFToken makes sure forms carry a real token even when the CSRF middleware let the
// request through on Sec-Fetch-Site alone, so the form still works if a proxy strips that
// header on the way back.
func (s *Server) realCSRFToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Get(ctxCSRF) != middleware.CSRFUsingSecFetchSite {
			return next(c)
		}
		if ck, err := c.Cookie(csrfCookieName); err == nil && ck.Value != "" {
			c.Set(ctxCSRF, ck.Value)
			return next(c)
		}
		var b [24]byte
		_, _ = rand.Read(b[:])
		token := base64.RawURLEncoding.EncodeToString(b[:])
		c.SetCookie(&http.Cookie{
			Name: csrfCookieName, Value: token, Path: "/", HttpOnly: true,
			Secure: s.opts.BaseURL.Scheme == "https", SameSite: http.SameSiteLaxMode,
			MaxAge: 86400,
		})
		c.Set(ctxCSRF, token)
		return next(c)
	}
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

// loadUser puts the signed-in user, if any, into the request. The cookie only names a
// session; the session itself lives in the database, so signing out ends it everywhere.
func (s *Server) loadUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token := s.sessionToken(c)
		if token == "" {
			return next(c)
		}
		u, err := s.store.SessionUser(c.Request().Context(), token)
		if errors.Is(err, store.ErrNotFound) {
			return next(c)
		}
		if err != nil {
			return err
		}
		c.Set(ctxUser, &u)
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

// signIn starts a session for u, replacing any this browser had.
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
