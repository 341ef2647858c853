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

// EventRef is what matching needs to know about an event.
type EventRef struct {
	Type           string
	ProjectID      string
	OrganizationID string
}

// Reason says why a webhook does not receive an event.
type Reason string

const (
	Receives           Reason = ""
	NotSubscribed      Reason = "event_not_selected"
	ProjectNotSelected Reason = "project_not_selected"
	OwnerLostAccess    Reason = "owner_lost_access"
	// Disabled means the webhook would have received the event but is switched off: the event
	// is kept as missed, to be replayed when it is turned back on.
	Disabled Reason = "webhook_disabled"
)

// Match decides whether webhook w receives event ev (SPEC §1 "Who receives an event"):
// its events are empty or include the type, its projects are empty or include the project,
// its owner can access the project, and it is enabled. Enabled is checked last so that a
// disabled webhook still learns which events it missed.
func Match(w store.Webhook, owner Access, ev EventRef) Reason {
	switch {
	case ev.Type == HealthCheckEvent:
		return NotSubscribed
	case len(w.Events) > 0 && !slices.Contains(w.Events, ev.Type):
		return NotSubscribed
	case len(w.ProjectIDs) > 0 && !slices.Contains(w.ProjectIDs, ev.ProjectID):
		return ProjectNotSelected
	case !owner.CanAccess(ev.OrganizationID):
		return OwnerLostAccess
	case !w.Enabled:
		return Disabled
	}
	return Receives
}
