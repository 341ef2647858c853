package handlers_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/pb33f/libopenapi"

	"hookyard/store"
)

// The OpenAPI document's top-level webhooks (the event catalog), read with an OpenAPI 3.1
// parser nobody here wrote: every event type a receiver may get is there, custom types
// included and added at once, each with the signature headers, a payload schema and an
// example; the example, like a real request, fits the schema.
func TestOpenAPIWebhooksListEveryEventType(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	addType := func(name, label string) {
		f.call(t, f.adminToken, http.MethodPost, "/api/v1/event-types",
			map[string]string{"name": name, "label": label, "category": "Billing", "description": "Happens in billing."}, http.StatusCreated)
	}
	addType("INVOICE_PAID", "Invoice paid")
	fetch := func() (openAPIDoc, map[string]*webhookOp) {
		t.Helper()
		r := f.call(t, "", http.MethodGet, "/api/v1/openapi.json", nil, http.StatusOK)
		doc, err := libopenapi.NewDocument(r.Body)
		if err != nil {
			t.Fatalf("libopenapi cannot read the document: %v", err)
		}
		model, err := doc.BuildV3Model()
		if err != nil {
			t.Fatalf("libopenapi finds errors in the document: %v", err)
		}
		if v := model.Model.Version; v != "3.1.0" {
			t.Errorf("openapi %q, want 3.1.0", v)
		}
		ops := map[string]*webhookOp{}
		for name, item := range model.Model.Webhooks.FromOldest() {
			op := &webhookOp{}
			if item.Post == nil {
				t.Errorf("webhooks.%s has no post", name)
				continue
			}
			op.summary = item.Post.Summary
			for _, p := range item.Post.Parameters {
				if p.In == "header" {
					op.headers = append(op.headers, p.Name)
				}
			}
			if rb := item.Post.RequestBody; rb != nil {
				if mt := rb.Content.GetOrZero("application/json"); mt != nil {
					op.schema = mt.Schema != nil && mt.Schema.Schema() != nil && mt.Schema.GetBuildError() == nil
					if mt.Example != nil {
						if err := mt.Example.Decode(&op.example); err != nil {
							t.Errorf("webhooks.%s: example does not decode: %v", name, err)
						}
					}
				}
			}
			ops[name] = op
		}
		var raw openAPIDoc
		if err := json.Unmarshal(r.Body, &raw); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(r.Body, &raw.raw); err != nil {
			t.Fatal(err)
		}
		return raw, ops
	}
	raw, ops := fetch()

	types := decode[listPage[store.EventType]](t, f.call(t, f.adminToken, http.MethodGet, "/api/v1/event-types?limit=500", nil, http.StatusOK)).Data
	if len(types) < 39 {
		t.Fatalf("%d event types, want the 38 built-in ones and INVOICE_PAID", len(types))
	}
	if len(ops) != len(types) {
		t.Errorf("webhooks has %d entries, want one per event type (%d)", len(ops), len(types))
	}
	for _, et := range types {
		op, ok := ops[et.Name]
		if !ok {
			t.Errorf("event type %s is not under webhooks", et.Name)
			continue
		}
		if op.summary != et.Label {
			t.Errorf("webhooks.%s summary %q, want the label %q", et.Name, op.summary, et.Label)
		}
		for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature", "X-Signature", "X-Hookyard-Event", "X-Hookyard-Attempt"} {
			if !contains(op.headers, h) {
				t.Errorf("webhooks.%s does not describe the %s header (has %v)", et.Name, h, op.headers)
			}
		}
		if !op.schema {
			t.Errorf("webhooks.%s has no payload schema libopenapi can build", et.Name)
		}
		ex, _ := op.example.(map[string]any)
		if ex["event"] != et.Name {
			t.Errorf("webhooks.%s example %v, want a payload of that event", et.Name, op.example)
			continue
		}
		openAPICheckShape(t, raw, "webhooks."+et.Name+" example", webhookSchema(t, raw, et.Name), jsonRoundTrip(t, ex))
	}

	// A real request fits its entry.
	rcv := newReceiver(t, http.StatusOK, "ok")
	hook := f.createWebhook(t, f.miaToken, map[string]any{"name": "Hook", "url": rcv.URL})
	f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+hook.ID+"/test", map[string]any{"event": "TODO_MOVED"}, http.StatusOK)
	var sent any
	if err := json.Unmarshal(rcv.last(t, 1).Body, &sent); err != nil {
		t.Fatal(err)
	}
	openAPICheckShape(t, raw, "a TODO_MOVED request", webhookSchema(t, raw, "TODO_MOVED"), sent)

	// A type added later is in the next document served.
	addType("REFUND_ISSUED", "Refund issued")
	if _, ops := fetch(); ops["REFUND_ISSUED"] == nil || ops["REFUND_ISSUED"].summary != "Refund issued" {
		t.Errorf("a custom type added after the document was served is not under webhooks")
	}
}

// webhookOp is what the test reads of one webhooks entry through libopenapi.
type webhookOp struct {
	summary string
	headers []string
	schema  bool
	example any
}

// webhookSchema is the payload schema of webhooks.<name> as plain JSON.
func webhookSchema(t *testing.T, doc openAPIDoc, name string) map[string]any {
	t.Helper()
	w, _ := doc.raw.(map[string]any)["webhooks"].(map[string]any)
	post, _ := w[name].(map[string]any)["post"].(map[string]any)
	rb, _ := post["requestBody"].(map[string]any)
	content, _ := rb["content"].(map[string]any)
	mt, _ := content["application/json"].(map[string]any)
	schema, ok := mt["schema"].(map[string]any)
	if !ok {
		t.Fatalf("webhooks.%s has no application/json schema", name)
	}
	return schema
}

func jsonRoundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
