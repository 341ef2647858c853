package store

import (
	"context"
	"regexp"
	"time"
)

// EventType is a kind of event, such as TODO_CREATED, with the words the UI shows for it.
type EventType struct {
	Name         string    `json:"name"`
	Category     string    `json:"category"`
	Label        string    `json:"label"`
	Description  string    `json:"description"`
	BuiltIn      bool      `json:"builtIn"`
	Subscribable bool      `json:"subscribable"`
	CreatedAt    time.Time `json:"createdAt"`
}

// EventTypeNamePattern is the rule for event type names (SPEC §1).
var EventTypeNamePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{2,63}$`)

// CustomCategory is the category custom types get when none is given.
const CustomCategory = "Custom"

const eventTypeColumns = `name, category, label, description, builtin, subscribable, created_at`

func scanEventType(row scanner) (EventType, error) {
	var t EventType
	var created int64
	err := row.Scan(&t.Name, &t.Category, &t.Label, &t.Description, &t.BuiltIn, &t.Subscribable, &created)
	t.CreatedAt = fromMS(created)
	return t, notFound(err)
}

// ListEventTypes returns every event type: built-ins in their documented order (the
// health check last of them), then custom ones by name.
func (s *Store) ListEventTypes(ctx context.Context) ([]EventType, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+eventTypeColumns+` FROM event_types ORDER BY builtin DESC, position, name`)
	return collect(rows, err, scanEventType)
}

// EventType returns one event type or ErrNotFound.
func (s *Store) EventType(ctx context.Context, name string) (EventType, error) {
	return scanEventType(s.read.QueryRowContext(ctx, `SELECT `+eventTypeColumns+` FROM event_types WHERE name = ?`, name))
}

// CreateEventType stores a custom, subscribable event type; ErrConflict if the name exists.
func (s *Store) CreateEventType(ctx context.Context, t EventType) (EventType, error) {
	defer s.changed()
	now := s.nowMS()
	t.BuiltIn, t.Subscribable, t.CreatedAt = false, true, fromMS(now)
	if t.Category == "" {
		t.Category = CustomCategory
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO event_types (`+eventTypeColumns+`) VALUES (?, ?, ?, ?, 0, 1, ?)`,
		t.Name, t.Category, t.Label, t.Description, now)
	if isUnique(err) {
		return EventType{}, ErrConflict
	}
	return t, err
}
