package handlers

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"hookyard/views"
)

// render writes a templ component as the HTML response.
func (s *Server) render(c echo.Context, status int, comp templ.Component) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().Header().Set("Cache-Control", "no-store")
	if c.Request().Method != http.MethodGet && c.Request().Header.Get("HX-Request") == "true" {
		// A form shown again with its errors: keep the address bar on the page the form is
		// on, not the form's action, so reloading shows that page instead of "not allowed".
		c.Response().Header().Set("HX-Push-Url", "false")
	}
	c.Response().WriteHeader(status)
	return comp.Render(c.Request().Context(), c.Response())
}

// page is the common data of every full page.
func (s *Server) page(c echo.Context, title, nav string) views.Page {
	kind, text := s.takeFlash(c)
	return views.Page{
		Title: title, Nav: nav, User: currentUser(c), CSRF: csrfToken(c),
		Flash: views.Flash{Kind: kind, Text: text}, Now: s.now(),
		Assets: views.Assets{
			CSS: s.assets.URL("app.css"), JS: s.assets.URL("app.js"),
			HTMX: s.assets.URL("htmx.min.js"), Icon: s.assets.URL("icon.svg"),
		},
	}
}

// redirectWithFlash finishes a successful form post (post/redirect/get).
func (s *Server) redirectWithFlash(c echo.Context, to, message string) error {
	if message != "" {
		s.setFlash(c, "ok", message)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// formValues reads the named fields of a posted form, trimmed of surrounding space
// (passwords excepted).
func formValues(c echo.Context, names ...string) map[string]string {
	out := make(map[string]string, len(names))
	for _, n := range names {
		v := c.FormValue(n)
		if n != "password" {
			v = strings.TrimSpace(v)
		}
		out[n] = v
	}
	return out
}

// form builds the view of a form from what was typed and what was wrong.
func form(values map[string]string, errs fieldErrors) views.Form {
	return views.Form{Values: values, Errors: errs}
}

// pager is the foot of one page of the list at path, from the page's cursor and the next
// page's; filters holds the query to keep from page to page (empty values are left out).
func pager(path string, filters url.Values, shown, total int, noun, cursor, next string) views.Pager {
	href := func(cursor string) string {
		q := url.Values{}
		for k, vs := range filters {
			if len(vs) > 0 && vs[0] != "" {
				q[k] = vs
			}
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		if len(q) == 0 {
			return path
		}
		return path + "?" + q.Encode()
	}
	p := views.Pager{Shown: shown, Total: total, Noun: noun}
	if cursor != "" {
		p.First = href("")
	}
	if next != "" {
		p.Next = href(next)
	}
	return p
}

func jsonEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
