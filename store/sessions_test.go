package store

import (
	"testing"
	"time"
)

// What the contract suite cannot see: only a hash of a session token is stored, and a new
// sign-in clears expired sessions from the table.
func TestSessionsStoreHashesAndClearExpired(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	now := clockStart
	s.now = func() time.Time { return now }
	ctx := t.Context()
	ada := createUser(t, s, "ada@example.com", "Ada", RoleAdmin)

	short, err := s.CreateSession(ctx, ada.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateSession(ctx, ada.ID, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, s, "sessions", "id = ?", short); n != 0 {
		t.Fatalf("the session token itself is stored (%d rows)", n)
	}
	if n := countRows(t, s, "sessions", "id = ?", hashToken(short)); n != 1 {
		t.Fatalf("%d rows hold the token's hash, want 1", n)
	}
	now = now.Add(90 * time.Minute)
	if _, err := s.CreateSession(ctx, ada.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, s, "sessions", ""); n != 2 {
		t.Fatalf("%d sessions after a new sign-in, want 2 (the expired one cleared)", n)
	}
}
