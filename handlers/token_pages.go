package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"hookyard/store"
	"hookyard/views"
)

// Admins see and revoke every token (with its owner); members only their own.

func (s *Server) tokensPage(c echo.Context, status int, f views.Form, secret string) error {
	u := currentUser(c)
	owner := u.ID
	if u.IsAdmin() {
		owner = ""
	}
	ctx := c.Request().Context()
	cursor := c.QueryParam("cursor")
	tokens, next, err := s.store.ListTokens(ctx, owner, store.Page{Limit: tokensPageSize, Cursor: cursor})
	if err != nil {
		return err
	}
	total, err := s.store.CountTokens(ctx, owner)
	if err != nil {
		return err
	}
	return s.render(c, status, views.Tokens(views.TokensPage{
		Page: s.page(c, "API tokens", "tokens"), Tokens: tokens, Form: f, NewToken: secret, ShowOwner: u.IsAdmin(),
		Pager: pager("/settings/tokens", nil, len(tokens), total, "tokens", cursor, next),
	}))
}

// tokensPageSize is how many tokens one page of the list shows.
const tokensPageSize = 50

func (s *Server) listTokens(c echo.Context) error {
	return s.tokensPage(c, http.StatusOK, views.Form{}, "")
}

func (s *Server) createToken(c echo.Context) error {
	v := formValues(c, "name")
	fe := fieldErrors{}
	checkTitle(fe, "name", v["name"], "token")
	if len(fe) > 0 {
		return s.tokensPage(c, http.StatusUnprocessableEntity, form(v, fe), "")
	}
	_, secret, err := s.store.CreateToken(c.Request().Context(), currentUser(c).ID, v["name"])
	if err != nil {
		return err
	}
	// Rendered directly rather than redirected: the secret must never sit in a cookie or URL.
	s.setFlash(c, "ok", "Token “"+v["name"]+"” created.")
	return s.tokensPage(c, http.StatusCreated, views.Form{}, secret)
}

func (s *Server) deleteToken(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	t, err := s.store.Token(ctx, c.Param("id"))
	if err != nil || (!u.IsAdmin() && t.UserID != u.ID) {
		return errNotFound("token")
	}
	if err := s.store.DeleteToken(ctx, t.ID); err != nil {
		return notFoundAs(err, "token")
	}
	return s.redirectWithFlash(c, "/settings/tokens", "Token “"+t.Name+"” was revoked.")
}
