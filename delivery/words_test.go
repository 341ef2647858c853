package delivery

import "testing"

func TestNamesInWords(t *testing.T) {
	labels := map[string]string{"TODO_MOVED": "Record moved to another list",
		"TODO_CHECKLIST_ITEM_ASSIGNEE_REMOVED": "Person unassigned from a checklist item"}
	label := func(n string) (string, bool) { l, ok := labels[n]; return l, ok }
	for _, c := range []struct{ in, want string }{
		{"5 attempts failed for TODO_CHECKLIST_ITEM_ASSIGNEE_REMOVED: HTTP 500",
			"5 attempts failed for “Person unassigned from a checklist item”: HTTP 500"},
		{"The receiver answered 410 Gone for TODO_MOVED, which means it no longer wants these requests.",
			"The receiver answered 410 Gone for “Record moved to another list”, which means it no longer wants these requests."},
		{"Turned off by Ada Admin.", "Turned off by Ada Admin."},
		{"5 attempts failed for MY_CUSTOM_TYPE: connection refused (ECONNREFUSED)", "5 attempts failed for MY_CUSTOM_TYPE: connection refused (ECONNREFUSED)"},
		{"XTODO_MOVED and TODO_MOVEDX are other words", "XTODO_MOVED and TODO_MOVEDX are other words"},
	} {
		if got := NamesInWords(c.in, label); got != c.want {
			t.Errorf("NamesInWords(%q)\n = %q\nwant %q", c.in, got, c.want)
		}
	}
}
