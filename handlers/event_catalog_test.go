package handlers_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// The event catalog page shows a receiver's developer every event type (custom ones too):
// its name, what it carries field by field, and an example payload with a Copy as JSON
// button for that very text. It is linked from the event types page.
func TestEventCatalogPage(t *testing.T) {
	f := newAPIFixture(t)
	f.call(t, f.adminToken, http.MethodPost, "/api/v1/event-types",
		map[string]string{"name": "INVOICE_PAID", "label": "Invoice paid", "description": "An invoice was paid."}, http.StatusCreated)
	b := f.signedInAs(f.mia)
	if href, _ := b.get("/event-types").Doc.Find(`[data-testid="catalog-link"]`).Attr("href"); href != "/event-types/catalog" {
		t.Errorf("the event types page links the catalog as %q", href)
	}
	p := b.get("/event-types/catalog")
	wantPageStatus(t, p, http.StatusOK)

	entries := map[string]*goquery.Selection{}
	p.Doc.Find(`[data-testid="catalog-entry"]`).Each(func(_ int, s *goquery.Selection) {
		entries[strings.TrimSpace(s.Find(`[data-testid="catalog-name"]`).Text())] = s
	})
	if len(entries) != 39 {
		t.Errorf("the catalog shows %d event types, want 39 (37 subscribable, the health check, INVOICE_PAID)", len(entries))
	}
	for _, name := range []string{"TODO_MOVED", "COMMENT_CREATED", "WEBHOOK_HEALTH_CHECK", "INVOICE_PAID"} {
		s, ok := entries[name]
		if !ok {
			t.Errorf("%s is not in the catalog", name)
			continue
		}
		pre := s.Find(`[data-testid="catalog-example"]`)
		var payload map[string]any
		if err := json.Unmarshal([]byte(pre.Text()), &payload); err != nil {
			t.Errorf("%s: the example is not JSON: %v\n%s", name, err, pre.Text())
			continue
		}
		if payload["event"] != name {
			t.Errorf("%s: the example is a payload of %v", name, payload["event"])
		}
		id, _ := pre.Attr("id")
		copyButton := s.Find(`button[data-copy="` + id + `"]`)
		if id == "" || strings.TrimSpace(copyButton.Text()) != "Copy as JSON" {
			t.Errorf("%s: no Copy as JSON button for the example (pre id %q)", name, id)
		}
	}
	var rows []string
	entries["TODO_MOVED"].Find(`[data-testid="catalog-fields"] tbody tr`).Each(func(_ int, tr *goquery.Selection) {
		var cells []string
		tr.Find("td").Each(func(_ int, td *goquery.Selection) { cells = append(cells, squash(td.Text())) })
		rows = append(rows, strings.Join(cells, " | "))
	})
	for _, want := range []string{`currentValue.list.name | string | "In progress"`, `currentValue.assignees[].name | string | "Sam Rivera"`,
		`currentValue.dueDate | string (date-time) | "2026-12-04T17:00:00Z"`, `currentValue.done | boolean | false`} {
		if !slices.Contains(rows, want) {
			t.Errorf("TODO_MOVED fields %q do not say %q", rows, want)
		}
	}
	for name, want := range map[string]string{"TODO_MOVED": "previousValue has the same fields", "TODO_CREATED": "previousValue is null",
		"COMMENT_DELETED": "currentValue is null", "WEBHOOK_HEALTH_CHECK": "previousValue and currentValue are null"} {
		if got := squash(entries[name].Find(`[data-testid="catalog-values-note"]`).Text()); !strings.Contains(got, want) {
			t.Errorf("%s says %q about its values, want %q", name, got, want)
		}
	}
	if got := squash(entries["INVOICE_PAID"].Text()); !strings.Contains(got, "whatever the publisher of this custom type sends") || !strings.Contains(got, "Custom") {
		t.Errorf("the custom type says %q, want that its values are the publisher's", got)
	}
	if entries["TODO_MOVED"].Find(`[data-testid="catalog-fields"]`).Length() != 1 || entries["INVOICE_PAID"].Find(`[data-testid="catalog-fields"]`).Length() != 0 {
		t.Errorf("field tables: built-in types have one, custom ones none")
	}
}
