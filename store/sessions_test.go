package store

import (
	"errors"
	"testing"
	"time"
)

func TestSessions(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	clock := useClock(s, 0)
	ctx := t.Context()
	ada := createUser(t, s, "ada@example.com", "Ada", RoleAdmin)
	bob := createUser(t, s, "bob@example.com", "Bob", RoleMember)

	a1, err := s.CreateSession(ctx, ada.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := s.CreateSession(ctx, ada.ID, time.Hour)
	b1, _ := s.CreateSession(ctx, bob.ID, 2*time.Hour)
	sa1, err := s.Session(ctx, a1)
	if err != nil || sa1.User.ID != ada.ID {
		t.Fatalf("Session(a1) = %v, %v; want Ada", sa1.User.ID, err)
	}
	// Every session has a CSRF token of its own, also two of the same user.
	sa2, _ := s.Session(ctx, a2)
	if len(sa1.CSRFToken) < 32 || sa1.CSRFToken == sa2.CSRFToken || sa1.CSRFToken == a1 {
		t.Fatalf("CSRF tokens %q and %q of two sessions: want long, different and not the session token", sa1.CSRFToken, sa2.CSRFToken)
	}
	if n := countRows(t, s, "sessions", ""); n != 3 {
		t.Fatalf("%d sessions stored, want 3", n)
	}
	// Only a hash of the token is stored.
	var raw int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE id = ?`, a1).Scan(&raw); err != nil || raw != 0 {
		t.Fatalf("the session token itself is stored (%d rows, %v)", raw, err)
	}

	if err := s.DeleteSession(ctx, a1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, a1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("signed-out session still works: %v", err)
	}
	if _, err := s.Session(ctx, a2); err != nil {
		t.Fatalf("signing out one session ended another: %v", err)
	}

	a3, _ := s.CreateSession(ctx, ada.ID, time.Hour)
	if err := s.DeleteUserSessions(ctx, ada.ID, a3); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, a2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DeleteUserSessions kept another session: %v", err)
	}
	if _, err := s.Session(ctx, a3); err != nil {
		t.Fatalf("DeleteUserSessions ended the kept session: %v", err)
	}
	if _, err := s.Session(ctx, b1); err != nil {
		t.Fatalf("DeleteUserSessions ended another user's session: %v", err)
	}

	clock.Advance(90 * time.Minute)
	if _, err := s.Session(ctx, a3); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired session still works: %v", err)
	}
	if _, err := s.Session(ctx, b1); err != nil {
		t.Fatalf("unexpired session refused: %v", err)
	}
	if _, err := s.CreateSession(ctx, bob.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, s, "sessions", ""); n != 2 {
		t.Fatalf("%d sessions after a new sign-in, want 2 (expired ones cleared)", n)
	}
	if _, err := s.CreateSession(ctx, "usr_missing", time.Hour); !errors.Is(err, ErrNotFound) {
		t.Fatalf("session for an unknown user: %v, want ErrNotFound", err)
	}
	if err := s.DeleteUser(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, b1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a deleted user's session still works: %v", err)
	}
}

// A publish whose cached view still has a webhook deleted a moment ago stores the event and
// the other deliveries, and skips that one, instead of failing.
func TestPublishSkipsDeliveriesOfDeletedWebhooks(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	ctx := t.Context()
	u := createUser(t, s, "ada@example.com", "Ada", RoleAdmin)
	o := createOrg(t, s, "Acme")
	p, err := s.CreateProject(ctx, o.ID, "Web")
	if err != nil {
		t.Fatal(err)
	}
	live := Webhook{OwnerID: u.ID, Name: "live", URL: "https://a.example/x", Secret: "whsec_x"}
	gone := Webhook{OwnerID: u.ID, Name: "gone", URL: "https://b.example/x", Secret: "whsec_y"}
	for _, w := range []*Webhook{&live, &gone} {
		if err := s.CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteWebhook(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ev := Event{ID: s.NextID("evt"), Type: "TODO_CREATED", OrganizationID: o.ID, ProjectID: p.ID, PublisherID: u.ID, CreatedAt: now}
	err = s.Publish(ctx, Publication{Events: []Event{ev},
		Deliveries: []Delivery{
			{ID: s.NextID("dlv"), EventID: ev.ID, WebhookID: live.ID, EventType: ev.Type, CreatedAt: now, NextAttemptAt: &now},
			{ID: s.NextID("dlv"), EventID: ev.ID, WebhookID: gone.ID, EventType: ev.Type, CreatedAt: now, NextAttemptAt: &now},
		},
		Missed: []MissedEvent{{WebhookID: gone.ID, EventID: ev.ID}},
	})
	if err != nil {
		t.Fatalf("publish with a just-deleted webhook: %v", err)
	}
	if n := countRows(t, s, "deliveries", ""); n != 1 {
		t.Fatalf("%d deliveries stored, want 1 (the live webhook's)", n)
	}
	if n := countRows(t, s, "events", ""); n != 1 {
		t.Fatalf("%d events stored, want 1", n)
	}
}
