package handlers

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"hookyard/store"
	"hookyard/views"
)

// setupOpen reports whether the first admin may still be created with this token.
func (s *Server) setupOpen(ctx context.Context, token string) (open, usersExist bool, err error) {
	n, err := s.store.CountUsers(ctx)
	if err != nil || n > 0 {
		return false, n > 0, err
	}
	ok := s.opts.SetupToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.opts.SetupToken)) == 1
	return ok, false, nil
}

func (s *Server) setupClosed(c echo.Context, usersExist bool) error {
	status := http.StatusForbidden
	if usersExist {
		status = http.StatusGone
	}
	return s.render(c, status, views.SetupClosed(views.SetupClosedPage{
		Page: s.page(c, "Setup", ""), UsersExist: usersExist,
	}))
}

func (s *Server) showSetup(c echo.Context) error {
	token := c.QueryParam("token")
	open, exist, err := s.setupOpen(c.Request().Context(), token)
	if err != nil {
		return err
	}
	if !open {
		return s.setupClosed(c, exist)
	}
	return s.render(c, http.StatusOK, views.Setup(views.SetupPage{Page: s.page(c, "Set up Hookyard", ""), Token: token}))
}

func (s *Server) submitSetup(c echo.Context) error {
	ctx := c.Request().Context()
	token := c.FormValue("token")
	open, exist, err := s.setupOpen(ctx, token)
	if err != nil {
		return err
	}
	if !open {
		return s.setupClosed(c, exist)
	}
	v := formValues(c, "email", "name", "password")
	fe := fieldErrors{}
	userInput{Email: v["email"], Name: v["name"], Password: v["password"]}.check(fe, true)
	var u store.User
	if len(fe) == 0 {
		u = store.User{Email: v["email"], Name: v["name"]}
		u.PasswordHash, err = s.store.HashPassword(v["password"])
		if err != nil {
			return err
		}
		err = s.store.CreateFirstAdmin(ctx, &u)
		if errors.Is(err, store.ErrSetupDone) {
			return s.setupClosed(c, true)
		}
		if err != nil {
			return err
		}
	}
	if len(fe) > 0 {
		v["password"] = ""
		return s.render(c, http.StatusUnprocessableEntity, views.Setup(views.SetupPage{
			Page: s.page(c, "Set up Hookyard", ""), Token: token, Form: form(v, fe),
		}))
	}
	s.log.Info("first admin created", "user", u.ID)
	if err := s.signIn(c, u); err != nil {
		return err
	}
	next := "Start by adding your organisations."
	if n, err := s.store.CountOrganizations(ctx); err == nil && n > 0 {
		next = "There are " + plural(n, "organisation") + " with their projects already: next, create your first webhook."
	}
	return s.redirectWithFlash(c, "/", "Your admin account is ready. "+next)
}

func (s *Server) showLogin(c echo.Context) error {
	if currentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	if n, err := s.store.CountUsers(c.Request().Context()); err != nil {
		return err
	} else if n == 0 {
		return s.setupClosed(c, false)
	}
	return s.render(c, http.StatusOK, views.Login(views.LoginPage{
		Page: s.page(c, "Sign in", ""), Next: safeNext(c.QueryParam("next")),
	}))
}

func (s *Server) submitLogin(c echo.Context) error {
	v := formValues(c, "email", "password", "next")
	u, err := s.store.UserByEmail(c.Request().Context(), v["email"])
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	// An unknown e-mail is checked against a throwaway hash, and limited like an account, so
	// that it is rejected the same way as a wrong password and does not reveal who has one.
	account, hash := "email:"+strings.ToLower(v["email"]), s.dummyHash()
	if err == nil {
		account, hash = u.ID, u.PasswordHash
	}
	ok, throttled := s.checkPassword(c, account, hash, v["password"])
	if !ok || err != nil {
		status, message := http.StatusUnauthorized, "That e-mail and password do not match an account. Check both and try again."
		if throttled != nil {
			status, message = http.StatusTooManyRequests, "Too many sign-in attempts. Wait "+throttled.waitText()+", then try again."
		}
		return s.render(c, status, views.Login(views.LoginPage{
			Page: s.page(c, "Sign in", ""), Next: safeNext(v["next"]),
			Form: views.Form{Values: map[string]string{"email": v["email"]}, Message: message},
		}))
	}
	if err := s.signIn(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, safeNext(v["next"]))
}

func (s *Server) logout(c echo.Context) error {
	if token := s.sessionToken(c); token != "" {
		if err := s.store.DeleteSession(c.Request().Context(), token); err != nil {
			return err
		}
	}
	sess := s.session(c)
	sess.Values = map[any]any{}
	sess.Options.MaxAge = -1
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}

func (s *Server) healthz(c echo.Context) error {
	if err := s.store.Ping(c.Request().Context()); err != nil {
		s.log.Error("health check failed", "err", err)
		return c.String(http.StatusServiceUnavailable, "database unavailable\n")
	}
	// A database that answers reads but cannot take writes cannot accept events.
	if err := s.store.CheckWritable(c.Request().Context()); err != nil {
		if fault := store.WriteFault(err); fault != "" {
			return c.String(http.StatusServiceUnavailable, "database cannot take writes: "+fault+"\n")
		}
		s.log.Error("health check write failed", "err", err)
		return c.String(http.StatusServiceUnavailable, "database cannot take writes\n")
	}
	// Results of attempts that could not be stored yet: the engine keeps them and waits.
	if fault := s.opts.Engine.WriteFault(); fault != "" {
		return c.String(http.StatusServiceUnavailable, "database cannot take writes: "+fault+"\n")
	}
	return c.String(http.StatusOK, "ok\n")
}
