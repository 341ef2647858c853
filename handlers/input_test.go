package handlers_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Names a person gives things all pass one rule (handlers/input.go, store.NameProblem):
// valid UTF-8, something visible, no control characters. The API answers 422 naming the
// field (400 for a body that is not UTF-8, SPEC §5); the pages show the error inline and
// keep what was typed.

// badNames are names every form and endpoint must refuse.
var badNames = []struct{ what, name string }{
	{"only a NUL", "\x00"},
	{"NUL inside", "Acme\x00Corp"},
	{"only invisible spaces", "\u200b\u2060\u3000"},
	{"line break inside", "Acme\nCorp"},
	{"tab inside", "Acme\tCorp"},
	{"terminal escape", "Acme \x1b[31mCorp"},
	{"direction override", "Acme \u202eproC"},
	{"invalid UTF-8", "Acme \xff\xfe"},
}

// nameEndpoint is one API call that takes a name; body is built around the name given.
type nameEndpoint struct {
	method, path, field string
	body                func(name string) map[string]any
}

func TestAPIRefusesBadNames(t *testing.T) {
	f := newAPIFixture(t)
	hook := f.createWebhook(t, f.adminToken, map[string]any{"name": "Hook", "url": publicURL})
	endpoints := []nameEndpoint{
		{"POST", "/api/v1/webhooks", "name", func(n string) map[string]any { return map[string]any{"name": n, "url": publicURL} }},
		{"PATCH", "/api/v1/webhooks/" + hook.ID, "name", func(n string) map[string]any { return map[string]any{"name": n} }},
		{"POST", "/api/v1/organizations", "name", func(n string) map[string]any { return map[string]any{"name": n} }},
		{"PATCH", "/api/v1/organizations/" + f.acme.ID, "name", func(n string) map[string]any { return map[string]any{"name": n} }},
		{"POST", "/api/v1/projects", "name", func(n string) map[string]any {
			return map[string]any{"organizationId": f.acme.ID, "name": n}
		}},
		{"PATCH", "/api/v1/projects/" + f.alpha.ID, "name", func(n string) map[string]any { return map[string]any{"name": n} }},
		{"POST", "/api/v1/users", "name", func(n string) map[string]any {
			return map[string]any{"email": "new@example.com", "name": n, "password": testPassword, "role": "member"}
		}},
		{"PATCH", "/api/v1/users/" + f.mia.ID, "name", func(n string) map[string]any { return map[string]any{"name": n} }},
		{"POST", "/api/v1/event-types", "label", func(n string) map[string]any {
			return map[string]any{"name": "INVOICE_PAID", "label": n}
		}},
		{"POST", "/api/v1/event-types", "category", func(n string) map[string]any {
			return map[string]any{"name": "INVOICE_PAID", "label": "Invoice paid", "category": n}
		}},
	}
	for _, ep := range endpoints {
		for _, bad := range badNames {
			t.Run(ep.method+" "+ep.path+" "+ep.field+"/"+bad.what, func(t *testing.T) {
				before, hookBefore := f.state(t), f.webhookState(t, hook.ID)
				hooks := len(f.allWebhooks(t))
				// Built by hand: encoding/json would turn invalid bytes into U+FFFD.
				body, err := json.Marshal(ep.body("\x01placeholder\x01"))
				if err != nil {
					t.Fatal(err)
				}
				raw := strings.Replace(string(body), `"\u0001placeholder\u0001"`, quoteRaw(bad.name), 1)
				r := f.api(f.adminToken, ep.method, ep.path, raw)
				if strings.Contains(bad.what, "UTF-8") {
					wantProblem(t, r, http.StatusBadRequest)
				} else {
					p := wantFieldErrors(t, r, ep.field)
					if msg := p.Errors[0].Message; msg == "" {
						t.Errorf("no message for %s", ep.field)
					}
				}
				f.unchanged(t, before, "a refused name")
				if f.webhookState(t, hook.ID) != hookBefore || len(f.allWebhooks(t)) != hooks {
					t.Errorf("a refused name changed the webhooks")
				}
			})
		}
	}
	// Good names with accents, scripts and emoji still pass.
	f.call(t, f.adminToken, "POST", "/api/v1/organizations", map[string]any{"name": "Zoë 山田 👩\u200d💻"}, http.StatusCreated)
}

// quoteRaw writes s as a JSON string, keeping bytes that are not UTF-8 as they are.
func quoteRaw(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteString("0123456789abcdef"[c>>4 : c>>4+1])
			b.WriteString("0123456789abcdef"[c&15 : c&15+1])
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// nameForm is one page form that takes a name: where it posts, the other fields it needs,
// and the name and id of the field.
type nameForm struct {
	what, path, field, inputID string
	extra                      url.Values
}

func TestPagesRefuseBadNames(t *testing.T) {
	f := newAPIFixture(t, roomyLogins)
	hook := f.createWebhook(t, f.adminToken, map[string]any{"name": "Hook", "url": publicURL})
	forms := []nameForm{
		{"new webhook", "/webhooks", "name", "name", url.Values{"url": {publicURL}, "all_events": {"1"}, "all_projects": {"1"}}},
		{"edit webhook", "/webhooks/" + hook.ID, "name", "name", url.Values{"url": {publicURL}, "all_events": {"1"}, "all_projects": {"1"}}},
		{"new organisation", "/organizations", "name", "name", nil},
		{"rename organisation", "/organizations/" + f.acme.ID, "name", "name", nil},
		{"new project", "/organizations/" + f.acme.ID + "/projects", "project_name", "project_name", nil},
		{"new user", "/users", "name", "name", url.Values{"email": {"new@example.com"}, "password": {testPassword}, "role": {"member"}}},
		{"edit user", "/users/" + f.mia.ID, "name", "name", url.Values{"email": {f.mia.Email}, "role": {"member"}}},
		{"own account", "/account", "name", "name", url.Values{"email": {f.admin.Email}}},
		{"event type label", "/event-types", "label", "label", url.Values{"name": {"INVOICE_PAID"}}},
		{"API token", "/settings/tokens", "name", "name", nil},
	}
	b := f.signedInAs(f.admin)
	for _, form := range forms {
		for _, bad := range badNames {
			t.Run(form.what+"/"+bad.what, func(t *testing.T) {
				b := b.within(t)
				before, hookBefore := f.state(t), f.webhookState(t, hook.ID)
				hooks := len(f.allWebhooks(t))
				values := url.Values{form.field: {bad.name}}
				for k, v := range form.extra {
					values[k] = v
				}
				p := b.post(form.path, values)
				wantPageStatus(t, p, http.StatusUnprocessableEntity)
				if fieldError(p, form.field) == "" {
					t.Errorf("no inline error next to %s:\n%s", form.field, p.Body)
				}
				// What was typed stays in the field, as the browser reads it back.
				typed := strings.TrimSpace(bad.name)
				kept := strings.ReplaceAll(strings.ToValidUTF8(typed, "\uFFFD"), "\x00", "\uFFFD")
				if got := inputValue(t, p, form.inputID); got != kept {
					t.Errorf("field %s holds %q, want the typed %q", form.inputID, got, kept)
				}
				f.unchanged(t, before, "a refused name")
				if f.webhookState(t, hook.ID) != hookBefore || len(f.allWebhooks(t)) != hooks {
					t.Errorf("a refused name changed the webhooks")
				}
			})
		}
	}
}
