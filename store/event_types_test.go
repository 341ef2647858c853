package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// specEventTypes is SPEC §7: the 37 subscribable built-in event types, in documented order,
// with their categories.
var specEventTypes = []struct {
	category string
	names    []string
}{
	{"Records", []string{"TODO_CREATED", "TODO_DELETED", "TODO_MOVED", "TODO_NAME_CHANGED",
		"TODO_DONE_STATUS_UPDATED", "TODO_DUE_DATE_ADDED", "TODO_DUE_DATE_UPDATED",
		"TODO_DUE_DATE_REMOVED", "TODO_ASSIGNEE_ADDED", "TODO_ASSIGNEE_REMOVED", "TODO_TAG_ADDED",
		"TODO_TAG_REMOVED", "TODO_CUSTOM_FIELD_UPDATED"}},
	{"Checklists", []string{"TODO_CHECKLIST_CREATED", "TODO_CHECKLIST_NAME_CHANGED",
		"TODO_CHECKLIST_DELETED", "TODO_CHECKLIST_ITEM_CREATED", "TODO_CHECKLIST_ITEM_NAME_CHANGED",
		"TODO_CHECKLIST_ITEM_DELETED", "TODO_CHECKLIST_ITEM_DUE_DATE_ADDED",
		"TODO_CHECKLIST_ITEM_DUE_DATE_UPDATED", "TODO_CHECKLIST_ITEM_DUE_DATE_REMOVED",
		"TODO_CHECKLIST_ITEM_ASSIGNEE_ADDED", "TODO_CHECKLIST_ITEM_ASSIGNEE_REMOVED",
		"TODO_CHECKLIST_ITEM_DONE_STATUS_UPDATED"}},
	{"Lists", []string{"TODO_LIST_CREATED", "TODO_LIST_DELETED", "TODO_LIST_NAME_CHANGED"}},
	{"Custom fields", []string{"CUSTOM_FIELD_CREATED", "CUSTOM_FIELD_DELETED", "CUSTOM_FIELD_UPDATED"}},
	{"Tags", []string{"TAG_CREATED", "TAG_DELETED", "TAG_UPDATED"}},
	{"Comments", []string{"COMMENT_CREATED", "COMMENT_DELETED", "COMMENT_UPDATED"}},
}

func TestBuiltInEventTypes(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	types, err := s.ListEventTypes(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	var wantNames []string
	wantCategory := map[string]string{}
	for _, g := range specEventTypes {
		wantNames = append(wantNames, g.names...)
		for _, n := range g.names {
			wantCategory[n] = g.category
		}
	}
	if len(wantNames) != 37 {
		t.Fatalf("the test's SPEC list has %d names, want 37", len(wantNames))
	}
	if len(types) != 38 {
		t.Fatalf("ListEventTypes returned %d types, want 37 + WEBHOOK_HEALTH_CHECK", len(types))
	}

	var gotNames []string
	subscribable := 0
	for _, et := range types {
		gotNames = append(gotNames, et.Name)
		if et.Subscribable {
			subscribable++
		}
		if !et.BuiltIn {
			t.Errorf("%s: BuiltIn = false", et.Name)
		}
		if et.Category == "" || et.Label == "" || et.Description == "" {
			t.Errorf("%s: category %q, label %q, description %q; want all non-empty", et.Name, et.Category, et.Label, et.Description)
		}
		if et.Label == et.Name || strings.Contains(et.Label, "_") {
			t.Errorf("%s: label %q is not plain words", et.Name, et.Label)
		}
	}
	if subscribable != 37 {
		t.Errorf("%d subscribable types, want 37", subscribable)
	}
	if !slices.Equal(gotNames[:37], wantNames) {
		t.Errorf("ListEventTypes order = %v\nwant SPEC §7 order %v", gotNames[:37], wantNames)
	}
	for _, et := range types[:37] {
		if !et.Subscribable || et.Category != wantCategory[et.Name] {
			t.Errorf("%s: subscribable %v, category %q; want true, %q", et.Name, et.Subscribable, et.Category, wantCategory[et.Name])
		}
	}
	if hc := types[37]; hc.Name != "WEBHOOK_HEALTH_CHECK" || hc.Subscribable || !hc.BuiltIn {
		t.Errorf("last type = %s (subscribable %v, built-in %v), want WEBHOOK_HEALTH_CHECK, not subscribable, built-in",
			hc.Name, hc.Subscribable, hc.BuiltIn)
	}

	moved, err := s.EventType(t.Context(), "TODO_MOVED")
	if err != nil || moved.Label != "Record moved to another list" || moved.Category != "Records" {
		t.Errorf("EventType(TODO_MOVED) = %+v, %v; want the SPEC label", moved, err)
	}
	if _, err := s.EventType(t.Context(), "todo_created"); !errors.Is(err, ErrNotFound) {
		t.Errorf("EventType is case-sensitive: err = %v, want ErrNotFound", err)
	}
}

func TestCreateEventType(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTestStore(t)
	useClock(s, 0)

	for _, tc := range []struct {
		in   EventType
		want EventType
	}{
		{
			EventType{Name: "INVOICE_PAID", Label: "Invoice paid", Description: "A customer paid."},
			EventType{Name: "INVOICE_PAID", Category: "Custom", Label: "Invoice paid", Description: "A customer paid.",
				Subscribable: true, CreatedAt: clockStart},
		},
		{ // callers cannot make a built-in or unsubscribable type
			EventType{Name: "DEPLOY_DONE", Category: "Releases", Label: "Deploy finished", BuiltIn: true, Subscribable: false},
			EventType{Name: "DEPLOY_DONE", Category: "Releases", Label: "Deploy finished", Subscribable: true, CreatedAt: clockStart},
		},
	} {
		got, err := s.CreateEventType(ctx, tc.in)
		if err != nil {
			t.Fatalf("CreateEventType(%s): %v", tc.in.Name, err)
		}
		if got != tc.want {
			t.Errorf("CreateEventType = %+v, want %+v", got, tc.want)
		}
		if stored, err := s.EventType(ctx, tc.in.Name); err != nil || stored != tc.want {
			t.Errorf("EventType(%s) = %+v, %v; want %+v", tc.in.Name, stored, err, tc.want)
		}
	}

	for _, name := range []string{"INVOICE_PAID", "TODO_CREATED", "WEBHOOK_HEALTH_CHECK"} {
		if _, err := s.CreateEventType(ctx, EventType{Name: name, Label: "dup"}); !errors.Is(err, ErrConflict) {
			t.Errorf("CreateEventType(%s) again: err = %v, want ErrConflict", name, err)
		}
	}
	if tc, _ := s.EventType(ctx, "TODO_CREATED"); !tc.BuiltIn || tc.Label != "Record created" {
		t.Errorf("a refused duplicate changed TODO_CREATED: %+v", tc)
	}

	types, err := s.ListEventTypes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(types) != 40 {
		t.Fatalf("%d types, want 38 built-in + 2 custom", len(types))
	}
	if types[0].Name != "TODO_CREATED" || types[36].Name != "COMMENT_UPDATED" {
		t.Errorf("custom types changed the built-in order: first %s, 37th %s", types[0].Name, types[36].Name)
	}
	var custom []string
	for _, et := range types {
		if !et.BuiltIn {
			custom = append(custom, et.Name)
		}
	}
	if !slices.Equal(custom, []string{"DEPLOY_DONE", "INVOICE_PAID"}) {
		t.Errorf("custom types in list order = %v, want by name [DEPLOY_DONE INVOICE_PAID]", custom)
	}
}

func TestEventTypeNamePattern(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"TODO_CREATED", true},
		{"TODO_CHECKLIST_ITEM_DONE_STATUS_UPDATED", true},
		{"ABC", true},
		{"A1_", true},
		{"INVOICE_PAID_2", true},
		{"X" + strings.Repeat("Y", 63), true}, // 64 characters
		{"", false},
		{"AB", false},
		{"X" + strings.Repeat("Y", 64), false}, // 65 characters
		{"todo_created", false},
		{"Todo_Created", false},
		{"1ABC", false},
		{"_ABC", false},
		{"TODO-CREATED", false},
		{"TODO CREATED", false},
		{"TODO.CREATED", false},
		{"ÄBC", false},
		{"ABC\n", false},
		{" ABC", false},
	} {
		if got := EventTypeNamePattern.MatchString(tc.name); got != tc.want {
			t.Errorf("EventTypeNamePattern.MatchString(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
