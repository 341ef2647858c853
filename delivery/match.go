// Package delivery is Hookyard's engine: who receives an event (Match), the payload and its
// signatures, the guarded outbound HTTP client, and sending. It has no HTTP handlers and no HTML.
package delivery

import (
	"slices"

	"hookyard/store"
)

// HealthCheckEvent is sent by Hookyard itself to test an endpoint; nobody subscribes to it.
const HealthCheckEvent = "WEBHOOK_HEALTH_CHECK"

// Access is what a webhook's owner can currently see.
type Access struct {
	Admin         bool
	Organizations map[string]bool // ids of the organisations the owner is a member of
}

// CanAccess reports whether the owner may see an organisation's projects.
func (a Access) CanAccess(orgID string) bool { return a.Admin || a.Organizations[orgID] }

// EventRef is what matching needs to know about an event: where it happened, and its
// content for filters (nil Doc reads as an event with nothing in it).
type EventRef struct {
	Type           string
	ProjectID      string
	OrganizationID string
	Doc            *Document
}

// RefOf is the reference of an event about to be matched.
func RefOf(ev EventData) EventRef {
	return EventRef{Type: ev.Type, ProjectID: ev.ProjectID, OrganizationID: ev.OrganizationID, Doc: NewDocument(ev)}
}

// StoredRef is the reference of a stored event.
func StoredRef(ev store.Event) EventRef { return RefOf(eventData(ev)) }

// Reason says why a webhook does not receive an event.
type Reason string

const (
	Receives           Reason = ""
	NotSubscribed      Reason = "event_not_selected"
	ProjectNotSelected Reason = "project_not_selected"
	OwnerLostAccess    Reason = "owner_lost_access"
	// FilterNotMatched means the webhook's filter (SPEC §9) left the event out; the filter's
	// Evaluate says which condition failed and the value it saw.
	FilterNotMatched Reason = "filter_not_matched"
	// Disabled means the webhook would have received the event but is switched off: the event
	// is kept as missed, to be replayed when it is turned back on.
	Disabled Reason = "webhook_disabled"
)

// Match decides whether webhook w receives event ev (SPEC §1 "Who receives an event"):
// its events are empty or include the type, its projects are empty or include the project,
// its owner can access the project, its filter matches, and it is enabled. filter is w's
// filter compiled (FilterOf(w); the engine compiles it once, when it loads the webhook).
// Enabled is checked last so that a disabled webhook still learns which events it missed.
func Match(w store.Webhook, filter *Filter, owner Access, ev EventRef) Reason {
	switch {
	case ev.Type == HealthCheckEvent:
		return NotSubscribed
	case len(w.Events) > 0 && !slices.Contains(w.Events, ev.Type):
		return NotSubscribed
	case len(w.ProjectIDs) > 0 && !slices.Contains(w.ProjectIDs, ev.ProjectID):
		return ProjectNotSelected
	case !owner.CanAccess(ev.OrganizationID):
		return OwnerLostAccess
	case filter != nil && !filter.Matches(docOf(ev)):
		return FilterNotMatched
	case !w.Enabled:
		return Disabled
	}
	return Receives
}

func docOf(ev EventRef) *Document {
	if ev.Doc == nil {
		return &Document{root: map[string]any{}, decoded: true}
	}
	return ev.Doc
}
