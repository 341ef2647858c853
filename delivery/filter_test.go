package delivery_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"hookyard/delivery"
	"hookyard/store"
)

// filterEvent is the event every operator case looks into.
var filterEvent = delivery.EventData{
	ID: "evt_1", Type: "TODO_MOVED", OrganizationID: "org_acme", ProjectID: "prj_web",
	CreatedAt:     time.Date(2026, 11, 27, 10, 0, 0, 123e6, time.UTC),
	PreviousValue: json.RawMessage(`{"status": "Open", "points": 3, "list": {"name": "Doing"}, "tags": ["a"], "gone": 1, "same": {"x": [1, 2]}}`),
	CurrentValue: json.RawMessage(`{"status": "Done", "points": 5, "ratio": 0.5, "big": 12345678901234567890, "done": true,
		"none": null, "title": "Write the tests", "tags": ["urgent", "backend", 7], "list": {"name": "Done"},
		"due": "2026-12-01T09:00:00Z", "dueLocal": "2026-12-01T10:00:00+01:00", "notTime": "soon",
		"items": [{"name": "first"}, {"name": "second"}], "same": {"x": [1, 2.0]}, "new": "here", "zero": 0}`),
}

type opCase struct {
	path, op, value string // value as JSON; "" for none
	want            bool
}

func TestFilterOperators(t *testing.T) {
	cases := map[string][]opCase{
		"eq": {
			{"currentValue.status", "eq", `"Done"`, true},
			{"currentValue.status", "eq", `"done"`, false}, // exact, case and all
			{"currentValue.points", "eq", `5`, true},
			{"currentValue.points", "eq", `5.0`, true},  // numbers by value
			{"currentValue.points", "eq", `"5"`, false}, // a number is not its text
			{"currentValue.big", "eq", `12345678901234567890`, true},
			{"currentValue.big", "eq", `12345678901234567891`, false}, // beyond float precision, still exact
			{"currentValue.done", "eq", `true`, true},
			{"currentValue.done", "eq", `"true"`, false},
			{"currentValue.none", "eq", `null`, true},
			{"currentValue.missing", "eq", `null`, false}, // missing is not null
			{"currentValue.list", "eq", `{"name": "Done"}`, true},
			{"currentValue.tags", "eq", `["urgent", "backend", 7]`, true},
			{"currentValue.tags", "eq", `["backend", "urgent", 7]`, false}, // order counts
			{"currentValue.same", "eq", `{"x": [1, 2]}`, true},
			{"currentValue.tags.0", "eq", `"urgent"`, true}, // a number indexes an array
			{"currentValue.tags.2", "eq", `7`, true},
			{"currentValue.tags.3", "eq", `7`, false}, // past the end: missing
			{"currentValue.items.1.name", "eq", `"second"`, true},
			{"currentValue.status.name", "eq", `"Done"`, false}, // into a string: missing
			{"event", "eq", `"TODO_MOVED"`, true},
			{"projectId", "eq", `"prj_web"`, true},
			{"organizationId", "eq", `"org_acme"`, true},
			{"id", "eq", `"evt_1"`, true},
			{"timestamp", "eq", `"2026-11-27T10:00:00.123Z"`, true},
			{"previousValue.status", "eq", `"Open"`, true},
		},
		"ne": {
			{"currentValue.status", "ne", `"Open"`, true},
			{"currentValue.status", "ne", `"Done"`, false},
			{"currentValue.points", "ne", `5.0`, false},
			{"currentValue.missing", "ne", `"Done"`, true}, // missing is not "Done"
		},
		"in": {
			{"currentValue.status", "in", `["Open", "Done"]`, true},
			{"currentValue.status", "in", `["Open", "Closed"]`, false},
			{"currentValue.points", "in", `[1, 5]`, true},
			{"currentValue.points", "in", `["5"]`, false},
			{"currentValue.missing", "in", `["Done", null]`, false},
			{"currentValue.none", "in", `["Done", null]`, true},
		},
		"notIn": {
			{"currentValue.status", "notIn", `["Open", "Closed"]`, true},
			{"currentValue.status", "notIn", `["Done"]`, false},
			{"currentValue.missing", "notIn", `["Done"]`, true},
		},
		"contains": {
			{"currentValue.title", "contains", `"the"`, true},
			{"currentValue.title", "contains", `"The"`, false},
			{"currentValue.tags", "contains", `"urgent"`, true}, // an element of an array
			{"currentValue.tags", "contains", `"urg"`, false},   // elements whole, not substrings
			{"currentValue.tags", "contains", `7`, true},        // any JSON element
			{"currentValue.tags", "contains", `"7"`, false},     // of the same type
			{"currentValue.points", "contains", `5`, false},     // a number contains nothing
			{"currentValue.title", "contains", `5`, false},      // a string contains text only
			{"currentValue.list", "contains", `"Done"`, false},  // an object is not searched
			{"currentValue.missing", "contains", `"a"`, false},
		},
		"startsWith": {
			{"currentValue.title", "startsWith", `"Write"`, true},
			{"currentValue.title", "startsWith", `"write"`, false},
			{"currentValue.title", "startsWith", `"tests"`, false},
			{"currentValue.points", "startsWith", `"5"`, false}, // not a string
			{"currentValue.tags", "startsWith", `"urgent"`, false},
			{"currentValue.missing", "startsWith", `""`, false},
		},
		"gt/gte/lt/lte numbers": {
			{"currentValue.points", "gt", `4`, true},
			{"currentValue.points", "gt", `5`, false},
			{"currentValue.points", "gte", `5`, true},
			{"currentValue.points", "gte", `5.5`, false},
			{"currentValue.points", "lt", `5.01`, true},
			{"currentValue.points", "lt", `5`, false},
			{"currentValue.points", "lte", `5`, true},
			{"currentValue.ratio", "lt", `1`, true},
			{"currentValue.zero", "gte", `-1`, true},
			{"currentValue.title", "gt", `1`, false},     // text is not a number
			{"currentValue.done", "gt", `0`, false},      // nor is true
			{"currentValue.missing", "lt", `100`, false}, // missing compares with nothing
			{"currentValue.none", "lt", `100`, false},
		},
		"gt/gte/lt/lte times": {
			{"currentValue.due", "gt", `"2026-11-30T00:00:00Z"`, true},
			{"currentValue.due", "gt", `"2026-12-01T09:00:00Z"`, false},
			{"currentValue.due", "gte", `"2026-12-01T09:00:00Z"`, true},
			{"currentValue.due", "lt", `"2026-12-01T09:00:00.001Z"`, true},
			{"currentValue.due", "lte", `"2026-12-01T10:00:00+01:00"`, true}, // the same instant in another zone
			{"currentValue.dueLocal", "gte", `"2026-12-01T09:00:00Z"`, true},
			{"currentValue.dueLocal", "gt", `"2026-12-01T09:00:00Z"`, false},
			{"timestamp", "gt", `"2026-11-27T10:00:00Z"`, true},
			{"timestamp", "lt", `"2026-11-27T10:00:00.123Z"`, false},
			{"currentValue.notTime", "gt", `"2026-01-01T00:00:00Z"`, false}, // not a time
			{"currentValue.points", "gt", `"2026-01-01T00:00:00Z"`, false},  // a number is not a time
			{"currentValue.due", "gt", `1`, false},                          // a time is not a number
			{"currentValue.missing", "lt", `"2030-01-01T00:00:00Z"`, false},
		},
		"exists/notExists": {
			{"currentValue.status", "exists", ``, true},
			{"currentValue.none", "exists", ``, true}, // null is there
			{"currentValue.missing", "exists", ``, false},
			{"currentValue.tags.1", "exists", ``, true},
			{"currentValue.tags.9", "exists", ``, false},
			{"currentValue.missing", "notExists", ``, true},
			{"currentValue.none", "notExists", ``, false},
			{"currentValue.status", "notExists", `null`, false}, // "value": null is no value
		},
		"changed": {
			{"currentValue.status", "changed", ``, true},    // Open → Done
			{"currentValue.list.name", "changed", ``, true}, // Doing → Done
			{"currentValue.same", "changed", ``, false},     // {x:[1,2]} → {x:[1,2.0]}: equal by value
			{"currentValue.new", "changed", ``, true},       // absent before
			{"currentValue.gone", "changed", ``, true},      // absent now, there before
			{"currentValue.missing", "changed", ``, false},  // absent before and after
			{"currentValue.tags", "changed", ``, true},      // ["a"] → […]
			{"currentValue", "changed", ``, true},           // the whole value
		},
	}
	doc := func() *delivery.Document { return delivery.NewDocument(filterEvent) }
	for group, cs := range cases {
		for _, c := range cs {
			name := fmt.Sprintf("%s/%s %s %s", group, c.path, c.op, c.value)
			t.Run(name, func(t *testing.T) {
				cond := store.FilterCondition{Path: c.path, Op: c.op}
				if c.value != "" {
					cond.Value = json.RawMessage(c.value)
				}
				f, problems := delivery.CheckFilter(&store.PayloadFilter{Match: "all", Conditions: []store.FilterCondition{cond}})
				if len(problems) > 0 {
					t.Fatalf("refused: %+v", problems)
				}
				if got := f.Matches(doc()); got != c.want {
					t.Errorf("Matches = %t, want %t", got, c.want)
				}
				out := f.Evaluate(doc())
				if out.Matches != c.want || len(out.Conditions) != 1 || out.Conditions[0].Matches != c.want {
					t.Errorf("Evaluate = %+v, want matches %t", out, c.want)
				}
			})
		}
	}
}

// The value a condition saw is reported as it is in the payload, or as missing.
func TestFilterEvaluateReportsWhatItSaw(t *testing.T) {
	f, problems := delivery.CheckFilter(&store.PayloadFilter{Match: "all", Conditions: []store.FilterCondition{
		{Path: "currentValue.status", Op: "eq", Value: json.RawMessage(`"Open"`)},
		{Path: "currentValue.points", Op: "gt", Value: json.RawMessage(`1`)},
		{Path: "currentValue.assignee", Op: "exists"},
		{Path: "currentValue.status", Op: "changed"},
	}})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	out := f.Evaluate(delivery.NewDocument(filterEvent))
	if out.Matches {
		t.Error("matches, want not (two conditions fail)")
	}
	got, err := json.Marshal(out.Conditions)
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		matches, found bool
		actual         string
	}
	want := []seen{{false, true, `"Done"`}, {true, true, `5`}, {false, false, `null`}, {true, true, `"Done"`}}
	for i, w := range want {
		c := out.Conditions[i]
		a, _ := json.Marshal(c.Actual)
		if c.Matches != w.matches || c.Found != w.found || string(a) != w.actual {
			t.Errorf("condition %d: matches %t found %t actual %s, want %+v (%s)", i, c.Matches, c.Found, a, w, got)
		}
	}
	if p, _ := json.Marshal(out.Conditions[3].Previous); string(p) != `"Open"` {
		t.Errorf("changed: previous = %s, want \"Open\"", p)
	}
	if n := len(out.Failed()); n != 2 {
		t.Errorf("Failed() = %d conditions, want 2", n)
	}
}

func TestFilterAllAndAny(t *testing.T) {
	yes := store.FilterCondition{Path: "currentValue.status", Op: "eq", Value: json.RawMessage(`"Done"`)}
	no := store.FilterCondition{Path: "currentValue.status", Op: "eq", Value: json.RawMessage(`"Open"`)}
	cases := []struct {
		match string
		conds []store.FilterCondition
		want  bool
	}{
		{"all", []store.FilterCondition{yes, yes}, true},
		{"all", []store.FilterCondition{yes, no}, false},
		{"", []store.FilterCondition{yes, no}, false}, // "all" when not said
		{"any", []store.FilterCondition{no, yes}, true},
		{"any", []store.FilterCondition{no, no}, false},
		{"any", []store.FilterCondition{yes}, true},
	}
	for _, c := range cases {
		f, problems := delivery.CheckFilter(&store.PayloadFilter{Match: c.match, Conditions: c.conds})
		if len(problems) > 0 {
			t.Fatal(problems)
		}
		doc := delivery.NewDocument(filterEvent)
		if got, ev := f.Matches(doc), f.Evaluate(doc).Matches; got != c.want || ev != c.want {
			t.Errorf("%q of %d: Matches %t, Evaluate %t, want %t", c.match, len(c.conds), got, ev, c.want)
		}
	}
	var none *delivery.Filter
	if !none.Matches(delivery.NewDocument(filterEvent)) {
		t.Error("no filter must let every event through")
	}
}

// A payload given as JSON (POST /filters/evaluate) is looked into like an event.
func TestFilterOnAGivenPayload(t *testing.T) {
	doc, err := delivery.PayloadDocument(json.RawMessage(`{"event": "TODO_MOVED", "currentValue": {"status": "Done", "n": 2}}`))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := delivery.CheckFilter(&store.PayloadFilter{Conditions: []store.FilterCondition{
		{Path: "currentValue.n", Op: "gte", Value: json.RawMessage(`2`)}, {Path: "event", Op: "startsWith", Value: json.RawMessage(`"TODO_"`)},
		{Path: "projectId", Op: "notExists"}}})
	if !f.Matches(doc) {
		t.Errorf("does not match: %+v", f.Evaluate(doc))
	}
	for _, bad := range []string{`[1]`, `"x"`, `{`} {
		if _, err := delivery.PayloadDocument(json.RawMessage(bad)); err == nil {
			t.Errorf("payload %s accepted; want refused (an object is needed)", bad)
		}
	}
}

func TestFilterRefusals(t *testing.T) {
	cond := func(path, op, value string) store.FilterCondition {
		c := store.FilterCondition{Path: path, Op: op}
		if value != "" {
			c.Value = json.RawMessage(value)
		}
		return c
	}
	ok := cond("currentValue.status", "eq", `"Done"`)
	many := make([]store.FilterCondition, delivery.MaxFilterConditions+1)
	for i := range many {
		many[i] = ok
	}
	cases := []struct {
		name   string
		filter store.PayloadFilter
		field  string // the field the first problem names
		says   string
	}{
		{"bad match", store.PayloadFilter{Match: "some", Conditions: []store.FilterCondition{ok}}, "filter.match", `"any"`},
		{"no conditions", store.PayloadFilter{Match: "all"}, "filter.conditions", "at least one"},
		{"too many", store.PayloadFilter{Conditions: many}, "filter.conditions", "at most 20"},
		{"empty path", store.PayloadFilter{Conditions: []store.FilterCondition{ok, cond("", "eq", `1`)}}, "filter.conditions[1].path", "Condition 2"},
		{"unknown root", store.PayloadFilter{Conditions: []store.FilterCondition{cond("webhook.url", "eq", `"x"`)}}, "filter.conditions[0].path", "starts with"},
		{"empty part", store.PayloadFilter{Conditions: []store.FilterCondition{cond("currentValue..status", "eq", `"x"`)}}, "filter.conditions[0].path", "empty parts"},
		{"unknown op", store.PayloadFilter{Conditions: []store.FilterCondition{cond("currentValue.status", "equals", `"x"`)}}, "filter.conditions[0].op", "Condition 1 (currentValue.status)"},
		{"eq without value", store.PayloadFilter{Conditions: []store.FilterCondition{cond("currentValue.status", "eq", "")}}, "filter.conditions[0].value", "needs a value"},
		{"in with a string", store.PayloadFilter{Conditions: []store.FilterCondition{cond("currentValue.status", "in", `"Done"`)}}, "filter.conditions[0].value", "list"},
		{"in with an empty list", store.PayloadFilter{Conditions: []store.FilterCondition{cond("currentValue.status", "notIn", `[]`)}}, "filter.conditions[0].value", "list"},
		{"startsWith a number", store.PayloadFilter{Conditions: []store.FilterCondition{cond("currentValue.status", "startsWith", `5`)}}, "filter.conditions[0].value", "text"},
		{"gt with text", store.PayloadFilter{Conditions: []store.FilterCondition{cond("currentValue.points", "gt", `"five"`)}}, "filter.conditions[0].value", "RFC 3339"},
		{"gt with a bool", store.PayloadFilter{Conditions: []store.FilterCondition{cond("currentValue.points", "lte", `true`)}}, "filter.conditions[0].value", "number"},
		{"exists with a value", store.PayloadFilter{Conditions: []store.FilterCondition{cond("currentValue.points", "exists", `1`)}}, "filter.conditions[0].value", "no value"},
		{"changed outside currentValue", store.PayloadFilter{Conditions: []store.FilterCondition{cond("previousValue.status", "changed", "")}}, "filter.conditions[0].path", "currentValue"},
		{"invalid JSON value", store.PayloadFilter{Conditions: []store.FilterCondition{cond("currentValue.status", "eq", `{`)}}, "filter.conditions[0].value", "JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, problems := delivery.CheckFilter(&c.filter)
			if f != nil || len(problems) == 0 {
				t.Fatalf("accepted: %+v", f)
			}
			if problems[0].Field != c.field || !strings.Contains(problems[0].Message, c.says) {
				t.Errorf("problem %+v, want field %s saying %q", problems[0], c.field, c.says)
			}
		})
	}
	// A stored filter that no longer compiles lets nothing through.
	broken := delivery.FilterOf(store.Webhook{Filter: &store.PayloadFilter{Conditions: []store.FilterCondition{cond("nowhere", "eq", `1`)}}})
	if broken.Matches(delivery.NewDocument(filterEvent)) {
		t.Error("a broken stored filter let the event through")
	}
	if out := broken.Evaluate(delivery.NewDocument(filterEvent)); out.Matches || out.Broken == "" {
		t.Errorf("broken filter evaluated as %+v, want not matching with the reason", out)
	}
}

// BenchmarkFilterFanOut1000 matches one event against 1000 compiled filters, as a publish to
// 1000 filtered webhooks does: the event is decoded once, the filters not at all.
func BenchmarkFilterFanOut1000(b *testing.B) {
	filters := make([]*delivery.Filter, 1000)
	for i := range filters {
		f, problems := delivery.CheckFilter(&store.PayloadFilter{Match: "all", Conditions: []store.FilterCondition{
			{Path: "currentValue.status", Op: "in", Value: json.RawMessage(`["Done", "Closed"]`)},
			{Path: "currentValue.points", Op: "gte", Value: json.RawMessage(fmt.Sprint(i % 7))},
			{Path: "currentValue.status", Op: "changed"},
		}})
		if len(problems) > 0 {
			b.Fatal(problems)
		}
		filters[i] = f
	}
	b.ReportAllocs()
	for b.Loop() {
		doc := delivery.NewDocument(filterEvent)
		n := 0
		for _, f := range filters {
			if f.Matches(doc) {
				n++
			}
		}
		if n == 0 {
			b.Fatal("nothing matched")
		}
	}
}
