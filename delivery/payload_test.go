package delivery_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"testing"
	"time"

	"hookyard/delivery"
	"hookyard/store"
)

func sortedKeys(m map[string]json.RawMessage) []string {
	return slices.Sorted(maps.Keys(m))
}

func decodeObject(t *testing.T, raw []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, raw)
	}
	return m
}

func payloadWebhook() store.Webhook {
	expires := time.Now().Add(time.Hour)
	return store.Webhook{
		ID:              "wh_1",
		OwnerID:         "usr_1",
		Name:            "Board sync",
		URL:             "https://receiver.example/hook?a=1&b=2",
		Events:          []string{"TODO_MOVED"},
		ProjectIDs:      []string{"prj_1"},
		Enabled:         true,
		Status:          store.StatusHealthy,
		Secret:          "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		PreviousSecrets: []store.PreviousSecret{{Secret: "whsec_c2VjcmV0LXRoYXQtd2FzLXJvdGF0ZWQtb3V0LTEyMzQ1Ng==", ExpiresAt: expires}},
	}
}

func TestBuildPayloadShape(t *testing.T) {
	w := payloadWebhook()
	ev := delivery.EventData{
		ID:             "evt_1",
		Type:           "TODO_MOVED",
		OrganizationID: "org_1",
		ProjectID:      "prj_1",
		// 11:00:00.123456789 at +01:00 is 10:00:00.123 UTC.
		CreatedAt:     time.Date(2026, 11, 27, 11, 0, 0, 123456789, time.FixedZone("CET", 3600)),
		PreviousValue: json.RawMessage(`{"listId":"lst_a"}`),
		CurrentValue:  json.RawMessage(`{"listId":"lst_b","n":[1,2]}`),
	}
	body, err := delivery.BuildPayload(w, ev)
	if err != nil {
		t.Fatalf("BuildPayload: %v", err)
	}
	top := decodeObject(t, body)
	wantTop := []string{"currentValue", "event", "id", "organizationId", "previousValue", "projectId", "timestamp", "webhook"}
	if got := sortedKeys(top); !slices.Equal(got, wantTop) {
		t.Errorf("payload fields = %v, want exactly %v", got, wantTop)
	}
	strs := map[string]string{}
	for _, k := range []string{"id", "event", "timestamp", "organizationId", "projectId"} {
		var s string
		if err := json.Unmarshal(top[k], &s); err != nil {
			t.Errorf("%s is not a string: %s", k, top[k])
		}
		strs[k] = s
	}
	wantStrs := map[string]string{
		"id": "evt_1", "event": "TODO_MOVED", "timestamp": "2026-11-27T10:00:00.123Z",
		"organizationId": "org_1", "projectId": "prj_1",
	}
	if !maps.Equal(strs, wantStrs) {
		t.Errorf("payload strings = %v, want %v", strs, wantStrs)
	}
	assertJSONEqual(t, "previousValue", top["previousValue"], `{"listId":"lst_a"}`)
	assertJSONEqual(t, "currentValue", top["currentValue"], `{"listId":"lst_b","n":[1,2]}`)

	wh := decodeObject(t, top["webhook"])
	if got, want := sortedKeys(wh), []string{"enabled", "id", "metadata", "status", "url"}; !slices.Equal(got, want) {
		t.Errorf("webhook fields = %v, want exactly %v", got, want)
	}
	assertJSONEqual(t, "webhook.id", wh["id"], `"wh_1"`)
	assertJSONEqual(t, "webhook.url", wh["url"], `"https://receiver.example/hook?a=1&b=2"`)
	assertJSONEqual(t, "webhook.status", wh["status"], `"HEALTHY"`)
	assertJSONEqual(t, "webhook.enabled", wh["enabled"], `true`)
	md := decodeObject(t, wh["metadata"])
	if got, want := sortedKeys(md), []string{"events", "projectIds"}; !slices.Equal(got, want) {
		t.Errorf("webhook.metadata fields = %v, want exactly %v", got, want)
	}
	assertJSONEqual(t, "metadata.events", md["events"], `["TODO_MOVED"]`)
	assertJSONEqual(t, "metadata.projectIds", md["projectIds"], `["prj_1"]`)
}

func assertJSONEqual(t *testing.T, what string, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("%s: invalid JSON %s: %v", what, got, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad expectation %s: %v", what, want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

func TestBuildPayloadTimestampIsRFC3339MillisUTC(t *testing.T) {
	rfc3339Millis := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
	tests := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), "2026-11-27T10:00:00.000Z"},
		{time.Date(2026, 11, 27, 10, 0, 0, 999999999, time.UTC), "2026-11-27T10:00:00.999Z"},
		{time.Date(2026, 1, 1, 0, 30, 5, 7000000, time.FixedZone("IST", 5*3600+1800)), "2025-12-31T19:00:05.007Z"},
		{time.Date(2026, 3, 1, 20, 0, 0, 120000000, time.FixedZone("PST", -8*3600)), "2026-03-02T04:00:00.120Z"},
	}
	for _, tt := range tests {
		body, err := delivery.BuildPayload(payloadWebhook(), delivery.EventData{ID: "evt_1", Type: "TODO_CREATED", CreatedAt: tt.at})
		if err != nil {
			t.Fatalf("BuildPayload: %v", err)
		}
		var p struct{ Timestamp string }
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		if p.Timestamp != tt.want || !rfc3339Millis.MatchString(p.Timestamp) {
			t.Errorf("timestamp for %v = %q, want %q", tt.at, p.Timestamp, tt.want)
		}
		if _, err := time.Parse(time.RFC3339Nano, p.Timestamp); err != nil {
			t.Errorf("timestamp %q is not RFC 3339: %v", p.Timestamp, err)
		}
	}
}

func TestBuildPayloadNullsAndEmptySelections(t *testing.T) {
	tests := []struct {
		name               string
		events, projects   []string
		prev, cur          json.RawMessage
		wantPrev, wantCur  string
		wantEvts, wantPrjs string
	}{
		{"nil values and nil selections", nil, nil, nil, nil, "null", "null", "[]", "[]"},
		{"empty values and empty selections", []string{}, []string{}, json.RawMessage{}, json.RawMessage{}, "null", "null", "[]", "[]"},
		{"explicit JSON null", nil, []string{"prj_1"}, json.RawMessage("null"), json.RawMessage(`{"a":1}`), "null", `{"a":1}`, "[]", `["prj_1"]`},
		{"scalar values", []string{"TODO_CREATED"}, nil, json.RawMessage(`"old"`), json.RawMessage(`0`), `"old"`, `0`, `["TODO_CREATED"]`, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := payloadWebhook()
			w.Events, w.ProjectIDs = tt.events, tt.projects
			body, err := delivery.BuildPayload(w, delivery.EventData{
				ID: "evt_1", Type: "TODO_CREATED", CreatedAt: time.Now(),
				PreviousValue: tt.prev, CurrentValue: tt.cur,
			})
			if err != nil {
				t.Fatalf("BuildPayload: %v", err)
			}
			top := decodeObject(t, body)
			// Present, and literally null rather than missing.
			for _, k := range []string{"previousValue", "currentValue"} {
				if _, ok := top[k]; !ok {
					t.Errorf("%s is missing", k)
				}
			}
			assertJSONEqual(t, "previousValue", top["previousValue"], tt.wantPrev)
			assertJSONEqual(t, "currentValue", top["currentValue"], tt.wantCur)
			md := decodeObject(t, decodeObject(t, top["webhook"])["metadata"])
			if got := string(bytes.TrimSpace(md["events"])); got != tt.wantEvts {
				t.Errorf("metadata.events = %s, want %s", got, tt.wantEvts)
			}
			if got := string(bytes.TrimSpace(md["projectIds"])); got != tt.wantPrjs {
				t.Errorf("metadata.projectIds = %s, want %s", got, tt.wantPrjs)
			}
		})
	}
}

func TestBuildPayloadHealthCheck(t *testing.T) {
	w := payloadWebhook()
	w.Enabled, w.Status = false, store.StatusUnhealthy
	body, err := delivery.BuildPayload(w, delivery.EventData{ID: "evt_hc", Type: delivery.HealthCheckEvent, CreatedAt: time.Now()})
	if err != nil {
		t.Fatalf("BuildPayload: %v", err)
	}
	top := decodeObject(t, body)
	assertJSONEqual(t, "event", top["event"], `"WEBHOOK_HEALTH_CHECK"`)
	assertJSONEqual(t, "previousValue", top["previousValue"], "null")
	assertJSONEqual(t, "currentValue", top["currentValue"], "null")
	wh := decodeObject(t, top["webhook"])
	assertJSONEqual(t, "webhook.enabled", wh["enabled"], "false")
	assertJSONEqual(t, "webhook.status", wh["status"], `"UNHEALTHY"`)
}

func TestBuildPayloadNeverContainsSecret(t *testing.T) {
	w := payloadWebhook()
	body, err := delivery.BuildPayload(w, delivery.EventData{
		ID: "evt_1", Type: "TODO_CREATED", CreatedAt: time.Now(),
		CurrentValue: json.RawMessage(`{"name":"x"}`),
	})
	if err != nil {
		t.Fatalf("BuildPayload: %v", err)
	}
	for _, s := range []string{w.Secret, w.PreviousSecrets[0].Secret, "whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "ecret", "Board sync", "usr_1"} {
		if bytes.Contains(body, []byte(s)) {
			t.Errorf("payload contains %q:\n%s", s, body)
		}
	}
}
