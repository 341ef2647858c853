package delivery

import (
	"encoding/json"
	"time"

	"hookyard/store"
)

// Payload is the JSON body of every delivery (SPEC §3). The secret never appears in it.
type Payload struct {
	ID             string          `json:"id"`
	Event          string          `json:"event"`
	Timestamp      string          `json:"timestamp"`
	OrganizationID string          `json:"organizationId"`
	ProjectID      string          `json:"projectId"`
	Webhook        PayloadWebhook  `json:"webhook"`
	PreviousValue  json.RawMessage `json:"previousValue"`
	CurrentValue   json.RawMessage `json:"currentValue"`
}

// PayloadWebhook describes, inside a payload, the webhook it was sent to.
type PayloadWebhook struct {
	ID       string          `json:"id"`
	URL      string          `json:"url"`
	Status   string          `json:"status"`
	Enabled  bool            `json:"enabled"`
	Metadata PayloadMetadata `json:"metadata"`
}

// PayloadMetadata is the webhook's subscription.
type PayloadMetadata struct {
	Events     []string `json:"events"`
	ProjectIDs []string `json:"projectIds"`
}

// EventData is what a payload says about the event itself.
type EventData struct {
	ID             string
	Type           string
	OrganizationID string
	ProjectID      string
	CreatedAt      time.Time
	PreviousValue  json.RawMessage // nil is sent as null
	CurrentValue   json.RawMessage
}

// payloadTime is how a payload writes times: RFC 3339 in UTC with milliseconds.
const payloadTime = "2006-01-02T15:04:05.000Z07:00"

// BuildPayload renders the body sent to w for ev.
func BuildPayload(w store.Webhook, ev EventData) ([]byte, error) {
	orNull := func(v json.RawMessage) json.RawMessage {
		if len(v) == 0 {
			return json.RawMessage("null")
		}
		return v
	}
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return json.Marshal(Payload{
		ID: ev.ID, Event: ev.Type, Timestamp: ev.CreatedAt.UTC().Format(payloadTime),
		OrganizationID: ev.OrganizationID, ProjectID: ev.ProjectID,
		Webhook: PayloadWebhook{
			ID: w.ID, URL: w.URL, Status: string(w.Status), Enabled: w.Enabled,
			Metadata: PayloadMetadata{Events: nonNil(w.Events), ProjectIDs: nonNil(w.ProjectIDs)},
		},
		PreviousValue: orNull(ev.PreviousValue), CurrentValue: orNull(ev.CurrentValue),
	})
}
