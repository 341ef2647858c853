package delivery_test

import (
	"encoding/json"
	"testing"

	"hookyard/delivery"
)

// Every built-in type has a realistic sample: valid JSON, null only where nothing existed
// before (created) or after (deleted), and the fields the UI and docs describe.
func TestSamplesForEveryBuiltInType(t *testing.T) {
	builtIn := []string{"TODO_CREATED", "TODO_DELETED", "TODO_MOVED", "TODO_NAME_CHANGED", "TODO_DONE_STATUS_UPDATED",
		"TODO_DUE_DATE_ADDED", "TODO_DUE_DATE_UPDATED", "TODO_DUE_DATE_REMOVED", "TODO_ASSIGNEE_ADDED", "TODO_ASSIGNEE_REMOVED",
		"TODO_TAG_ADDED", "TODO_TAG_REMOVED", "TODO_CUSTOM_FIELD_UPDATED", "TODO_CHECKLIST_CREATED", "TODO_CHECKLIST_NAME_CHANGED",
		"TODO_CHECKLIST_DELETED", "TODO_CHECKLIST_ITEM_CREATED", "TODO_CHECKLIST_ITEM_NAME_CHANGED", "TODO_CHECKLIST_ITEM_DELETED",
		"TODO_CHECKLIST_ITEM_DUE_DATE_ADDED", "TODO_CHECKLIST_ITEM_DUE_DATE_UPDATED", "TODO_CHECKLIST_ITEM_DUE_DATE_REMOVED",
		"TODO_CHECKLIST_ITEM_ASSIGNEE_ADDED", "TODO_CHECKLIST_ITEM_ASSIGNEE_REMOVED", "TODO_CHECKLIST_ITEM_DONE_STATUS_UPDATED",
		"TODO_LIST_CREATED", "TODO_LIST_DELETED", "TODO_LIST_NAME_CHANGED", "CUSTOM_FIELD_CREATED", "CUSTOM_FIELD_DELETED",
		"CUSTOM_FIELD_UPDATED", "TAG_CREATED", "TAG_DELETED", "TAG_UPDATED", "COMMENT_CREATED", "COMMENT_DELETED", "COMMENT_UPDATED"}
	if len(builtIn) != 37 {
		t.Fatalf("%d types listed", len(builtIn))
	}
	// fields each kind of value must carry
	wants := map[string][]string{"TODO_": {"id", "title", "list", "assignees", "tags", "dueDate"}, "TODO_CHECKLIST": {"id", "name", "item"},
		"TODO_LIST": {"id", "name"}, "CUSTOM_FIELD": {"id", "name", "type"}, "TAG": {"id", "name", "color"}, "COMMENT": {"id", "text", "author"}}
	kind := func(typ string) string {
		for _, k := range []string{"TODO_CHECKLIST", "TODO_LIST", "CUSTOM_FIELD", "TAG", "COMMENT", "TODO_"} {
			if len(typ) >= len(k) && typ[:len(k)] == k {
				return k
			}
		}
		return ""
	}
	for _, typ := range builtIn {
		if !delivery.HasSample(typ) {
			t.Errorf("%s has no sample", typ)
			continue
		}
		s := delivery.SampleFor(typ)
		created := len(typ) > 8 && typ[len(typ)-8:] == "_CREATED"
		deleted := len(typ) > 8 && typ[len(typ)-8:] == "_DELETED"
		if (s.PreviousValue == nil) != created || (s.CurrentValue == nil) != deleted {
			t.Errorf("%s: previous nil %v, current nil %v", typ, s.PreviousValue == nil, s.CurrentValue == nil)
		}
		for _, v := range []json.RawMessage{s.PreviousValue, s.CurrentValue} {
			if v == nil {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(v, &m); err != nil {
				t.Errorf("%s: not a JSON object: %v", typ, err)
				continue
			}
			for _, f := range wants[kind(typ)] {
				if _, ok := m[f]; !ok {
					t.Errorf("%s: value lacks %q: %s", typ, f, v)
				}
			}
		}
		if s.PreviousValue != nil && s.CurrentValue != nil && string(s.PreviousValue) == string(s.CurrentValue) {
			t.Errorf("%s: the sample shows no change", typ)
		}
	}
	if hc := delivery.SampleFor(delivery.HealthCheckEvent); hc.PreviousValue != nil || hc.CurrentValue != nil {
		t.Errorf("health check sample carries values")
	}
	if c := delivery.SampleFor("INVOICE_PAID"); c.CurrentValue == nil || !json.Valid(c.CurrentValue) {
		t.Errorf("custom types get no usable sample")
	}
}
