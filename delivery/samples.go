package delivery

import (
	"encoding/json"
	"strings"
)

// Sample is a realistic before/after pair for an event type, used by "Send test", the
// "Publish a sample event" form and the demo.
type Sample struct {
	PreviousValue json.RawMessage
	CurrentValue  json.RawMessage
}

// sampleRecord is the record (todo) most samples are about.
func sampleRecord(change func(r map[string]any)) map[string]any {
	r := map[string]any{
		"id":           "rec_4f2a9c",
		"title":        "Call the supplier about the late delivery",
		"list":         map[string]any{"id": "lst_todo", "name": "To do"},
		"done":         false,
		"dueDate":      "2026-12-04T17:00:00Z",
		"assignees":    []any{map[string]any{"id": "usr_sam", "name": "Sam Rivera"}},
		"tags":         []any{map[string]any{"id": "tag_urgent", "name": "urgent", "color": "red"}},
		"customFields": []any{map[string]any{"id": "cf_budget", "name": "Budget", "type": "CURRENCY", "value": 1200}},
		"createdBy":    map[string]any{"id": "usr_ana", "name": "Ana Lopez"},
	}
	if change != nil {
		change(r)
	}
	return r
}

func sampleChecklist(change func(c map[string]any)) map[string]any {
	c := map[string]any{
		"id": "chk_71b0", "name": "Launch checklist", "recordId": "rec_4f2a9c",
		"item": map[string]any{"id": "itm_3e", "name": "Write the release notes", "done": false,
			"dueDate": "2026-12-02T12:00:00Z", "assignees": []any{map[string]any{"id": "usr_sam", "name": "Sam Rivera"}}},
	}
	if change != nil {
		change(c)
	}
	return c
}

func item(c map[string]any) map[string]any { return c["item"].(map[string]any) }

var (
	sampleList    = map[string]any{"id": "lst_doing", "name": "In progress", "position": 2}
	sampleTag     = map[string]any{"id": "tag_urgent", "name": "urgent", "color": "red"}
	sampleField   = map[string]any{"id": "cf_budget", "name": "Budget", "type": "CURRENCY", "currency": "EUR"}
	sampleComment = map[string]any{"id": "cmt_90d1", "recordId": "rec_4f2a9c", "text": "I called them: the boxes ship on Monday.",
		"author": map[string]any{"id": "usr_sam", "name": "Sam Rivera"}}
)

func with(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}

// samples holds (previous, current) for every built-in subscribable type; nil means null.
var samples = map[string][2]any{
	"TODO_CREATED":             {nil, sampleRecord(nil)},
	"TODO_DELETED":             {sampleRecord(nil), nil},
	"TODO_MOVED":               {sampleRecord(nil), sampleRecord(func(r map[string]any) { r["list"] = map[string]any{"id": "lst_doing", "name": "In progress"} })},
	"TODO_NAME_CHANGED":        {sampleRecord(nil), sampleRecord(func(r map[string]any) { r["title"] = "Call the supplier and agree a new date" })},
	"TODO_DONE_STATUS_UPDATED": {sampleRecord(nil), sampleRecord(func(r map[string]any) { r["done"] = true })},
	"TODO_DUE_DATE_ADDED":      {sampleRecord(func(r map[string]any) { r["dueDate"] = nil }), sampleRecord(nil)},
	"TODO_DUE_DATE_UPDATED":    {sampleRecord(nil), sampleRecord(func(r map[string]any) { r["dueDate"] = "2026-12-08T17:00:00Z" })},
	"TODO_DUE_DATE_REMOVED":    {sampleRecord(nil), sampleRecord(func(r map[string]any) { r["dueDate"] = nil })},
	"TODO_ASSIGNEE_ADDED": {sampleRecord(nil), sampleRecord(func(r map[string]any) {
		r["assignees"] = append(r["assignees"].([]any), map[string]any{"id": "usr_ana", "name": "Ana Lopez"})
	})},
	"TODO_ASSIGNEE_REMOVED": {sampleRecord(nil), sampleRecord(func(r map[string]any) { r["assignees"] = []any{} })},
	"TODO_TAG_ADDED": {sampleRecord(nil), sampleRecord(func(r map[string]any) {
		r["tags"] = append(r["tags"].([]any), map[string]any{"id": "tag_client", "name": "client", "color": "blue"})
	})},
	"TODO_TAG_REMOVED":          {sampleRecord(nil), sampleRecord(func(r map[string]any) { r["tags"] = []any{} })},
	"TODO_CUSTOM_FIELD_UPDATED": {sampleRecord(nil), sampleRecord(func(r map[string]any) { r["customFields"] = []any{with(sampleField, "value", 1500)} })},

	"TODO_CHECKLIST_CREATED":      {nil, sampleChecklist(nil)},
	"TODO_CHECKLIST_NAME_CHANGED": {sampleChecklist(nil), sampleChecklist(func(c map[string]any) { c["name"] = "Launch day checklist" })},
	"TODO_CHECKLIST_DELETED":      {sampleChecklist(nil), nil},
	"TODO_CHECKLIST_ITEM_CREATED": {nil, sampleChecklist(nil)},
	"TODO_CHECKLIST_ITEM_NAME_CHANGED": {sampleChecklist(nil), sampleChecklist(func(c map[string]any) {
		c["item"] = with(item(c), "name", "Write and publish the release notes")
	})},
	"TODO_CHECKLIST_ITEM_DELETED":        {sampleChecklist(nil), nil},
	"TODO_CHECKLIST_ITEM_DUE_DATE_ADDED": {sampleChecklist(func(c map[string]any) { c["item"] = with(item(c), "dueDate", nil) }), sampleChecklist(nil)},
	"TODO_CHECKLIST_ITEM_DUE_DATE_UPDATED": {sampleChecklist(nil), sampleChecklist(func(c map[string]any) {
		c["item"] = with(item(c), "dueDate", "2026-12-03T12:00:00Z")
	})},
	"TODO_CHECKLIST_ITEM_DUE_DATE_REMOVED": {sampleChecklist(nil), sampleChecklist(func(c map[string]any) { c["item"] = with(item(c), "dueDate", nil) })},
	"TODO_CHECKLIST_ITEM_ASSIGNEE_ADDED": {sampleChecklist(nil), sampleChecklist(func(c map[string]any) {
		c["item"] = with(item(c), "assignees", []any{map[string]any{"id": "usr_sam", "name": "Sam Rivera"}, map[string]any{"id": "usr_ana", "name": "Ana Lopez"}})
	})},
	"TODO_CHECKLIST_ITEM_ASSIGNEE_REMOVED":    {sampleChecklist(nil), sampleChecklist(func(c map[string]any) { c["item"] = with(item(c), "assignees", []any{}) })},
	"TODO_CHECKLIST_ITEM_DONE_STATUS_UPDATED": {sampleChecklist(nil), sampleChecklist(func(c map[string]any) { c["item"] = with(item(c), "done", true) })},

	"TODO_LIST_CREATED":      {nil, sampleList},
	"TODO_LIST_DELETED":      {sampleList, nil},
	"TODO_LIST_NAME_CHANGED": {sampleList, with(sampleList, "name", "Doing")},

	"CUSTOM_FIELD_CREATED": {nil, sampleField},
	"CUSTOM_FIELD_DELETED": {sampleField, nil},
	"CUSTOM_FIELD_UPDATED": {sampleField, with(sampleField, "name", "Budget (EUR)")},

	"TAG_CREATED": {nil, sampleTag},
	"TAG_DELETED": {sampleTag, nil},
	"TAG_UPDATED": {sampleTag, with(sampleTag, "color", "orange")},

	"COMMENT_CREATED": {nil, sampleComment},
	"COMMENT_DELETED": {sampleComment, nil},
	"COMMENT_UPDATED": {sampleComment, with(sampleComment, "text", "I called them: the boxes ship on Tuesday, not Monday.")},
}

// SampleFor returns the sample of an event type. Types without one of their own (custom
// types) get a small generic pair; the health check carries nulls.
func SampleFor(eventType string) Sample {
	if eventType == HealthCheckEvent {
		return Sample{}
	}
	pair, ok := samples[eventType]
	if !ok {
		pair = [2]any{nil, map[string]any{"id": "obj_sample", "kind": strings.ToLower(eventType), "note": "A sample for a custom event type."}}
	}
	enc := func(v any) json.RawMessage {
		if v == nil {
			return nil
		}
		b, _ := json.Marshal(v)
		return b
	}
	return Sample{PreviousValue: enc(pair[0]), CurrentValue: enc(pair[1])}
}

// HasSample reports whether an event type has a sample of its own.
func HasSample(eventType string) bool {
	_, ok := samples[eventType]
	return ok
}
