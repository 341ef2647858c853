package delivery_test

import (
	"fmt"
	"testing"

	"hookyard/delivery"
	"hookyard/store"
)

// The world every match case lives in: the event happens in prjWeb of orgAcme; orgGlobex is
// another organisation the owner may (also, or only) belong to.
const (
	orgAcme    = "org_acme"
	orgGlobex  = "org_globex"
	prjWeb     = "prj_web"     // in orgAcme: where the event happens
	prjSupport = "prj_support" // in orgAcme
	prjGlobex  = "prj_globex"  // in orgGlobex
)

type eventKind struct {
	name string
	typ  string
}

var matchEventKinds = []eventKind{
	{"built-in", "TODO_MOVED"},
	// An admin adds this type after the webhook was saved: "all events" must still reach it.
	{"custom added later", "INVOICE_PAID"},
	{"health check", delivery.HealthCheckEvent},
}

// selection is one way a webhook can choose events or projects.
type selection int

const (
	selectAll      selection = iota // empty list: everything, including later additions
	selectIncludes                  // a list that names the event's type / project
	selectExcludes                  // a list that names others only
)

func (s selection) String() string {
	return [...]string{"all", "includes", "excludes"}[s]
}

var selections = []selection{selectAll, selectIncludes, selectExcludes}

func eventsFor(s selection, eventType string) []string {
	switch s {
	case selectIncludes:
		return []string{"TODO_CREATED", eventType, "COMMENT_CREATED"}
	case selectExcludes:
		return []string{"TODO_CREATED", "COMMENT_CREATED"}
	}
	return nil
}

func projectsFor(s selection) []string {
	switch s {
	case selectIncludes:
		return []string{prjSupport, prjWeb, prjGlobex}
	case selectExcludes:
		return []string{prjSupport, prjGlobex}
	}
	return nil
}

type ownerKind struct {
	name   string
	access delivery.Access
	// mayAccessEventOrg is SPEC §1 rule 4 written out for this owner: admin, or member of the
	// event's organisation.
	mayAccessEventOrg bool
}

var ownerKinds = []ownerKind{
	{"admin", delivery.Access{Admin: true}, true},
	{"admin and member elsewhere", delivery.Access{Admin: true, Organizations: map[string]bool{orgGlobex: true}}, true},
	{"member of event org", delivery.Access{Organizations: map[string]bool{orgAcme: true}}, true},
	{"member of both orgs", delivery.Access{Organizations: map[string]bool{orgAcme: true, orgGlobex: true}}, true},
	{"removed member (other org only)", delivery.Access{Organizations: map[string]bool{orgGlobex: true}}, false},
	{"member of no org", delivery.Access{}, false},
	{"removed member (false entry)", delivery.Access{Organizations: map[string]bool{orgAcme: false, orgGlobex: true}}, false},
}

// expectedReason applies SPEC §1 "Who receives an event" and §3 (the health check cannot be
// subscribed to), reporting the first unmet condition in the documented precedence: the
// subscription (events, then projects), then the owner's access, then enabled last so a
// disabled webhook learns what it missed.
// filterKind is whether a webhook has a filter (SPEC §9), and whether the event passes it.
type filterKind struct {
	name   string
	filter *store.PayloadFilter
	passes bool
}

// The event of the combinations has currentValue {"status": "Done"}.
var filterKinds = []filterKind{
	{"no filter", nil, true},
	{"filter passes", &store.PayloadFilter{Match: "all", Conditions: []store.FilterCondition{{Path: "currentValue.status", Op: "eq", Value: []byte(`"Done"`)}}}, true},
	{"filter fails", &store.PayloadFilter{Match: "all", Conditions: []store.FilterCondition{{Path: "currentValue.status", Op: "eq", Value: []byte(`"Open"`)}}}, false},
}

func expectedReason(events, projects selection, enabled bool, owner ownerKind, eventType string, filter filterKind) delivery.Reason {
	subscribed := eventType != delivery.HealthCheckEvent && (events == selectAll || events == selectIncludes)
	projectChosen := projects == selectAll || projects == selectIncludes
	unmet := []struct {
		ok     bool
		reason delivery.Reason
	}{
		{subscribed, delivery.NotSubscribed},
		{projectChosen, delivery.ProjectNotSelected},
		{owner.mayAccessEventOrg, delivery.OwnerLostAccess},
		{filter.passes, delivery.FilterNotMatched},
		{enabled, delivery.Disabled},
	}
	for _, c := range unmet {
		if !c.ok {
			return c.reason
		}
	}
	return delivery.Receives
}

func TestMatchEveryCombination(t *testing.T) {
	counts := map[delivery.Reason]int{}
	for _, ek := range matchEventKinds {
		for _, es := range selections {
			for _, ps := range selections {
				for _, enabled := range []bool{true, false} {
					for _, owner := range ownerKinds {
						for _, fk := range filterKinds {
							name := fmt.Sprintf("%s/events=%s/projects=%s/enabled=%t/%s/%s", ek.name, es, ps, enabled, owner.name, fk.name)
							w := store.Webhook{
								ID:         "wh_1",
								OwnerID:    "usr_1",
								URL:        "https://example.com/hook",
								Events:     eventsFor(es, ek.typ),
								ProjectIDs: projectsFor(ps),
								Enabled:    enabled,
								Status:     store.StatusHealthy,
								Filter:     fk.filter,
							}
							ev := delivery.RefOf(delivery.EventData{Type: ek.typ, ProjectID: prjWeb, OrganizationID: orgAcme,
								CurrentValue: []byte(`{"status": "Done"}`)})
							want := expectedReason(es, ps, enabled, owner, ek.typ, fk)
							counts[want]++
							t.Run(name, func(t *testing.T) {
								got := delivery.Match(w, delivery.FilterOf(w), owner.access, ev)
								if got != want {
									t.Errorf("Match = %q, want %q", got, want)
								}
								// The spec rule as a plain conjunction: it receives iff all five hold.
								allHold := enabled &&
									ek.typ != delivery.HealthCheckEvent && es != selectExcludes &&
									ps != selectExcludes && owner.mayAccessEventOrg && fk.passes
								if (got == delivery.Receives) != allHold {
									t.Errorf("Match = %q but the SPEC conditions all hold = %t", got, allHold)
								}
							})
						}
					}
				}
			}
		}
	}
	// Guard against a table that silently stopped exercising an outcome.
	for _, r := range []delivery.Reason{delivery.Receives, delivery.NotSubscribed, delivery.ProjectNotSelected, delivery.OwnerLostAccess, delivery.FilterNotMatched, delivery.Disabled} {
		if counts[r] == 0 {
			t.Errorf("no generated case expects %q", r)
		}
	}
}

// Named cases from the SPEC, spelled out so a failure reads as a sentence.
func TestMatchSpecExamples(t *testing.T) {
	admin := delivery.Access{Admin: true}
	member := delivery.Access{Organizations: map[string]bool{orgAcme: true}}
	removed := delivery.Access{Organizations: map[string]bool{orgGlobex: true}}
	ev := func(typ string) delivery.EventRef {
		return delivery.EventRef{Type: typ, ProjectID: prjWeb, OrganizationID: orgAcme}
	}
	tests := []struct {
		name  string
		w     store.Webhook
		owner delivery.Access
		ev    delivery.EventRef
		want  delivery.Reason
	}{
		{"all events reaches a custom type added later", store.Webhook{Enabled: true}, member, ev("INVOICE_PAID"), delivery.Receives},
		{"empty (non-nil) lists mean all", store.Webhook{Enabled: true, Events: []string{}, ProjectIDs: []string{}}, member, ev("TODO_CREATED"), delivery.Receives},
		{"health check never matches an all-events webhook", store.Webhook{Enabled: true}, admin, ev(delivery.HealthCheckEvent), delivery.NotSubscribed},
		{"health check never matches even when listed", store.Webhook{Enabled: true, Events: []string{delivery.HealthCheckEvent}}, admin, ev(delivery.HealthCheckEvent), delivery.NotSubscribed},
		{"removed member stops receiving with all projects", store.Webhook{Enabled: true}, removed, ev("TODO_CREATED"), delivery.OwnerLostAccess},
		{"removed member stops receiving with the project listed", store.Webhook{Enabled: true, ProjectIDs: []string{prjWeb}}, removed, ev("TODO_CREATED"), delivery.OwnerLostAccess},
		{"disabled webhook learns what it missed", store.Webhook{Enabled: false, Events: []string{"TODO_CREATED"}}, member, ev("TODO_CREATED"), delivery.Disabled},
		{"disabled and unsubscribed is not a missed event", store.Webhook{Enabled: false, Events: []string{"TODO_DELETED"}}, member, ev("TODO_CREATED"), delivery.NotSubscribed},
		{"disabled and other project is not a missed event", store.Webhook{Enabled: false, ProjectIDs: []string{prjSupport}}, member, ev("TODO_CREATED"), delivery.ProjectNotSelected},
		{"disabled and lost access is not a missed event", store.Webhook{Enabled: false}, removed, ev("TODO_CREATED"), delivery.OwnerLostAccess},
		{"event type match is exact (case)", store.Webhook{Enabled: true, Events: []string{"todo_created"}}, admin, ev("TODO_CREATED"), delivery.NotSubscribed},
		{"event type match is exact (prefix)", store.Webhook{Enabled: true, Events: []string{"TODO_CREATED_X"}}, admin, ev("TODO_CREATED"), delivery.NotSubscribed},
		{"unsubscribed wins over unselected project", store.Webhook{Enabled: true, Events: []string{"TODO_DELETED"}, ProjectIDs: []string{prjSupport}}, removed, ev("TODO_CREATED"), delivery.NotSubscribed},
		{"unselected project wins over lost access", store.Webhook{Enabled: true, ProjectIDs: []string{prjSupport}}, removed, ev("TODO_CREATED"), delivery.ProjectNotSelected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := delivery.Match(tt.w, nil, tt.owner, tt.ev); got != tt.want {
				t.Errorf("Match = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAccessCanAccess(t *testing.T) {
	tests := []struct {
		name   string
		access delivery.Access
		org    string
		want   bool
	}{
		{"admin without memberships", delivery.Access{Admin: true}, orgAcme, true},
		{"member of the org", delivery.Access{Organizations: map[string]bool{orgAcme: true}}, orgAcme, true},
		{"member of another org", delivery.Access{Organizations: map[string]bool{orgGlobex: true}}, orgAcme, false},
		{"nil memberships", delivery.Access{}, orgAcme, false},
		{"false entry", delivery.Access{Organizations: map[string]bool{orgAcme: false}}, orgAcme, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.access.CanAccess(tt.org); got != tt.want {
				t.Errorf("CanAccess(%q) = %t, want %t", tt.org, got, tt.want)
			}
		})
	}
}
