package handlers

import (
	"context"
	"fmt"

	"hookyard/delivery"
	"hookyard/store"
)

// eventOutcome says, for one event and one webhook, what happened and why.
type eventOutcome struct {
	WebhookID   string          `json:"webhookId"`
	WebhookName string          `json:"webhookName"`
	State       string          `json:"state"` // delivered, pending, failed, cancelled, missed, not_matched
	Reason      string          `json:"reason"`
	Delivery    *store.Delivery `json:"delivery"`
	// Filter is set when the webhook's filter left the event out: each condition, with the
	// value it saw.
	Filter *filterResultJSON `json:"filter,omitempty"`
}

var deliveryStates = map[store.DeliveryStatus]string{
	store.DeliverySucceeded: "delivered", store.DeliveryPending: "pending",
	store.DeliveryFailed: "failed", store.DeliveryCancelled: "cancelled",
}

// eventOutcomes explains an event to a viewer: for one page of their webhooks (of every
// webhook for an admin), its delivery, or the plain reason it did not receive the event.
// It returns the cursor of the next page ("" on the last).
func (s *Server) eventOutcomes(ctx context.Context, viewer *store.User, ev store.Event, page store.Page) ([]eventOutcome, string, error) {
	f := store.WebhookFilter{}
	if !viewer.IsAdmin() {
		f.OwnerID = viewer.ID
	}
	hooks, next, err := s.store.ListWebhooks(ctx, f, page)
	if err != nil {
		return nil, "", err
	}
	ids := make([]string, len(hooks))
	for i, w := range hooks {
		ids[i] = w.ID
	}
	handled, err := s.store.HandlingOf(ctx, ev.ID, ids)
	if err != nil {
		return nil, "", err
	}
	_, types, err := s.subscribableTypes(ctx)
	if err != nil {
		return nil, "", err
	}
	label := typeLabel(types, ev.Type)
	project, org := ev.ProjectID, ev.OrganizationID
	if p, err := s.store.Project(ctx, ev.ProjectID); err == nil {
		project, org = p.Name, p.OrganizationName
	}
	out := make([]eventOutcome, 0, len(hooks))
	for _, w := range hooks {
		o := eventOutcome{WebhookID: w.ID, WebhookName: w.Name}
		if d, ok := handled.Latest[w.ID]; ok {
			o.Delivery = &d
			o.State = deliveryStates[d.Status]
			o.Reason = deliveryReason(d)
			out = append(out, o)
			continue
		}
		if handled.Missed[w.ID] {
			o.State, o.Reason = "missed", "The webhook was switched off — the event is kept as missed, to replay when it is back on."
			out = append(out, o)
			continue
		}
		owner, access, err := s.ownerAccess(ctx, w)
		if err != nil {
			return nil, "", err
		}
		o.State = "not_matched"
		filter := delivery.FilterOf(w)
		ref := delivery.StoredRef(ev)
		switch delivery.Match(w, filter, access, ref) {
		case delivery.NotSubscribed:
			o.Reason = "Not subscribed to “" + label + "”."
		case delivery.ProjectNotSelected:
			o.Reason = "The project " + project + " (" + org + ") is not selected."
		case delivery.OwnerLostAccess:
			o.Reason = owner.Name + " has no access to " + org + "."
		case delivery.FilterNotMatched:
			outcome := filter.Evaluate(ref.Doc)
			o.Reason = filteredOutText(outcome)
			r := filterResult(outcome)
			o.Filter = &r
		case delivery.Disabled:
			o.Reason = "The webhook is switched off."
		default:
			if store.MadeAfter(w.ID, ev.ID) {
				o.Reason = "The webhook was created after this event."
			} else {
				o.Reason = "It did not match when the event was published; its choices have changed since."
			}
		}
		out = append(out, o)
	}
	return out, next, nil
}

func deliveryReason(d store.Delivery) string {
	switch d.Status {
	case store.DeliverySucceeded:
		return fmt.Sprintf("Delivered (HTTP %d) after %s.", d.LastStatusCode, plural(d.Attempts, "attempt"))
	case store.DeliveryPending:
		if d.Attempts == 0 {
			return "Waiting for its first attempt."
		}
		return fmt.Sprintf("Attempt %d failed (%s); it will be tried again.", d.Attempts, d.LastError)
	case store.DeliveryFailed:
		return fmt.Sprintf("Failed after %s: %s", plural(d.Attempts, "attempt"), d.LastError)
	}
	return d.LastError
}
