package handlers_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// The builder's delivery controls (SPEC §9), as a person without JavaScript uses them.

// Extra headers are typed one a line; they are saved, shown again on the edit page, named on
// the webhook page, sent with "Send test", and refused names are explained under the field.
func TestWebhookBuilderExtraHeaders(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, "ok")
	b := f.signedInAs(f.mia)

	form := builderForm("test", "With headers", rcv.URL, []string{"TODO_MOVED"}, []string{f.alpha.ID})
	form.Set("headers", "X-Api-Key: k_123\n\n  X-Tenant :  acme  \n")
	p := b.post("/webhooks", form)
	wantPageStatus(t, p, http.StatusOK)
	if got := rcv.last(t, 1).Header; got.Get("X-Api-Key") != "k_123" || got.Get("X-Tenant") != "acme" {
		t.Errorf("Send test carried %v, want the typed headers", got)
	}

	form.Set("action", "save")
	p = b.post("/webhooks", form)
	wantPageStatus(t, p, http.StatusSeeOther)
	id := webhookPath.FindStringSubmatch(p.Header.Get("Location"))[1]
	if h := f.storedWebhook(t, id).Headers; len(h) != 2 || h["X-Api-Key"] != "k_123" || h["X-Tenant"] != "acme" {
		t.Errorf("stored headers %v", h)
	}
	if got := squash(b.follow(p).Doc.Find(`[data-testid="webhook-headers"]`).Text()); got != "Every request also carries X-Api-Key, X-Tenant." {
		t.Errorf("webhook page says %q", got)
	}
	if got := b.get("/webhooks/" + id + "/edit").Doc.Find("textarea#headers").Text(); got != "X-Api-Key: k_123\nX-Tenant: acme" {
		t.Errorf("edit page shows headers %q", got)
	}

	for _, c := range []struct{ text, says string }{
		{"X-Signature: forged", "set by Hookyard itself"},
		{"Host: elsewhere.test", "URL"},
		{"Connection: close", "hop-by-hop"},
		{"X-Api-Key k_123", "Line 1 has no colon"},
		{"X-A: 1\nX-A: 2", "given twice"},
	} {
		form.Set("headers", c.text)
		p := b.post("/webhooks/"+id, form)
		wantPageStatus(t, p, http.StatusUnprocessableEntity)
		if got := fieldError(p, "headers"); !strings.Contains(got, c.says) {
			t.Errorf("%q: error under the field %q, want it to say %q", c.text, got, c.says)
		}
		if h := f.storedWebhook(t, id).Headers; len(h) != 2 {
			t.Errorf("%q: a refused save changed the headers to %v", c.text, h)
		}
	}
	form.Set("headers", "")
	wantSeeOther(t, b.post("/webhooks/"+id, form), "/webhooks/"+id)
	if h := f.storedWebhook(t, id).Headers; len(h) != 0 {
		t.Errorf("emptied headers stored as %v", h)
	}
}

// The "Only when…" section, without JavaScript: fields come from recent events' payloads
// with readable names, the preview tries the conditions on the last matching events and
// says which condition left each out, rows are added and removed, and the filter is saved
// with values typed as the field holds them.
func TestWebhookBuilderOnlyWhen(t *testing.T) {
	f := newWebhookFixture(t)
	for i, st := range []string{"Open", "Done", "Done", "Open", "Done"} {
		f.publishEvent(t, f.adminToken, map[string]any{"event": "TODO_DONE_STATUS_UPDATED", "projectId": f.alpha.ID,
			"currentValue": map[string]any{"status": st, "points": i + 1, "title": fmt.Sprintf("Task %d", i+1)}})
	}
	f.publishEvent(t, f.adminToken, map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID, "currentValue": map[string]any{"status": "Open"}})
	f.publishEvent(t, f.ottoToken, map[string]any{"event": "TODO_DONE_STATUS_UPDATED", "projectId": f.beta.ID, "currentValue": map[string]any{"status": "Done", "secret": 1}})
	b := f.signedInAs(f.mia)

	form := builderForm("preview", "Done only", publicURL, []string{"TODO_DONE_STATUS_UPDATED"}, []string{f.alpha.ID})
	p := b.post("/webhooks", form)
	wantPageStatus(t, p, http.StatusOK)
	fields := textsOf(p.Doc.Find(`#filter_path_0 option`))
	for _, want := range []string{"Choose a field…", "Current value → status", "Current value → points", "Current value → title", "Event type", "Project"} {
		if !slices.Contains(fields, want) {
			t.Errorf("fields offered %v, want %q among them", fields, want)
		}
	}
	if slices.Contains(fields, "Current value → secret") {
		t.Errorf("a field of an event Mia may not see (Bolt's) is offered: %v", fields)
	}
	if got := squash(p.Doc.Find(`[data-testid="filter-preview-text"]`).Text()); got != "Of the last 5 matching events, all 5 would have been sent: add a condition to narrow them down." {
		t.Errorf("preview without conditions: %q", got)
	}
	if got := textsOf(p.Doc.Find(`#filter_op_0 option`)); !slices.Contains(got, "is") || !slices.Contains(got, "changed") || !slices.Contains(got, "is one of") {
		t.Errorf("operators offered %v, want them in words", got)
	}

	form.Set("filter_match", "all")
	form["filter_path"] = []string{"currentValue.status"}
	form["filter_op"] = []string{"eq"}
	form["filter_value"] = []string{"Done"}
	p = b.post("/webhooks", form)
	if got := squash(p.Doc.Find(`[data-testid="filter-preview-text"]`).Text()); got != "Of the last 5 matching events, 3 would have been sent." {
		t.Errorf("preview: %q", got)
	}
	rows := textsOf(p.Doc.Find(`[data-testid="filter-preview-row"]`))
	if len(rows) != 5 || !strings.Contains(rows[0], "Sent") || !strings.Contains(rows[1], "Left out") ||
		!strings.Contains(rows[1], "Current value → status is “Done” did not hold (it was “Open”)") {
		t.Errorf("preview rows %q, want newest first, each sent or left out with the reason", rows)
	}
	if got := squash(p.Doc.Find("#summary").Text()); !strings.HasSuffix(got, ", only when Current value → status is “Done”.") {
		t.Errorf("summary %q, want the filter in words", got)
	}

	// Add a row, then remove the first: the rows follow.
	form.Set("action", "filter_add")
	p = b.post("/webhooks", form)
	if n := p.Doc.Find(`[data-testid="filter-row"]`).Length(); n != 2 {
		t.Fatalf("after Add a condition: %d rows, want 2", n)
	}
	form["filter_path"] = []string{"currentValue.status", "currentValue.points"}
	form["filter_op"] = []string{"eq", "gte"}
	form["filter_value"] = []string{"Done", "3"}
	form.Set("action", "preview")
	p = b.post("/webhooks", form)
	if got := squash(p.Doc.Find(`[data-testid="filter-preview-text"]`).Text()); got != "Of the last 5 matching events, 2 would have been sent." {
		t.Errorf("preview with points ≥ 3: %q", got)
	}
	form.Set("action", "filter_remove_0")
	p = b.post("/webhooks", form)
	if n := p.Doc.Find(`[data-testid="filter-row"]`).Length(); n != 1 || inputValue(t, p, "filter_value_0") != "3" {
		t.Errorf("after removing the first: %d rows, first value %q; want the points row only", n, inputValue(t, p, "filter_value_0"))
	}

	// A value the operator cannot use is marked on its row, and nothing is saved.
	form["filter_path"] = []string{"currentValue.status", "currentValue.points"}
	form["filter_op"] = []string{"eq", "gt"}
	form["filter_value"] = []string{"Done", "lots"}
	form.Set("action", "save")
	p = b.post("/webhooks", form)
	wantPageStatus(t, p, http.StatusUnprocessableEntity)
	if got := squash(p.Doc.Find(`[data-testid="filter-row"]`).Eq(1).Find(".error-text").Text()); !strings.Contains(got, "Condition 2 (currentValue.points)") {
		t.Errorf("the second row says %q, want its problem", got)
	}
	if n := len(f.allWebhooks(t)); n != 0 {
		t.Fatalf("%d webhooks saved with an invalid filter", n)
	}

	form["filter_value"] = []string{"Done", "3"}
	form["filter_op"] = []string{"eq", "gte"}
	p = b.post("/webhooks", form)
	wantPageStatus(t, p, http.StatusSeeOther)
	id := webhookPath.FindStringSubmatch(p.Header.Get("Location"))[1]
	got := f.storedWebhook(t, id).Filter
	if got == nil || got.Match != "all" || len(got.Conditions) != 2 || string(got.Conditions[0].Value) != `"Done"` || string(got.Conditions[1].Value) != `3` {
		t.Fatalf("stored filter %+v, want status \"Done\" and points ≥ the number 3", got)
	}
	if said := squash(b.follow(p).Doc.Find(`[data-testid="webhook-filter"]`).Text()); said != "Current value → status is “Done” and Current value → points is at least 3." {
		t.Errorf("webhook page says %q", said)
	}
	edit := b.get("/webhooks/" + id + "/edit")
	if inputValue(t, edit, "filter_value_1") != "3" || selectedValue(edit, "filter_path_1") != "currentValue.points" || selectedValue(edit, "filter_op_1") != "gte" {
		t.Errorf("the edit page does not show the saved conditions")
	}
	// Switching all conditions off removes the filter.
	form["filter_path"] = []string{"", ""}
	wantSeeOther(t, b.post("/webhooks/"+id, form), "/webhooks/"+id)
	if got := f.storedWebhook(t, id).Filter; got != nil {
		t.Errorf("with no field chosen the filter is %+v, want none", got)
	}
}

// selectedValue is the value of the selected option of a select.
func selectedValue(p page, id string) string {
	v, _ := p.Doc.Find("#" + id + " option[selected]").Attr("value")
	return v
}
