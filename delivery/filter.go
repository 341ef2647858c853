package delivery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"hookyard/store"
)

// Payload filters (SPEC §9): a webhook may narrow the events it receives by their content.
// A filter is checked and compiled once, when the match index loads the webhook; matching an
// event then only walks decoded values (the event's values are decoded once per event, for
// every webhook that needs them).

// MaxFilterConditions is the most conditions one filter may have.
const MaxFilterConditions = 20

// FilterOps lists the operators, in the order the documentation gives them.
var FilterOps = []string{"eq", "ne", "in", "notIn", "contains", "startsWith", "gt", "gte", "lt", "lte", "exists", "notExists", "changed"}

// FilterRoots are the top-level payload fields a path may start with.
var FilterRoots = []string{"id", "event", "timestamp", "organizationId", "projectId", "previousValue", "currentValue"}

// Filter is a webhook's filter compiled for matching.
type Filter struct {
	any   bool // "any": one condition suffices; else all must hold
	conds []condition
	// broken says why a stored filter could not be compiled: it then lets nothing through,
	// rather than everything its owner meant to keep out.
	broken string
}

type condition struct {
	src  store.FilterCondition
	path []string
	op   string
	// The value, decoded once: one of these, as the operator needs.
	value any       // eq, ne, contains: a decoded JSON value
	set   []any     // in, notIn
	text  string    // startsWith
	num   float64   // gt…lte against numbers
	at    time.Time // gt…lte against times
	isAt  bool
	prev  []string // changed: the same path under previousValue
}

// FilterProblem is one reason a filter is refused, for the field it names
// ("filter.conditions[2].op").
type FilterProblem struct {
	Field   string
	Message string
}

// CheckFilter compiles f, or says what is wrong with it, naming the condition.
func CheckFilter(f *store.PayloadFilter) (*Filter, []FilterProblem) {
	if f == nil {
		return nil, nil
	}
	var problems []FilterProblem
	out := &Filter{}
	switch f.Match {
	case "", "all":
	case "any":
		out.any = true
	default:
		problems = append(problems, FilterProblem{"filter.match", `Use "all" (every condition must hold) or "any" (one is enough).`})
	}
	switch {
	case len(f.Conditions) == 0:
		problems = append(problems, FilterProblem{"filter.conditions", "Give at least one condition, or set filter to null to receive every event."})
	case len(f.Conditions) > MaxFilterConditions:
		problems = append(problems, FilterProblem{"filter.conditions", fmt.Sprintf("A filter may have at most %d conditions; this one has %d.", MaxFilterConditions, len(f.Conditions))})
		return nil, problems
	}
	for i, c := range f.Conditions {
		cc, field, msg := compileCondition(c)
		if msg != "" {
			name := fmt.Sprintf("Condition %d", i+1)
			if c.Path != "" {
				name += " (" + c.Path + ")"
			}
			problems = append(problems, FilterProblem{fmt.Sprintf("filter.conditions[%d].%s", i, field), name + ": " + msg})
			continue
		}
		out.conds = append(out.conds, cc)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return out, nil
}

// FilterOf is a stored webhook's filter compiled (nil when it has none). A stored filter that
// no longer compiles lets nothing through and says so.
func FilterOf(w store.Webhook) *Filter {
	f, problems := CheckFilter(w.Filter)
	if len(problems) > 0 {
		return &Filter{broken: problems[0].Message}
	}
	return f
}

func compileCondition(c store.FilterCondition) (cc condition, field, problem string) {
	cc = condition{src: c, op: c.Op}
	if c.Path == "" {
		return cc, "path", "Give a path such as currentValue.status."
	}
	cc.path = strings.Split(c.Path, ".")
	if !slices.Contains(FilterRoots, cc.path[0]) {
		return cc, "path", "A path starts with " + strings.Join(FilterRoots, ", ") + "."
	}
	if slices.Contains(cc.path, "") {
		return cc, "path", "A path has no empty parts: write currentValue.status, not currentValue..status."
	}
	if !slices.Contains(FilterOps, c.Op) {
		return cc, "op", "Use one of " + strings.Join(FilterOps, ", ") + "."
	}
	hasValue := len(c.Value) > 0 && !bytes.Equal(bytes.TrimSpace(c.Value), []byte("null"))
	var v any
	if len(c.Value) > 0 {
		var err error
		if v, err = decodeJSON(c.Value); err != nil {
			return cc, "value", "The value is not valid JSON."
		}
	}
	switch c.Op {
	case "exists", "notExists", "changed":
		if hasValue {
			return cc, "value", c.Op + " takes no value."
		}
		if c.Op == "changed" {
			if cc.path[0] != "currentValue" {
				return cc, "path", "changed compares a path under currentValue with the same path under previousValue: start it with currentValue."
			}
			cc.prev = append([]string{"previousValue"}, cc.path[1:]...)
		}
	case "eq", "ne", "contains":
		if len(c.Value) == 0 {
			return cc, "value", c.Op + " needs a value."
		}
		cc.value = v
	case "in", "notIn":
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			return cc, "value", c.Op + " needs a list of values, e.g. [\"Done\", \"Closed\"]."
		}
		cc.set = list
	case "startsWith":
		s, ok := v.(string)
		if !ok {
			return cc, "value", "startsWith needs a text value."
		}
		cc.text = s
	case "gt", "gte", "lt", "lte":
		switch x := v.(type) {
		case json.Number:
			cc.num, _ = x.Float64()
		case string:
			t, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return cc, "value", c.Op + " compares numbers or times: give a number, or an RFC 3339 time such as 2026-11-27T10:00:00Z."
			}
			cc.at, cc.isAt = t, true
		default:
			return cc, "value", c.Op + " compares numbers or times: give a number, or an RFC 3339 time such as 2026-11-27T10:00:00Z."
		}
	}
	return cc, "", ""
}

// decodeJSON decodes one JSON value, keeping numbers exact.
func decodeJSON(raw []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return v, nil
}

// Document is an event as filter paths see it: the payload of SPEC §3. The event's values are
// decoded on first use, once, whatever the number of webhooks that look into them.
type Document struct {
	ev      EventData
	root    map[string]any // a payload given as is (POST /filters/evaluate), or the event's once decoded
	decoded bool
}

// NewDocument is the document of a stored or published event.
func NewDocument(ev EventData) *Document { return &Document{ev: ev} }

// PayloadDocument is the document of a payload given as JSON (an object).
func PayloadDocument(raw json.RawMessage) (*Document, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the payload must be a JSON object")
	}
	return &Document{root: m, decoded: true}, nil
}

func (d *Document) decode() {
	d.decoded = true
	value := func(raw json.RawMessage) any {
		if len(raw) == 0 {
			return nil
		}
		v, err := decodeJSON(raw)
		if err != nil {
			return nil // stored values are valid JSON; a broken one reads as null
		}
		return v
	}
	d.root = map[string]any{
		"id": d.ev.ID, "event": d.ev.Type, "organizationId": d.ev.OrganizationID, "projectId": d.ev.ProjectID,
		"timestamp":     d.ev.CreatedAt.UTC().Format(payloadTime),
		"previousValue": value(d.ev.PreviousValue), "currentValue": value(d.ev.CurrentValue),
	}
}

// lookup finds the value at a path: a number indexes an array; found is false when any part
// is missing.
func (d *Document) lookup(path []string) (v any, found bool) {
	if !d.decoded {
		d.decode()
	}
	v = any(d.root)
	for _, part := range path {
		switch c := v.(type) {
		case map[string]any:
			if v, found = c[part]; !found {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// ConditionResult is how one condition fared on one event: the value it saw (Actual, nil
// and Found false when the path is missing) and, for changed, the previous one.
type ConditionResult struct {
	Condition     store.FilterCondition
	Matches       bool
	Found         bool
	Actual        any
	Previous      any
	PreviousFound bool
}

// FilterOutcome is a filter's verdict on one event, condition by condition.
type FilterOutcome struct {
	Matches    bool
	Any        bool // one condition was enough ("any"); else all were needed
	Conditions []ConditionResult
	Broken     string // why a stored filter lets nothing through
}

// Failed lists the conditions that did not hold.
func (o FilterOutcome) Failed() []ConditionResult {
	var out []ConditionResult
	for _, c := range o.Conditions {
		if !c.Matches {
			out = append(out, c)
		}
	}
	return out
}

// Matches reports whether the event passes the filter (a nil filter passes everything). It
// stops at the first condition that decides.
func (f *Filter) Matches(d *Document) bool {
	if f == nil {
		return true
	}
	if f.broken != "" {
		return false
	}
	for i := range f.conds {
		if f.conds[i].eval(d).Matches == f.any {
			return f.any
		}
	}
	return !f.any
}

// Evaluate checks every condition and reports each.
func (f *Filter) Evaluate(d *Document) FilterOutcome {
	if f == nil {
		return FilterOutcome{Matches: true}
	}
	if f.broken != "" {
		return FilterOutcome{Broken: f.broken}
	}
	out := FilterOutcome{Matches: !f.any, Any: f.any, Conditions: make([]ConditionResult, len(f.conds))}
	for i := range f.conds {
		r := f.conds[i].eval(d)
		out.Conditions[i] = r
		if r.Matches == f.any {
			out.Matches = f.any
		}
	}
	return out
}

func (c *condition) eval(d *Document) ConditionResult {
	v, found := d.lookup(c.path)
	r := ConditionResult{Condition: c.src, Found: found, Actual: v}
	switch c.op {
	case "exists":
		r.Matches = found
	case "notExists":
		r.Matches = !found
	case "eq":
		r.Matches = found && jsonEqual(v, c.value)
	case "ne":
		r.Matches = !found || !jsonEqual(v, c.value)
	case "in":
		r.Matches = found && inList(v, c.set)
	case "notIn":
		r.Matches = !found || !inList(v, c.set)
	case "contains":
		switch a := v.(type) {
		case string:
			s, ok := c.value.(string)
			r.Matches = ok && strings.Contains(a, s)
		case []any:
			r.Matches = inList(c.value, a)
		}
	case "startsWith":
		s, ok := v.(string)
		r.Matches = ok && strings.HasPrefix(s, c.text)
	case "gt", "gte", "lt", "lte":
		cmp, ok := c.compare(v)
		if ok {
			switch c.op {
			case "gt":
				r.Matches = cmp > 0
			case "gte":
				r.Matches = cmp >= 0
			case "lt":
				r.Matches = cmp < 0
			case "lte":
				r.Matches = cmp <= 0
			}
		}
	case "changed":
		r.Previous, r.PreviousFound = d.lookup(c.prev)
		switch {
		case found && r.PreviousFound:
			r.Matches = !jsonEqual(v, r.Previous)
		default:
			r.Matches = found != r.PreviousFound // appeared or went away
		}
	}
	return r
}

// compare orders the actual value against the condition's number or time; ok is false when
// the actual value is not of that kind.
func (c *condition) compare(v any) (int, bool) {
	if c.isAt {
		s, ok := v.(string)
		if !ok {
			return 0, false
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return 0, false
		}
		return t.Compare(c.at), true
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	if err != nil {
		return 0, false
	}
	switch {
	case f < c.num:
		return -1, true
	case f > c.num:
		return 1, true
	}
	return 0, true
}

func inList(v any, list []any) bool {
	for _, x := range list {
		if jsonEqual(v, x) {
			return true
		}
	}
	return false
}

// jsonEqual compares decoded JSON values; numbers are equal by value (1 and 1.0 are equal).
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool, string:
		return a == b
	case json.Number:
		y, ok := b.(json.Number)
		return ok && numbersEqual(x, y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !jsonEqual(xv, yv) {
				return false
			}
		}
		return true
	}
	return false
}

func numbersEqual(a, b json.Number) bool {
	if a == b {
		return true
	}
	if x, err := a.Int64(); err == nil {
		if y, err := b.Int64(); err == nil {
			return x == y
		}
	}
	// Beyond int64, compare the decimals exactly rather than as rounded floats.
	x, ok1 := new(big.Rat).SetString(string(a))
	y, ok2 := new(big.Rat).SetString(string(b))
	return ok1 && ok2 && x.Cmp(y) == 0
}

// FieldKind is what a payload field holds, for a builder offering it: "text", "time",
// "number", "yes/no", "list" or "empty" (null).
type FieldKind string

// PayloadField is a path into an event's payload and what it held.
type PayloadField struct {
	Path string
	Kind FieldKind
}

// Fields lists the paths a filter could look at in this event, in payload order of the
// values (current value first), at most max: scalars and lists (not objects, whose fields
// are listed instead), down to a few levels, without array elements.
func (d *Document) Fields(max int) []PayloadField {
	if !d.decoded {
		d.decode()
	}
	var out []PayloadField
	var walk func(prefix string, v any, depth int)
	walk = func(prefix string, v any, depth int) {
		if len(out) >= max {
			return
		}
		switch x := v.(type) {
		case map[string]any:
			if depth >= 4 {
				return
			}
			for _, k := range slices.Sorted(maps.Keys(x)) {
				if k != "" && !strings.Contains(k, ".") {
					walk(prefix+"."+k, x[k], depth+1)
				}
			}
			return
		case []any:
			out = append(out, PayloadField{prefix, "list"})
		case string:
			kind := FieldKind("text")
			if _, err := time.Parse(time.RFC3339Nano, x); err == nil {
				kind = "time"
			}
			out = append(out, PayloadField{prefix, kind})
		case json.Number:
			out = append(out, PayloadField{prefix, "number"})
		case bool:
			out = append(out, PayloadField{prefix, "yes/no"})
		case nil:
			out = append(out, PayloadField{prefix, "empty"})
		}
	}
	for _, root := range []string{"currentValue", "previousValue"} {
		if m, ok := d.root[root].(map[string]any); ok {
			walk(root, m, 0)
		}
	}
	return out
}
