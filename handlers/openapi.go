package handlers

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// openAPIDocument describes every /api/v1 route; a test checks it against the route table.
// The `webhooks` section (what receivers get, one entry per event type) is added when the
// document is served, from the event types as they are then.
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPIServed is the whole document as served while the event types are at one version.
type openAPIServed struct {
	version int64
	doc     []byte
}

func (s *Server) openAPI(c echo.Context) error {
	ctx := c.Request().Context()
	v := s.store.Changes()
	if d := s.openAPIDoc.Load(); d != nil && d.version == v {
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, d.doc)
	}
	entries, err := s.eventCatalog(ctx)
	if err != nil {
		return err
	}
	doc, err := withWebhooks(openAPIDocument, entries)
	if err != nil {
		return err
	}
	s.openAPIDoc.Store(&openAPIServed{version: v, doc: doc})
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, doc)
}

// withWebhooks adds the top-level `webhooks` of OpenAPI 3.1 to the static document, one
// entry per catalog entry in catalog order, keeping the document's own layout.
func withWebhooks(static []byte, entries []catalogEntry) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{`)
	for i, e := range entries {
		op, err := json.Marshal(map[string]any{"post": webhookOperation(e)})
		if err != nil {
			return nil, err
		}
		if i > 0 {
			b.WriteString(",")
		}
		name, _ := json.Marshal(e.Type.Name)
		b.WriteString("\n    ")
		b.Write(name)
		b.WriteString(": ")
		b.Write(op)
	}
	b.WriteString("\n  }")
	head := bytes.TrimRight(static[:bytes.LastIndexByte(static, '}')], " \n")
	out := make([]byte, 0, len(head)+b.Len()+32)
	out = append(out, head...)
	out = append(out, ",\n  \"webhooks\": "...)
	out = append(out, b.Bytes()...)
	return append(out, "\n}\n"...), nil
}

// webhookOperation describes the request Hookyard sends for one event type.
func webhookOperation(e catalogEntry) map[string]any {
	t := e.Type
	desc := t.Description
	if desc != "" && !strings.HasSuffix(desc, ".") {
		desc += "."
	}
	switch {
	case !t.Subscribable:
		desc += " Hookyard sends it itself (re-enabling a webhook, or Send test): nobody subscribes to it, and previousValue and currentValue are null."
	case !t.BuiltIn:
		desc += " A custom event type of this installation (category " + t.Category + "): previousValue and currentValue are whatever its publisher sends."
	default:
		desc += " Category: " + t.Category + "."
	}
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/parameters/" + name} }
	payload := map[string]any{"allOf": []any{
		map[string]any{"$ref": "#/components/schemas/WebhookPayload"},
		map[string]any{"type": "object", "properties": map[string]any{
			"event":         map[string]any{"const": t.Name},
			"previousValue": e.valueSchema(e.Previous, "object before the change"),
			"currentValue":  e.valueSchema(e.Current, "object after the change"),
		}},
	}}
	return map[string]any{
		"operationId": "event" + camel(t.Name),
		"tags":        []string{"Webhook events"},
		"summary":     t.Label,
		"description": strings.TrimSpace(desc),
		"security":    []any{},
		"parameters": []any{
			ref("WebhookIdHeader"), ref("WebhookTimestampHeader"), ref("WebhookSignatureHeader"), ref("XSignatureHeader"),
			map[string]any{"name": "X-Hookyard-Event", "in": "header", "required": true, "description": "The event type.",
				"schema": map[string]any{"type": "string", "const": t.Name}, "example": t.Name},
			ref("HookyardAttemptHeader"), ref("UserAgentHeader"),
		},
		"requestBody": map[string]any{
			"required":    true,
			"description": "The payload, signed (verify the signature against these exact bytes before parsing them).",
			"content": map[string]any{
				"application/json": map[string]any{"schema": payload, "example": json.RawMessage(e.Example)},
			},
		},
		"responses": map[string]any{
			"2XX": map[string]any{"description": "Received: any 2xx within the request timeout (10 s unless configured) ends the delivery as succeeded."},
			"410": map[string]any{"description": "Gone: Hookyard switches the webhook off at once; events for it are kept as missed."},
			"default": map[string]any{"description": "Anything else, a redirect or no answer in time is a failure: the request is tried again " +
				"(5 attempts in all, by default 10 s, 1 min, 10 min and 1 h apart; Retry-After on 429 and 503 is honoured up to 1 h), " +
				"and after the last the webhook is switched off."},
		},
	}
}

// camel turns TODO_CREATED into TodoCreated.
func camel(name string) string {
	var b strings.Builder
	for _, w := range strings.Split(strings.ToLower(name), "_") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}
