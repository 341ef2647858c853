package handlers_test

import "testing"

func TestOpenAPIZZSanity(t *testing.T) {
	_, doc := fetchOpenAPI(t)
	ref := func(n string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + n} }
	for _, c := range []struct {
		schema string
		v      any
		bad    bool
	}{
		{"Attempt", map[string]any{"requestHeaders": map[string]any{"A": []any{"x"}}}, true},
		{"Attempt", map[string]any{"requestHeaders": map[string]any{"A": "x"}}, true},
		{"EventOutcome", map[string]any{"webhookId": "w", "webhookName": "n", "state": "weird", "reason": "", "delivery": nil}, true},
		{"EventOutcome", map[string]any{"webhookId": "w", "webhookName": "n", "state": "missed", "reason": "", "delivery": nil}, false},
		{"EventOutcome", map[string]any{"webhookId": "w", "webhookName": "n", "state": "missed", "reason": "", "delivery": map[string]any{"x": 1}}, true},
		{"Event", map[string]any{"id": "e", "event": "E", "organizationId": "o", "projectId": "p", "previousValue": map[string]any{"any": 1}, "currentValue": nil, "createdAt": "t"}, false},
		{"Event", map[string]any{"id": "e", "event": "E", "organizationId": "o", "projectId": "p", "previousValue": nil, "currentValue": nil, "createdAt": "t", "extra": 1}, true},
		{"WebhookHealth", map[string]any{"successRate24h": nil, "attempts24h": 0, "failures24h": 0, "consecutiveFailures": 0, "lastSuccessAt": nil, "lastFailureAt": nil, "lastError": "", "latencyP50Ms": 1.5, "latencyP95Ms": nil}, false},
		{"WebhookHealth", map[string]any{"successRate24h": "x", "attempts24h": 0, "failures24h": 0, "consecutiveFailures": 0, "lastSuccessAt": nil, "lastFailureAt": nil, "lastError": "", "latencyP50Ms": 1.5, "latencyP95Ms": nil}, true},
	} {
		errs := openAPIShapeErrors(t, doc, c.schema, ref(c.schema), c.v)
		if (len(errs) > 0) != c.bad {
			t.Errorf("%s %v: errs %v, want bad=%v", c.schema, c.v, errs, c.bad)
		}
	}
}
