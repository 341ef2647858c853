package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"hookyard/delivery"
	"hookyard/store"
)

// Payload filters (SPEC §9) as the API reads and answers them, and in words for the pages.

// readFilter reads a webhook's "filter" field: absent leaves it as it is, null removes it.
// What is wrong with it is reported on fe, naming the condition.
func readFilter(raw json.RawMessage, fe fieldErrors) store.Setting[*store.PayloadFilter] {
	if len(raw) == 0 {
		return store.Setting[*store.PayloadFilter]{}
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return store.Setting[*store.PayloadFilter]{Set: true}
	}
	var f store.PayloadFilter
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&f); err != nil {
		fe.add("filter", `Not a filter: `+strings.TrimPrefix(err.Error(), "json: ")+`. Write {"match": "all", "conditions": [{"path": "currentValue.status", "op": "eq", "value": "Done"}]}, or null.`)
		return store.Setting[*store.PayloadFilter]{}
	}
	checkFilter(&f, fe)
	return store.Setting[*store.PayloadFilter]{Set: true, To: &f}
}

// checkFilter reports what is wrong with a filter, naming the condition.
func checkFilter(f *store.PayloadFilter, fe fieldErrors) {
	_, problems := delivery.CheckFilter(f)
	for _, p := range problems {
		fe.add(p.Field, p.Message)
	}
}

// filterResultJSON is a filter's verdict on one event (POST /filters/evaluate, and in
// GET /events/{id} for a webhook whose filter left the event out).
type filterResultJSON struct {
	Matches    bool                  `json:"matches"`
	Conditions []conditionResultJSON `json:"conditions"`
}

type conditionResultJSON struct {
	Path    string `json:"path"`
	Op      string `json:"op"`
	Matches bool   `json:"matches"`
	Actual  any    `json:"actual"` // the value seen; null when the path is missing (found false)
	Found   bool   `json:"found"`
}

func filterResult(o delivery.FilterOutcome) filterResultJSON {
	out := filterResultJSON{Matches: o.Matches, Conditions: make([]conditionResultJSON, len(o.Conditions))}
	for i, c := range o.Conditions {
		out.Conditions[i] = conditionResultJSON{Path: c.Condition.Path, Op: c.Condition.Op, Matches: c.Matches,
			Actual: c.Actual, Found: c.Found}
	}
	return out
}

// apiEvaluateFilter tries a filter on a stored event the viewer may see, or on a payload.
func (s *Server) apiEvaluateFilter(c echo.Context) error {
	var b struct {
		Filter  json.RawMessage `json:"filter"`
		EventID string          `json:"eventId"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	fe := fieldErrors{}
	f := readFilter(b.Filter, fe)
	if !f.Set || f.To == nil {
		fe.add("filter", `Give the filter to try, e.g. {"match": "all", "conditions": [{"path": "currentValue.status", "op": "eq", "value": "Done"}]}.`)
	}
	hasPayload := len(b.Payload) > 0 && !bytes.Equal(bytes.TrimSpace(b.Payload), []byte("null"))
	var doc *delivery.Document
	switch {
	case b.EventID != "" && hasPayload:
		fe.add("eventId", "Give eventId or payload, not both.")
	case b.EventID == "" && !hasPayload:
		fe.add("eventId", "Give the id of an event (eventId) or a payload to try the filter on.")
	case hasPayload:
		var err error
		if doc, err = delivery.PayloadDocument(b.Payload); err != nil {
			fe.add("payload", "Give the payload as a JSON object, as a webhook receives it.")
		}
	}
	if err := validation(fe); err != nil {
		return err
	}
	if doc == nil {
		ev, err := s.eventFor(c.Request().Context(), currentUser(c), b.EventID)
		if err != nil {
			return err
		}
		doc = delivery.StoredRef(ev).Doc
	}
	compiled, _ := delivery.CheckFilter(f.To)
	return c.JSON(http.StatusOK, filterResult(compiled.Evaluate(doc)))
}

// filteredOutText says why a filter left an event out: which conditions failed and what
// they saw.
func filteredOutText(o delivery.FilterOutcome) string {
	if o.Broken != "" {
		return "Left out: its filter cannot be read (" + o.Broken + "); edit the webhook to fix it."
	}
	return "Left out by its filter: " + failedConditionsText(o) + "."
}

// failedConditionsText names the conditions that did not hold and what they saw:
// "Current value → status is “Done” did not hold (it was “Open”)".
func failedConditionsText(o delivery.FilterOutcome) string {
	if o.Broken != "" {
		return "its filter cannot be read (" + o.Broken + ")"
	}
	failed := o.Failed()
	parts := make([]string, len(failed))
	for i, r := range failed {
		parts[i] = conditionWords(r.Condition) + " did not hold (" + sawWords(r) + ")"
	}
	if o.Any && len(o.Conditions) > 1 {
		return "none of its conditions held — " + strings.Join(parts, "; ")
	}
	return strings.Join(parts, "; ")
}

// sawWords says what a condition found in the event.
func sawWords(r delivery.ConditionResult) string {
	if r.Condition.Op == "changed" {
		switch {
		case !r.Found && !r.PreviousFound:
			return "the field is missing before and after"
		default:
			return "it was " + valueWords(r.Actual) + " before and after"
		}
	}
	if !r.Found {
		return "the field is missing"
	}
	return "it was " + valueWords(r.Actual)
}

// pathLabel is a payload path in words: "currentValue.status" is "Current value → status".
func pathLabel(path string) string {
	parts := strings.Split(path, ".")
	roots := map[string]string{"id": "Event id", "event": "Event type", "timestamp": "Time of the event",
		"organizationId": "Organisation", "projectId": "Project", "previousValue": "Previous value", "currentValue": "Current value"}
	if l, ok := roots[parts[0]]; ok {
		parts[0] = l
	}
	for i := 1; i < len(parts); i++ {
		if k, err := strconv.Atoi(parts[i]); err == nil && k >= 0 {
			parts[i] = "item " + strconv.Itoa(k+1)
		}
	}
	return strings.Join(parts, " → ")
}

// filterOpWords are the operators in words; ops comparing with a time say so.
var filterOpWords = map[string]string{
	"eq": "is", "ne": "is not", "in": "is one of", "notIn": "is none of", "contains": "contains",
	"startsWith": "starts with", "gt": "is more than", "gte": "is at least", "lt": "is less than",
	"lte": "is at most", "exists": "is present", "notExists": "is missing", "changed": "changed",
}

var filterTimeOpWords = map[string]string{"gt": "is after", "gte": "is on or after", "lt": "is before", "lte": "is on or before"}

// opWords is an operator in words for a given value.
func opWords(op string, value json.RawMessage) string {
	if w, ok := filterTimeOpWords[op]; ok {
		var s string
		if json.Unmarshal(value, &s) == nil {
			if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return w
			}
		}
	}
	if w, ok := filterOpWords[op]; ok {
		return w
	}
	return op
}

// conditionWords is one condition in words: "Current value → status is “Done”".
func conditionWords(c store.FilterCondition) string {
	out := pathLabel(c.Path) + " " + opWords(c.Op, c.Value)
	switch c.Op {
	case "exists", "notExists", "changed":
		return out
	}
	var v any
	if d := json.NewDecoder(bytes.NewReader(c.Value)); d.Decode(&v) != nil {
		return out
	}
	if list, ok := v.([]any); ok && (c.Op == "in" || c.Op == "notIn") {
		words := make([]string, len(list))
		for i, x := range list {
			words[i] = valueWords(x)
		}
		return out + " " + joinOr(words, 5, "values")
	}
	return out + " " + valueWords(v)
}

// filterWords is a whole filter in words, for the builder's summary.
func filterWords(f *store.PayloadFilter) string {
	if f == nil || len(f.Conditions) == 0 {
		return ""
	}
	parts := make([]string, len(f.Conditions))
	for i, c := range f.Conditions {
		parts[i] = conditionWords(c)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	if f.Match == "any" {
		return "any of: " + strings.Join(parts, "; ")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// valueWords is a JSON value as a person reads it, cut short when long.
func valueWords(v any) string {
	switch x := v.(type) {
	case nil:
		return "empty (null)"
	case string:
		return "“" + cut(x, 80) + "”"
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return cut(string(b), 80)
}

func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
