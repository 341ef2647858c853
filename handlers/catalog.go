package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"time"

	"hookyard/delivery"
	"hookyard/store"
	"hookyard/views"
)

// The event catalog: what a receiver gets for every event type Hookyard may send (built-in
// and custom, and the health check), with the headers and an example payload. It is served
// as the `webhooks` of the OpenAPI document and as the catalog page, from the event types as
// they are now.

// catalogEntry is one event type as a receiver sees it.
type catalogEntry struct {
	Type store.EventType
	// Previous and Current are the type's sample values (nil for null); Own says they are the
	// type's own (a built-in type), so they describe its usual shape. A custom type gets a
	// generic sample: its values are whatever its publisher sends.
	Previous, Current any
	Own               bool
	Example           []byte // a whole payload, indented
}

// The example payloads use documentation ids and an address that is never called.
const (
	catalogEventID   = "evt_01jd3k5m7q8r9s0t1v2w3x4y5z"
	catalogWebhookID = "wh_01jd3k5m7q8r9s0t1v2w3x4y5z"
	catalogOrgID     = "org_01jd3k5m7q8r9s0t1v2w3x4y5z"
	catalogProjectID = "prj_01jd3k5m7q8r9s0t1v2w3x4y5z"
	catalogURL       = "https://receiver.example/hook"
)

var catalogTime = time.Date(2026, 11, 27, 10, 0, 0, 123e6, time.UTC)

// eventCatalog lists every event type a receiver may get, in the order of the event types
// page, the health check last.
func (s *Server) eventCatalog(ctx context.Context) ([]catalogEntry, error) {
	subs, byName, err := s.subscribableTypes(ctx)
	if err != nil {
		return nil, err
	}
	types := slices.Clone(subs)
	if hc, ok := byName[delivery.HealthCheckEvent]; ok {
		types = append(types, hc)
	}
	out := make([]catalogEntry, 0, len(types))
	for _, t := range types {
		e, err := catalogEntryOf(t)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func catalogEntryOf(t store.EventType) (catalogEntry, error) {
	sample := delivery.SampleFor(t.Name)
	e := catalogEntry{Type: t, Own: delivery.HasSample(t.Name) || t.Name == delivery.HealthCheckEvent}
	for _, v := range []struct {
		raw json.RawMessage
		to  *any
	}{{sample.PreviousValue, &e.Previous}, {sample.CurrentValue, &e.Current}} {
		if len(v.raw) > 0 {
			if err := json.Unmarshal(v.raw, v.to); err != nil {
				return e, err
			}
		}
	}
	w := store.Webhook{ID: catalogWebhookID, URL: catalogURL, Status: store.StatusHealthy, Enabled: true}
	ev := delivery.EventData{ID: catalogEventID, Type: t.Name, CreatedAt: catalogTime,
		PreviousValue: sample.PreviousValue, CurrentValue: sample.CurrentValue}
	if t.Subscribable {
		w.Events, w.ProjectIDs = []string{t.Name}, []string{catalogProjectID}
		ev.OrganizationID, ev.ProjectID = catalogOrgID, catalogProjectID
	}
	body, err := delivery.BuildPayload(w, ev)
	if err != nil {
		return e, err
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, body, "", "  "); err != nil {
		return e, err
	}
	e.Example = indented.Bytes()
	return e, nil
}

// valueSchema is a JSON Schema for previousValue or currentValue of an entry.
func (e catalogEntry) valueSchema(v any, which string) map[string]any {
	switch {
	case !e.Own:
		return map[string]any{"$ref": "#/components/schemas/AnyValue", "description": "The " + which + " as its publisher sent it: any JSON, or null."}
	case v == nil:
		return map[string]any{"type": "null", "description": "Null for this event type."}
	}
	s := schemaOf(v)
	s["description"] = "The " + which + " as its publisher sent it; for this event type usually of this shape."
	return s
}

// schemaOf describes the shape of a decoded JSON value as a JSON Schema (types and
// properties, nothing required: publishers decide the values).
func schemaOf(v any) map[string]any {
	switch v := v.(type) {
	case nil:
		return map[string]any{"type": "null"}
	case bool:
		return map[string]any{"type": "boolean"}
	case float64:
		if v == float64(int64(v)) {
			return map[string]any{"type": "integer"}
		}
		return map[string]any{"type": "number"}
	case string:
		if _, err := time.Parse(time.RFC3339, v); err == nil {
			return map[string]any{"type": "string", "format": "date-time"}
		}
		return map[string]any{"type": "string"}
	case []any:
		s := map[string]any{"type": "array"}
		if len(v) > 0 {
			s["items"] = schemaOf(v[0])
		}
		return s
	case map[string]any:
		props := map[string]any{}
		for k, x := range v {
			props[k] = schemaOf(x)
		}
		return map[string]any{"type": "object", "properties": props}
	}
	return map[string]any{}
}

// catalogFields lists the fields of a sample value for the catalog page: a path such as
// currentValue.assignees[].name, the JSON type and an example.
func catalogFields(prefix string, v any) []views.CatalogField {
	var out []views.CatalogField
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			out = append(out, views.CatalogField{Path: path, Type: "object"})
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(path+"."+k, x[k])
			}
		case []any:
			out = append(out, views.CatalogField{Path: path, Type: "array"})
			if len(x) > 0 {
				walk(path+"[]", x[0])
			}
		default:
			t, _ := schemaOf(v)["type"].(string)
			if f, _ := schemaOf(v)["format"].(string); f != "" {
				t += " (" + f + ")"
			}
			ex, _ := json.Marshal(v)
			out = append(out, views.CatalogField{Path: path, Type: t, Example: string(ex)})
		}
	}
	walk(prefix, v)
	return out
}

// catalogPage is the catalog as the page shows it.
func catalogPage(entries []catalogEntry) []views.CatalogEntry {
	out := make([]views.CatalogEntry, 0, len(entries))
	for _, e := range entries {
		ve := views.CatalogEntry{Type: e.Type, Own: e.Own, Example: string(e.Example),
			Anchor: "event-" + strings.ToLower(e.Type.Name)}
		// The values of one type share a shape: list it once, from the value after the change.
		switch {
		case !e.Own:
		case e.Current != nil && e.Previous != nil:
			ve.Fields, ve.ValuesNote = catalogFields("currentValue", e.Current), "previousValue has the same fields, as they were before the change."
		case e.Current != nil:
			ve.Fields, ve.ValuesNote = catalogFields("currentValue", e.Current), "previousValue is null."
		case e.Previous != nil:
			ve.Fields, ve.ValuesNote = catalogFields("previousValue", e.Previous), "currentValue is null."
		default:
			ve.ValuesNote = "previousValue and currentValue are null."
		}
		out = append(out, ve)
	}
	return out
}
