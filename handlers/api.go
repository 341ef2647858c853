package handlers

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"hookyard/store"
)

// apiAuth makes every /api/v1 request act as the user of its bearer token.
func (s *Server) apiAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		scheme, token, ok := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="hookyard"`)
			return problem(http.StatusUnauthorized, "Send an API token as Authorization: Bearer <token>. Create one under API tokens in the web interface.")
		}
		u, _, err := s.store.UserByToken(c.Request().Context(), strings.TrimSpace(token))
		if errors.Is(err, store.ErrNotFound) {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="hookyard", error="invalid_token"`)
			return problem(http.StatusUnauthorized, "This API token is not valid: it may have been revoked or mistyped.")
		}
		if err != nil {
			return err
		}
		c.Set(ctxUser, &u)
		return next(c)
	}
}

// bindJSON decodes a JSON request body into v, answering 400 with the reason when it is not JSON.
func bindJSON(c echo.Context, v any) error {
	_, err := readJSON(c, v)
	return err
}

// readJSON is bindJSON that also returns the body as sent.
func readJSON(c echo.Context, v any) ([]byte, error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return nil, err
	}
	if err := checkJSONContentType(c, body); err != nil {
		return nil, err
	}
	return body, unmarshalBody(body, v)
}

// checkJSONContentType answers 415 when a body is sent as something other than JSON
// (application/json, or a type ending in +json), Content-Type missing included: it is
// not parsed as JSON regardless.
func checkJSONContentType(c echo.Context, body []byte) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	ct := c.Request().Header.Get(echo.HeaderContentType)
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == echo.MIMEApplicationJSON || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	sent := "no Content-Type"
	if ct != "" {
		sent = "Content-Type " + strconv.Quote(ct)
	}
	return problem(http.StatusUnsupportedMediaType, "The request body was sent with "+sent+
		"; send it as JSON with Content-Type: application/json.")
}

// unmarshalBody decodes a request body into v, answering 400 with the reason when it is not JSON.
func unmarshalBody(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return problem(http.StatusBadRequest, "The request body is empty; send a JSON object.")
	}
	// encoding/json would quietly turn invalid bytes into U+FFFD (SPEC §5: 400).
	if !utf8.Valid(body) {
		return problem(http.StatusBadRequest, "The request body is not valid JSON: it is not valid UTF-8 text.")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			p := problem(http.StatusBadRequest, "The field "+te.Field+" has the wrong type: expected "+te.Type.String()+".")
			p.Errors = []FieldError{{Field: te.Field, Message: "Expected " + te.Type.String() + "."}}
			return p
		}
		return problem(http.StatusBadRequest, "The request body is not valid JSON: "+err.Error())
	}
	return nil
}

// bindOptionalJSON is bindJSON for bodies that may be left out entirely.
func bindOptionalJSON(c echo.Context, v any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := checkJSONContentType(c, body); err != nil {
		return err
	}
	return unmarshalBody(body, v)
}

// pageParams reads ?limit= and ?cursor= of a list paged by id.
func pageParams(c echo.Context) (store.Page, error) { return pageParamsOf(c, store.IsID) }

// pageParamsOf reads ?limit= and ?cursor=; issued says whether a decoded cursor has the shape
// of those the list hands out.
func pageParamsOf(c echo.Context, issued func(string) bool) (store.Page, error) {
	var p store.Page
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			pr := problem(http.StatusBadRequest, "limit must be a whole number from 1 to 500.")
			pr.Errors = []FieldError{{Field: "limit", Message: "Use a whole number from 1 to 500."}}
			return p, pr
		}
		p.Limit = min(n, 500)
	}
	if cur := c.QueryParam("cursor"); cur != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cur)
		if err != nil || !issued(string(raw)) {
			return p, errBadCursor()
		}
		p.Cursor = string(raw)
	}
	return p, nil
}

// errBadCursor answers a cursor no list returned (the store says so with store.ErrBadCursor).
func errBadCursor() *Problem {
	pr := problem(http.StatusBadRequest, "cursor is not one this API returned; pass nextCursor from the previous page unchanged.")
	pr.Errors = []FieldError{{Field: "cursor", Message: "Not a valid cursor."}}
	return pr
}

type listResponse[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"nextCursor"`
}

// list answers with one page of a list.
func list[T any](c echo.Context, data []T, next string) error {
	r := listResponse[T]{Data: data, NextCursor: apiCursor(next)}
	if r.Data == nil {
		r.Data = []T{}
	}
	return c.JSON(http.StatusOK, r)
}

// apiCursor is a store cursor as the API hands it out (null for the last page); pageParams
// reads it back.
func apiCursor(next string) *string {
	if next == "" {
		return nil
	}
	cur := base64.RawURLEncoding.EncodeToString([]byte(next))
	return &cur
}

// validation answers 422 when fe holds errors; nil otherwise.
func validation(fe fieldErrors) error {
	if p := fe.problem(); p != nil {
		return p
	}
	return nil
}

type meResponse struct {
	store.User
	Organizations []store.Organization `json:"organizations"`
}

func (s *Server) apiMe(c echo.Context) error {
	u := currentUser(c)
	orgs, err := s.visibleOrganizations(c.Request().Context(), u)
	if err != nil {
		return err
	}
	if orgs == nil {
		orgs = []store.Organization{}
	}
	return c.JSON(http.StatusOK, meResponse{User: *u, Organizations: orgs})
}

func (s *Server) apiListEventTypes(c echo.Context) error {
	p, err := pageParamsOf(c, store.EventTypeNamePattern.MatchString)
	if err != nil {
		return err
	}
	types, err := s.store.ListEventTypes(c.Request().Context())
	if err != nil {
		return err
	}
	// The whole table is small and has its own order; page through it by name.
	start := 0
	if p.Cursor != "" {
		start = slices.IndexFunc(types, func(t store.EventType) bool { return t.Name == p.Cursor }) + 1
	}
	limit := p.Limit
	if limit == 0 {
		limit = 50
	}
	end := min(start+limit, len(types))
	next := ""
	if end < len(types) {
		next = types[end-1].Name
	}
	return list(c, types[start:end], next)
}

func (s *Server) apiCreateEventType(c echo.Context) error {
	var in struct {
		Name        string `json:"name"`
		Label       string `json:"label"`
		Category    string `json:"category"`
		Description string `json:"description"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	t, fe, err := s.addEventType(c, eventTypeInput(in))
	if err != nil {
		return err
	}
	if err := validation(fe); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, t)
}
