package store

import (
	"strings"
	"testing"
)

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
