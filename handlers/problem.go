package handlers

import (
	"errors"
	"net/http"
	"sort"

	"github.com/labstack/echo/v4"

	"hookyard/store"
	"hookyard/views"
)

// Problem is an error a person caused or needs to see, rendered as an error page in the
// browser and as application/problem+json (RFC 9457) in the API.
type Problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Errors []FieldError `json:"errors,omitempty"`
	// HealthCheck is the failed check behind a refused re-enable.
	HealthCheck any `json:"healthCheck,omitempty"`
	// Count and MaxEvents: how many events a refused replay would have sent, and its limit.
	Count     int `json:"count,omitempty"`
	MaxEvents int `json:"maxEvents,omitempty"`
}

// FieldError is one thing wrong with one input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p *Problem) Error() string { return p.Title + ": " + p.Detail }

func problem(status int, detail string) *Problem {
	return &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail}
}

func errNotFound(what string) *Problem {
	return problem(http.StatusNotFound, "This "+what+" does not exist (it may have been deleted), or you do not have access to it.")
}

var errForbidden = problem(http.StatusForbidden, "Only an admin can do that.")

// fieldErrors collects validation problems by field name.
type fieldErrors map[string]string

func (fe fieldErrors) add(field, message string) {
	if message != "" && fe[field] == "" {
		fe[field] = message
	}
}

// problem turns the collected errors into a 422, or nil when there are none.
func (fe fieldErrors) problem() *Problem {
	if len(fe) == 0 {
		return nil
	}
	p := &Problem{Type: "urn:hookyard:validation-error", Title: "Some fields need attention",
		Status: http.StatusUnprocessableEntity, Detail: "The request was not applied; correct the fields listed in errors."}
	for f, m := range fe {
		p.Errors = append(p.Errors, FieldError{Field: f, Message: m})
	}
	sort.Slice(p.Errors, func(i, j int) bool { return p.Errors[i].Field < p.Errors[j].Field })
	return p
}

// asProblem maps any error to what a user should see; the bool says whether it was expected.
func asProblem(err error) (*Problem, bool) {
	var p *Problem
	var he *echo.HTTPError
	switch {
	case errors.As(err, &p):
		return p, true
	case errors.Is(err, store.ErrNotFound):
		return problem(http.StatusNotFound, "There is nothing here with that id."), true
	case errors.Is(err, store.ErrBadCursor):
		return errBadCursor(), true
	case errors.Is(err, store.ErrLastAdmin):
		return problem(http.StatusConflict, store.ErrLastAdmin.Error()), true
	case store.WriteFault(err) != "":
		// A passing fault of the database (disk full, read-only, locked): nothing was
		// stored, and the same request can simply be sent again. Logged by the engine or
		// here once; the answer says what is wrong in plain words.
		return problem(http.StatusServiceUnavailable, "Nothing was stored: "+store.WriteFault(err)+
			". Try again in a few seconds; the server's operator has been told in the log."), false
	case errors.As(err, &he):
		detail, _ := he.Message.(string)
		switch he.Code {
		case http.StatusNotFound:
			detail = "There is no page at this address. Check the link, or start again from the dashboard."
		case http.StatusMethodNotAllowed:
			detail = "This address does not accept that kind of request."
		case http.StatusRequestEntityTooLarge:
			detail = "The request is too large."
		}
		return problem(he.Code, detail), he.Code < 500
	}
	return problem(http.StatusInternalServerError, "Something went wrong on our side. Nothing was changed; try again, and if it keeps happening, check the server log."), false
}

// handleError is Echo's single error handler: problem+json for the API, a page otherwise.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p, expected := asProblem(err)
	if isAPI(c) && errors.Is(err, echo.ErrNotFound) {
		p.Detail = "There is no API route at this address. The routes are listed in /api/v1/openapi.json."
	}
	if !expected {
		s.log.ErrorContext(c.Request().Context(), "request failed",
			"method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	if p.Status == http.StatusServiceUnavailable && c.Response().Header().Get("Retry-After") == "" {
		c.Response().Header().Set("Retry-After", "5")
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(p.Status)
		return
	}
	if isAPI(c) {
		c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
		c.Response().WriteHeader(p.Status)
		_ = jsonEncode(c.Response(), p)
		return
	}
	title := map[int]string{
		http.StatusNotFound:        "Page not found",
		http.StatusForbidden:       "Not allowed",
		http.StatusTooManyRequests: "Too many attempts",
	}[p.Status]
	if title == "" {
		title = p.Title
	}
	_ = s.render(c, p.Status, views.ErrorPage(views.ErrorPageData{
		Page: s.page(c, title, ""), Status: p.Status, Title: title, Detail: p.Detail,
	}))
}
