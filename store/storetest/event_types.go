package storetest

import (
	"slices"
	"strings"
	"testing"

	"hookyard/store"
)

var eventTypeCases = []testCase{
	{"BuiltIns", testBuiltInEventTypes},
	{"CreateCustom", testCreateEventType},
}

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

func testBuiltInEventTypes(t *testing.T, f *fixture) {
	types, err := f.s.ListEventTypes(f.ctx)
	f.must(err, "ListEventTypes")
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
	for _, et := range types {
		gotNames = append(gotNames, et.Name)
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
	moved, err := f.s.EventType(f.ctx, "TODO_MOVED")
	if err != nil || moved.Label != "Record moved to another list" || moved.Category != "Records" || !moved.BuiltIn {
		t.Errorf("EventType(TODO_MOVED) = %+v, %v; want the SPEC label", moved, err)
	}
	_, err = f.s.EventType(f.ctx, "todo_created")
	checkErr(t, "EventType is case-sensitive", err, store.ErrNotFound)
}

func testCreateEventType(t *testing.T, f *fixture) {
	for _, tc := range []struct {
		in   store.EventType
		want store.EventType
	}{
		{
			store.EventType{Name: "INVOICE_PAID", Label: "Invoice paid", Description: "A customer paid."},
			store.EventType{Name: "INVOICE_PAID", Category: "Custom", Label: "Invoice paid", Description: "A customer paid.",
				Subscribable: true, CreatedAt: f.now()},
		},
		{ // callers cannot make a built-in or unsubscribable type
			store.EventType{Name: "DEPLOY_DONE", Category: "Releases", Label: "Deploy finished", BuiltIn: true, Subscribable: false},
			store.EventType{Name: "DEPLOY_DONE", Category: "Releases", Label: "Deploy finished", Subscribable: true, CreatedAt: f.now()},
		},
	} {
		before := f.s.Changes()
		got, err := f.s.CreateEventType(f.ctx, tc.in)
		f.must(err, "CreateEventType "+tc.in.Name)
		check(t, "CreateEventType", got, tc.want)
		stored, err := f.s.EventType(f.ctx, tc.in.Name)
		f.must(err, "EventType")
		check(t, "EventType "+tc.in.Name, stored, tc.want)
		if f.s.Changes() <= before {
			t.Errorf("CreateEventType(%s) left Changes at %d: caches would not see the new type", tc.in.Name, before)
		}
	}
	for _, name := range []string{"INVOICE_PAID", "TODO_CREATED", "WEBHOOK_HEALTH_CHECK"} {
		_, err := f.s.CreateEventType(f.ctx, store.EventType{Name: name, Label: "dup"})
		checkErr(t, "CreateEventType("+name+") again", err, store.ErrConflict)
	}
	if tc, _ := f.s.EventType(f.ctx, "TODO_CREATED"); !tc.BuiltIn || tc.Label != "Record created" {
		t.Errorf("a refused duplicate changed TODO_CREATED: %+v", tc)
	}
	types, err := f.s.ListEventTypes(f.ctx)
	f.must(err, "ListEventTypes")
	if len(types) != 40 {
		t.Fatalf("%d types, want 38 built-in + 2 custom", len(types))
	}
	if types[0].Name != "TODO_CREATED" || types[36].Name != "COMMENT_UPDATED" || types[37].Name != "WEBHOOK_HEALTH_CHECK" {
		t.Errorf("custom types changed the built-in order: first %s, 37th %s, 38th %s", types[0].Name, types[36].Name, types[37].Name)
	}
	check(t, "custom types after the built-ins, by name", []string{types[38].Name, types[39].Name}, []string{"DEPLOY_DONE", "INVOICE_PAID"})

	// Names compare byte by byte on every engine, whatever the database's locale: digits, then
	// letters, then the underscore.
	for _, name := range []string{"DEPLOY_X", "DEPLOYS", "DEPLOY1"} {
		_, err := f.s.CreateEventType(f.ctx, store.EventType{Name: name, Label: name})
		f.must(err, "CreateEventType "+name)
	}
	types, _ = f.s.ListEventTypes(f.ctx)
	check(t, "custom types by name, byte by byte", ids(types[38:], func(t store.EventType) string { return t.Name }),
		[]string{"DEPLOY1", "DEPLOYS", "DEPLOY_DONE", "DEPLOY_X", "INVOICE_PAID"})
}
