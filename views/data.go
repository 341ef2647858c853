// Package views holds Hookyard's templ components: the layout, one file per page, and
// shared form pieces. Views get plain data from handlers and never query anything.
package views

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"time"

	"hookyard/store"
)

// Assets are the hashed URLs of the static files.
type Assets struct {
	CSS, JS, HTMX, Icon string
}

// Page is what every full page needs: who is signed in, the CSRF token, a flash message.
type Page struct {
	Title  string
	Nav    string // the navigation entry to mark as current
	User   *store.User
	CSRF   string
	Flash  Flash
	Assets Assets
	Now    time.Time // when the page was made, for "3 min ago"
}

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind string // "ok", "bad", "warn", "info"
	Text string
}

// Form carries what a person typed and what was wrong with it, so a rejected form comes back
// exactly as they left it.
type Form struct {
	Values  map[string]string
	Errors  map[string]string
	Message string // a problem with the form as a whole
}

// Value returns what was typed into a field, as text: bytes that are not UTF-8 show as �.
func (f Form) Value(name string) string { return strings.ToValidUTF8(f.Values[name], "\uFFFD") }

// Error returns the problem with a field, or "".
func (f Form) Error(name string) string { return f.Errors[name] }

func fieldClass(f Form, name string) string {
	if f.Error(name) != "" {
		return "field has-error"
	}
	return "field"
}

func errorID(name string) string { return name + "-error" }

func describedBy(f Form, name, hint string) string {
	switch {
	case f.Error(name) != "" && hint != "":
		return errorID(name) + " " + name + "-hint"
	case f.Error(name) != "":
		return errorID(name)
	case hint != "":
		return name + "-hint"
	}
	return ""
}

func navCurrent(p Page, name string) string {
	if p.Nav == name {
		return "page"
	}
	return "false"
}

func isAdmin(p Page) bool { return p.User != nil && p.User.IsAdmin() }

// when formats a time for people: "28 Nov 2026, 14:05 UTC".
func when(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") }

// whenExact formats a time to the second, for logs: "28 Nov 2026, 14:05:09 UTC".
func whenExact(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04:05 UTC") }

// AgoText says how long before now t was, roughly, for lists: "just now", "3 min ago",
// "5 hours ago", "2 days ago"; past a week, the date.
func AgoText(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 24*time.Hour:
		return plural(int(d.Hours()), "hour", "hours") + " ago"
	case d < 7*24*time.Hour:
		return plural(int(d.Hours()/24), "day", "days") + " ago"
	}
	return t.UTC().Format("2 Jan 2006")
}

// whenPtr formats an optional time, with a word for "never".
func whenPtr(t *time.Time, never string) string {
	if t == nil {
		return never
	}
	return when(*t)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func roleLabel(r store.Role) string {
	if r == store.RoleAdmin {
		return "Admin"
	}
	return "Member"
}

// EnumName shows a name such as TODO_CHECKLIST_ITEM_CREATED with line-break chances after
// each underscore, so long names wrap between words instead of mid-word.
func EnumName(name string) templ.Component {
	parts := strings.Split(name, "_")
	for i := range parts {
		parts[i] = html.EscapeString(parts[i])
	}
	return templ.Raw(strings.Join(parts, "_<wbr>"))
}

// headerValue shows a header's value; an event type name (X-Hookyard-Event) may wrap only
// after its underscores.
func headerValue(v string) templ.Component {
	if eventName.MatchString(v) {
		return EnumName(v)
	}
	return templ.Raw(html.EscapeString(v))
}

var eventName = regexp.MustCompile(`^[A-Z][A-Z0-9_]{2,63}$`)

func templURLEscape(s string) string { return url.QueryEscape(s) }

// Pager is the foot of one page of a long list: how much of it is shown, and the way on.
type Pager struct {
	Shown int    // rows on this page
	Total int    // rows in the whole list
	Noun  string // what the rows are, plural: "webhooks"
	First string // address of the first page; "" on the first page
	Next  string // address of the next page; "" on the last page
}

// Paged reports whether the list is longer than one page, so the pager has something to say.
func (p Pager) Paged() bool { return p.First != "" || p.Next != "" }

// thousands writes a count for people: 100000 as "100,000".
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
