package handlers_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Payload filters (SPEC §9) through the API: stored, changed and removed on the webhook,
// refused with 422 naming the condition, tried with POST /filters/evaluate, and explained
// on GET /events/{id} and the event page.

func statusIs(value string) map[string]any {
	return map[string]any{"match": "all", "conditions": []map[string]any{{"path": "currentValue.status", "op": "eq", "value": value}}}
}

func TestFilterAPIStoredOnTheWebhook(t *testing.T) {
	f := newAPIFixture(t)
	r := f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks", map[string]any{
		"name": "Done only", "url": publicURL, "filter": statusIs("Done")}, http.StatusCreated)
	w := decode[struct {
		ID     string          `json:"id"`
		Filter json.RawMessage `json:"filter"`
	}](t, r)
	if !sameJSON(t, w.Filter, []byte(`{"match":"all","conditions":[{"path":"currentValue.status","op":"eq","value":"Done"}]}`)) {
		t.Errorf("created with filter %s", w.Filter)
	}
	filterOf := func() string {
		t.Helper()
		raw := decode[map[string]json.RawMessage](t, f.call(t, f.miaToken, http.MethodGet, "/api/v1/webhooks/"+w.ID, nil, http.StatusOK))
		return string(raw["filter"])
	}
	f.call(t, f.miaToken, http.MethodPatch, "/api/v1/webhooks/"+w.ID, map[string]any{"name": "Renamed"}, http.StatusOK)
	if got := filterOf(); !strings.Contains(got, `"Done"`) {
		t.Errorf("a PATCH without filter changed it to %s", got)
	}
	f.call(t, f.miaToken, http.MethodPatch, "/api/v1/webhooks/"+w.ID, map[string]any{"filter": statusIs("Closed")}, http.StatusOK)
	if got := filterOf(); !strings.Contains(got, `"Closed"`) {
		t.Errorf("after a PATCH to Closed the filter is %s", got)
	}
	f.call(t, f.miaToken, http.MethodPatch, "/api/v1/webhooks/"+w.ID, map[string]any{"filter": nil}, http.StatusOK)
	if got := filterOf(); got != "null" {
		t.Errorf("after a PATCH to null the filter is %s", got)
	}
	plain := f.createWebhook(t, f.miaToken, map[string]any{"name": "Plain", "url": publicURL})
	raw := decode[map[string]json.RawMessage](t, f.call(t, f.miaToken, http.MethodGet, "/api/v1/webhooks/"+plain.ID, nil, http.StatusOK))
	if string(raw["filter"]) != "null" {
		t.Errorf("a webhook made without a filter answers filter %s, want null", raw["filter"])
	}
}

func TestFilterAPIRefusesInvalidFilters(t *testing.T) {
	f := newAPIFixture(t)
	existing := f.createWebhook(t, f.miaToken, map[string]any{"name": "Kept", "url": publicURL, "filter": statusIs("Done")})
	cond := func(path, op string, value any) map[string]any {
		c := map[string]any{"path": path, "op": op}
		if value != nil {
			c["value"] = value
		}
		return c
	}
	many := make([]map[string]any, 21)
	for i := range many {
		many[i] = cond("currentValue.n", "gt", i)
	}
	cases := []struct {
		name   string
		filter any
		field  string
		says   []string
	}{
		{"21 conditions", map[string]any{"match": "all", "conditions": many}, "filter.conditions", []string{"at most 20", "21"}},
		{"unknown operator", map[string]any{"conditions": []any{cond("currentValue.status", "eq", "Done"), cond("currentValue.points", "bigger", 3)}},
			"filter.conditions[1].op", []string{"Condition 2 (currentValue.points)", "gt"}},
		{"gt with words", map[string]any{"conditions": []any{cond("currentValue.due", "gt", "tomorrow")}},
			"filter.conditions[0].value", []string{"Condition 1", "RFC 3339"}},
		{"in without a list", map[string]any{"conditions": []any{cond("currentValue.status", "in", "Done")}},
			"filter.conditions[0].value", []string{"list"}},
		{"changed outside currentValue", map[string]any{"conditions": []any{cond("event", "changed", nil)}},
			"filter.conditions[0].path", []string{"currentValue"}},
		{"path outside the payload", map[string]any{"conditions": []any{cond("secret", "exists", nil)}},
			"filter.conditions[0].path", []string{"currentValue"}},
		{"match neither all nor any", map[string]any{"match": "most", "conditions": []any{cond("event", "exists", nil)}},
			"filter.match", []string{`"all"`, `"any"`}},
		{"no conditions", map[string]any{"match": "any", "conditions": []any{}}, "filter.conditions", []string{"at least one", "null"}},
		{"a misspelt field", map[string]any{"conditions": []any{map[string]any{"path": "event", "operator": "eq", "value": "X"}}},
			"filter", []string{"operator"}},
		{"not an object", "status = Done", "filter", []string{"Not a filter"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := f.state(t)
			for _, req := range []struct{ method, path string }{
				{http.MethodPost, "/api/v1/webhooks"}, {http.MethodPatch, "/api/v1/webhooks/" + existing.ID}} {
				r := f.api(f.miaToken, req.method, req.path, map[string]any{"name": "Refused", "url": publicURL, "filter": c.filter})
				p := wantFieldErrors(t, r, c.field)
				for _, e := range p.Errors {
					for _, word := range c.says {
						if e.Field == c.field && !strings.Contains(e.Message, word) {
							t.Errorf("%s: %s says %q, want it to say %q", req.method, e.Field, e.Message, word)
						}
					}
				}
			}
			f.unchanged(t, before, "a refused filter")
		})
	}
}

func TestFilterAPIEvaluate(t *testing.T) {
	f := newAPIFixture(t)
	pub := f.publishEvent(t, f.adminToken, map[string]any{"event": "TODO_MOVED", "projectId": f.alpha.ID,
		"previousValue": map[string]any{"status": "Open"}, "currentValue": map[string]any{"status": "Done", "points": 3}})
	filter := map[string]any{"match": "all", "conditions": []map[string]any{
		{"path": "currentValue.status", "op": "eq", "value": "Done"},
		{"path": "currentValue.points", "op": "gte", "value": 5},
		{"path": "currentValue.assignee", "op": "exists"},
		{"path": "currentValue.status", "op": "changed"},
	}}
	type result struct {
		Matches    bool `json:"matches"`
		Conditions []struct {
			Path    string          `json:"path"`
			Op      string          `json:"op"`
			Matches bool            `json:"matches"`
			Actual  json.RawMessage `json:"actual"`
			Found   bool            `json:"found"`
		} `json:"conditions"`
	}
	// Mia is in Acme, where the event happened.
	r := f.call(t, f.miaToken, http.MethodPost, "/api/v1/filters/evaluate", map[string]any{"filter": filter, "eventId": pub.ID}, http.StatusOK)
	wantJSON(t, r, http.StatusOK)
	got := decode[result](t, r)
	want := []struct {
		matches, found bool
		actual         string
	}{{true, true, `"Done"`}, {false, true, `3`}, {false, false, `null`}, {true, true, `"Done"`}}
	if got.Matches || len(got.Conditions) != len(want) {
		t.Fatalf("evaluate = %s, want not matching, 4 conditions", r.Body)
	}
	for i, w := range want {
		c := got.Conditions[i]
		if c.Matches != w.matches || c.Found != w.found || string(c.Actual) != w.actual || c.Path == "" || c.Op == "" {
			t.Errorf("condition %d = %+v (actual %s), want %+v", i, c, c.Actual, w)
		}
	}
	// A payload given as is.
	r = f.call(t, f.ottoToken, http.MethodPost, "/api/v1/filters/evaluate", map[string]any{"filter": statusIs("Done"),
		"payload": map[string]any{"event": "TODO_MOVED", "currentValue": map[string]any{"status": "Done"}}}, http.StatusOK)
	if got := decode[result](t, r); !got.Matches || !got.Conditions[0].Matches {
		t.Errorf("on a payload: %s, want matching", r.Body)
	}
	// Otto (Bolt) may not see Acme's event: the same answer as for no event at all.
	wantProblem(t, f.api(f.ottoToken, http.MethodPost, "/api/v1/filters/evaluate", map[string]any{"filter": filter, "eventId": pub.ID}), http.StatusNotFound)
	wantProblem(t, f.api(f.miaToken, http.MethodPost, "/api/v1/filters/evaluate", map[string]any{"filter": filter, "eventId": "evt_missing"}), http.StatusNotFound)
	// What is missing or wrong is said.
	wantFieldErrors(t, f.api(f.miaToken, http.MethodPost, "/api/v1/filters/evaluate", map[string]any{"filter": filter}), "eventId")
	wantFieldErrors(t, f.api(f.miaToken, http.MethodPost, "/api/v1/filters/evaluate", map[string]any{"filter": filter, "eventId": pub.ID,
		"payload": map[string]any{}}), "eventId")
	wantFieldErrors(t, f.api(f.miaToken, http.MethodPost, "/api/v1/filters/evaluate", map[string]any{"eventId": pub.ID}), "filter")
	wantFieldErrors(t, f.api(f.miaToken, http.MethodPost, "/api/v1/filters/evaluate", map[string]any{"filter": filter, "payload": []int{1}}), "payload")
	wantFieldErrors(t, f.api(f.miaToken, http.MethodPost, "/api/v1/filters/evaluate", map[string]any{"eventId": pub.ID,
		"filter": map[string]any{"conditions": []map[string]any{{"path": "currentValue.points", "op": "lt", "value": "few"}}}}), "filter.conditions[0].value")
	wantProblem(t, f.api("", http.MethodPost, "/api/v1/filters/evaluate", map[string]any{"filter": filter, "eventId": pub.ID}), http.StatusUnauthorized)
}

// When a filter leaves an event out, GET /events/{id} and the event page say which condition
// failed and the value it saw; the event gets no delivery.
func TestEventOutcomeNamesTheFailedCondition(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate, roomyLogins)
	rcv := newReceiver(t, http.StatusOK, "ok")
	done := f.createWebhook(t, f.miaToken, map[string]any{"name": "Done only", "url": rcv.URL, "filter": statusIs("Done")})
	either := f.createWebhook(t, f.miaToken, map[string]any{"name": "Big or urgent", "url": rcv.URL, "filter": map[string]any{
		"match": "any", "conditions": []map[string]any{
			{"path": "currentValue.points", "op": "gte", "value": 8},
			{"path": "currentValue.tags", "op": "contains", "value": "urgent"}}}})
	pub := f.publishEvent(t, f.adminToken, map[string]any{"event": "TODO_MOVED", "projectId": f.alpha.ID,
		"currentValue": map[string]any{"status": "Open", "points": 3}})
	if pub.Deliveries != 0 {
		t.Errorf("deliveries = %d, want 0: both filters leave the event out", pub.Deliveries)
	}
	r := f.call(t, f.miaToken, http.MethodGet, "/api/v1/events/"+pub.ID, nil, http.StatusOK)
	var detail struct {
		Webhooks []struct {
			WebhookID string `json:"webhookId"`
			State     string `json:"state"`
			Reason    string `json:"reason"`
			Filter    *struct {
				Matches    bool `json:"matches"`
				Conditions []struct {
					Path   string          `json:"path"`
					Actual json.RawMessage `json:"actual"`
					Found  bool            `json:"found"`
				} `json:"conditions"`
			} `json:"filter"`
		} `json:"webhooks"`
	}
	if err := json.Unmarshal(r.Body, &detail); err != nil {
		t.Fatal(err)
	}
	words := map[string][]string{
		done.ID:   {"filter", "Current value → status is “Done”", "it was “Open”"},
		either.ID: {"none of its conditions held", "Current value → points is at least 8", "it was 3", "Current value → tags contains “urgent”", "the field is missing"},
	}
	for _, o := range detail.Webhooks {
		want := words[o.WebhookID]
		if o.State != "not_matched" || o.Filter == nil || o.Filter.Matches {
			t.Errorf("%s: state %q filter %+v, want not_matched with the filter's verdict", o.WebhookID, o.State, o.Filter)
			continue
		}
		for _, w := range want {
			if !strings.Contains(o.Reason, w) {
				t.Errorf("reason %q does not say %q", o.Reason, w)
			}
		}
	}
	if len(detail.Webhooks) != 2 {
		t.Fatalf("Mia sees %d outcomes, want 2: %s", len(detail.Webhooks), r.Body)
	}
	if c := detail.Webhooks[0].Filter.Conditions[0]; c.Path != "currentValue.status" || string(c.Actual) != `"Open"` || !c.Found {
		t.Errorf("first webhook's condition %+v (actual %s), want the status Open it saw", c, c.Actual)
	}

	got := recoveryOutcomes(f.signedInAs(f.mia).get("/events/" + pub.ID))
	if o := got["Done only"]; o.State != "Not sent" || !strings.Contains(o.Reason, "Current value → status is “Done” did not hold (it was “Open”)") {
		t.Errorf("event page for Done only: %+v", o)
	}
}
