package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"hookyard/delivery"
	"hookyard/store"
	"hookyard/views"
)

// The builder's "Only when…" section: a payload filter (SPEC §9) made without writing JSON.
// A person picks a field from the payloads of recent events the webhook's choices match,
// an operator in words and a value; the live preview tries the conditions on those events.

// builderCondition is one row of the section, as typed.
type builderCondition struct{ path, op, value string }

// previewSize is how many recent matching events the preview tries the conditions on, and
// previewScan how many recent events it looks through to find them.
const (
	previewSize = 20
	previewScan = 500
)

// readBuilderFilter reads the section's rows (three parallel lists; a row without a field
// is not a condition) and whether all or any must hold.
func readBuilderFilter(form url.Values) (string, []builderCondition) {
	paths, ops, values := form["filter_path"], form["filter_op"], form["filter_value"]
	n := max(len(paths), len(ops), len(values))
	rows := make([]builderCondition, 0, n)
	at := func(xs []string, i int) string {
		if i < len(xs) {
			return strings.TrimSpace(xs[i])
		}
		return ""
	}
	for i := range min(n, delivery.MaxFilterConditions+1) {
		rows = append(rows, builderCondition{path: at(paths, i), op: at(ops, i), value: at(values, i)})
	}
	match := form.Get("filter_match")
	if match != "any" {
		match = "all"
	}
	return match, rows
}

// filterRowsAction applies "Add a condition" and "Remove" to the rows; ok is false for any
// other action.
func filterRowsAction(action string, rows []builderCondition) ([]builderCondition, bool) {
	if action == "filter_add" {
		if len(rows) < delivery.MaxFilterConditions {
			rows = append(rows, builderCondition{op: "eq"})
		}
		return rows, true
	}
	if i, err := strconv.Atoi(strings.TrimPrefix(action, "filter_remove_")); err == nil && strings.HasPrefix(action, "filter_remove_") {
		if i >= 0 && i < len(rows) {
			rows = slices.Delete(slices.Clone(rows), i, i+1)
		}
		return rows, true
	}
	return rows, false
}

// builderRows turns a stored filter back into rows to edit.
func builderRows(f *store.PayloadFilter) (string, []builderCondition) {
	if f == nil {
		return "all", nil
	}
	rows := make([]builderCondition, len(f.Conditions))
	for i, c := range f.Conditions {
		rows[i] = builderCondition{path: c.Path, op: c.Op, value: valueText(c.Value)}
	}
	match := f.Match
	if match != "any" {
		match = "all"
	}
	return match, rows
}

// valueText is a condition's value as typed in the builder: text as it is, a list as
// "a, b", anything else as JSON.
func valueText(raw json.RawMessage) string {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			if s, ok := e.(string); ok {
				parts[i] = s
			} else {
				b, _ := json.Marshal(e)
				parts[i] = string(b)
			}
		}
		return strings.Join(parts, ", ")
	}
	return string(raw)
}

var dateOnly = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// typedValue turns what was typed into the condition's JSON value, by what the field holds
// in recent payloads: "5" is the number 5 in a number field and the text "5" in a text field.
func typedValue(text, op string, kind delivery.FieldKind) json.RawMessage {
	switch op {
	case "exists", "notExists", "changed":
		return nil
	case "in", "notIn":
		parts := strings.Split(text, ",")
		list := make([]json.RawMessage, 0, len(parts))
		for _, p := range parts {
			if p = strings.TrimSpace(p); p != "" {
				list = append(list, scalarValue(p, op, kind))
			}
		}
		b, _ := json.Marshal(list)
		return b
	}
	return scalarValue(text, op, kind)
}

func scalarValue(text, op string, kind delivery.FieldKind) json.RawMessage {
	ordering := op == "gt" || op == "gte" || op == "lt" || op == "lte"
	isNumber := func() bool { _, err := strconv.ParseFloat(text, 64); return err == nil && json.Valid([]byte(text)) }
	switch {
	case ordering && dateOnly.MatchString(text):
		text += "T00:00:00Z" // a day is its first moment, UTC
	case (kind == "number" || ordering || kind == "empty") && isNumber():
		return json.RawMessage(text)
	case kind == "yes/no" && (strings.EqualFold(text, "true") || strings.EqualFold(text, "yes")):
		return json.RawMessage("true")
	case kind == "yes/no" && (strings.EqualFold(text, "false") || strings.EqualFold(text, "no")):
		return json.RawMessage("false")
	case kind == "empty" && (text == "" || strings.EqualFold(text, "null")):
		return json.RawMessage("null")
	}
	b, _ := json.Marshal(text)
	return b
}

// builderFilter is the filter the rows make (nil when no row names a field), with the row of
// each condition, for reporting problems where they are.
func builderFilter(match string, rows []builderCondition, kinds map[string]delivery.FieldKind) (*store.PayloadFilter, []int) {
	f := &store.PayloadFilter{Match: match}
	var at []int
	for i, r := range rows {
		if r.path == "" {
			continue
		}
		f.Conditions = append(f.Conditions, store.FilterCondition{Path: r.path, Op: r.op, Value: typedValue(r.value, r.op, kinds[r.path])})
		at = append(at, i)
	}
	if len(f.Conditions) == 0 {
		return nil, nil
	}
	return f, at
}

// checkBuilderFilter reports a filter's problems on the rows they belong to ("filter_row_2"),
// or on the section ("filter").
func checkBuilderFilter(f *store.PayloadFilter, rowOf []int, fe fieldErrors) {
	_, problems := delivery.CheckFilter(f)
	for _, p := range problems {
		field := "filter"
		var k int
		if _, err := fmt.Sscanf(p.Field, "filter.conditions[%d]", &k); err == nil && k < len(rowOf) {
			field = fmt.Sprintf("filter_row_%d", rowOf[k])
		}
		fe.add(field, p.Message)
	}
}

// filterContext is what the section is built from: the recent events the webhook's choices
// match (newest first) and the payload fields seen in them.
type filterContext struct {
	events []store.Event
	fields []delivery.PayloadField
	kinds  map[string]delivery.FieldKind
	// unchosen says no project or no event is chosen yet: nothing to preview, and the
	// fields come from any recent events.
	unchosen bool
}

// builderFilterContext finds up to previewSize recent events the builder's choices match,
// among the previewScan newest the owner may see, and the fields of their payloads; without
// such events, the fields of the chosen types' sample payloads.
func (s *Server) builderFilterContext(ctx context.Context, b builderState) (filterContext, error) {
	fc := filterContext{kinds: map[string]delivery.FieldKind{}}
	access, err := s.accessOf(ctx, b.owner)
	if err != nil {
		return fc, err
	}
	in := b.input(fieldErrors{})
	choice := store.Webhook{Events: in.Events, ProjectIDs: in.ProjectIDs, Enabled: true}
	fc.unchosen = (!b.allEvents && len(b.events) == 0) || (!b.allProjects && len(b.projects) == 0)
	f := store.EventFilter{}
	if !b.owner.IsAdmin() {
		f.MemberID = b.owner.ID
	}
	page := store.Page{Limit: 100}
	for scanned := 0; scanned < previewScan && len(fc.events) < previewSize; {
		evs, next, err := s.store.ListEvents(ctx, f, page)
		if err != nil {
			return fc, err
		}
		for _, ev := range evs {
			if len(fc.events) < previewSize && delivery.Match(choice, nil, access, delivery.StoredRef(ev)) == delivery.Receives {
				fc.events = append(fc.events, ev)
			}
		}
		scanned += len(evs)
		if next == "" {
			break
		}
		page.Cursor = next
	}
	docs := make([]*delivery.Document, 0, len(fc.events))
	for _, ev := range fc.events {
		docs = append(docs, delivery.StoredRef(ev).Doc)
	}
	if fc.unchosen {
		fc.events = nil
	}
	if len(docs) == 0 {
		types := in.Events
		if len(types) == 0 {
			types = []string{"TODO_CREATED", "TODO_MOVED", "TODO_DONE_STATUS_UPDATED"}
		}
		for _, t := range types {
			sample := delivery.SampleFor(t)
			docs = append(docs, delivery.NewDocument(delivery.EventData{Type: t, PreviousValue: sample.PreviousValue, CurrentValue: sample.CurrentValue}))
		}
	}
	for _, d := range docs {
		for _, field := range d.Fields(80) {
			if k, seen := fc.kinds[field.Path]; !seen || k == "empty" {
				if !seen {
					fc.fields = append(fc.fields, field)
				}
				fc.kinds[field.Path] = field.Kind
			}
		}
	}
	slices.SortStableFunc(fc.fields, func(a, b delivery.PayloadField) int {
		return strings.Compare(rootOrder(a.Path), rootOrder(b.Path))
	})
	fc.fields = append(fc.fields, delivery.PayloadField{Path: "event", Kind: "text"}, delivery.PayloadField{Path: "projectId", Kind: "text"})
	fc.kinds["event"], fc.kinds["projectId"] = "text", "text"
	return fc, nil
}

// rootOrder sorts the current value's fields before the previous value's.
func rootOrder(path string) string {
	if strings.HasPrefix(path, "currentValue") {
		return "0"
	}
	return "1"
}

// filterOpChoices are the operators in words, as the builder offers them for a field.
func filterOpChoices(kind delivery.FieldKind) []views.FilterOp {
	ops := make([]views.FilterOp, 0, len(delivery.FilterOps))
	for _, op := range delivery.FilterOps {
		label := filterOpWords[op]
		if kind == "time" {
			if w, ok := filterTimeOpWords[op]; ok {
				label = w
			}
		}
		ops = append(ops, views.FilterOp{Op: op, Label: label})
	}
	return ops
}

// filterSection is the view of the "Only when…" section.
func filterSection(b builderState, fc filterContext, fe fieldErrors, types map[string]store.EventType) views.FilterSection {
	sec := views.FilterSection{Match: b.filterMatch, Error: fe["filter"], CanAdd: len(b.filterRows) < delivery.MaxFilterConditions}
	known := map[string]bool{}
	for _, f := range fc.fields {
		known[f.Path] = true
		sec.Fields = append(sec.Fields, views.FilterField{Path: f.Path, Label: pathLabel(f.Path)})
	}
	rows := b.filterRows
	if len(rows) == 0 {
		rows = []builderCondition{{op: "eq"}}
	}
	for i, r := range rows {
		if r.path != "" && !known[r.path] {
			// A saved path the recent payloads do not have stays choosable.
			known[r.path] = true
			sec.Fields = append(sec.Fields, views.FilterField{Path: r.path, Label: pathLabel(r.path)})
		}
		sec.Rows = append(sec.Rows, views.FilterRow{Index: i, Path: r.path, Op: firstNonEmpty(r.op, "eq"), Value: r.value,
			Ops: filterOpChoices(fc.kinds[r.path]), Error: fe[fmt.Sprintf("filter_row_%d", i)]})
	}
	sec.Preview = filterPreview(b, fc, types)
	return sec
}

// filterPreview tries the rows' conditions on the recent matching events.
func filterPreview(b builderState, fc filterContext, types map[string]store.EventType) views.FilterPreview {
	var p views.FilterPreview
	if fc.unchosen {
		p.Text = "Choose the projects and events above: the preview then tries the conditions on their recent events."
		return p
	}
	if len(fc.events) == 0 {
		p.Text = "No recent event matches the projects and events chosen above yet, so there is nothing to try the conditions on."
		return p
	}
	f, _ := builderFilter(b.filterMatch, b.filterRows, fc.kinds)
	compiled, problems := delivery.CheckFilter(f)
	if len(problems) > 0 {
		p.Problem = "Fix the conditions marked above to see which events would be sent."
		return p
	}
	sent := 0
	for _, ev := range fc.events {
		out := compiled.Evaluate(delivery.StoredRef(ev).Doc)
		row := views.FilterPreviewRow{EventID: ev.ID, When: ev.CreatedAt, EventLabel: typeLabel(types, ev.Type), Sent: out.Matches}
		if out.Matches {
			sent++
		} else {
			row.Why = failedConditionsText(out)
		}
		p.Rows = append(p.Rows, row)
	}
	n := len(fc.events)
	noun := "events"
	if n == 1 {
		noun = "event"
	}
	switch {
	case f == nil:
		p.Text = fmt.Sprintf("Of the last %d matching %s, all %d would have been sent: add a condition to narrow them down.", n, noun, n)
	default:
		p.Text = fmt.Sprintf("Of the last %d matching %s, %d would have been sent.", n, noun, sent)
	}
	return p
}
