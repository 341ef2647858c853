package storetest

import (
	"fmt"
	"testing"
	"time"

	"hookyard/store"
)

var notificationCases = []testCase{
	{"UnreadNewestFirstAtMost50", testUnreadNotifications},
	{"MarkRead", testMarkNotificationRead},
}

// notify leaves n notices for owner, one a minute, by switching off n new webhooks; it returns
// their ids oldest first.
func (f *fixture) notify(owner store.User, n int) []string {
	f.t.Helper()
	var out []string
	for i := range n {
		w := f.webhook(owner.ID, fmt.Sprintf("hook-%02d", i))
		_, err := f.s.DisableWebhook(f.ctx, w.ID, store.StatusUnhealthy, "failing")
		f.must(err, "DisableWebhook")
		notes, err := f.s.UnreadNotifications(f.ctx, owner.ID)
		f.must(err, "UnreadNotifications")
		if len(notes) == 0 || notes[0].WebhookID != w.ID {
			f.t.Fatalf("newest notice = %+v, want the one for %s", notes, w.Name)
		}
		out = append(out, notes[0].ID)
		f.clock.Advance(time.Minute)
	}
	return out
}

func testUnreadNotifications(t *testing.T, f *fixture) {
	ada := f.user("ada@example.com", "Ada", store.RoleAdmin)
	bob := f.user("bob@example.com", "Bob", store.RoleMember)
	all := f.notify(ada, 55)
	bobs := f.notify(bob, 1)
	notes, err := f.s.UnreadNotifications(f.ctx, ada.ID)
	f.must(err, "UnreadNotifications")
	check(t, "Ada's unread notices", ids(notes, notificationID), reversed(all)[:50])
	first := notes[len(notes)-1]
	if first.ReadAt != nil || first.Text != "Your webhook “hook-05” was switched off: failing" ||
		!first.CreatedAt.Equal(ms(clockStart).Add(5*time.Minute)) {
		t.Errorf("oldest notice shown = %+v", first)
	}
	notes, _ = f.s.UnreadNotifications(f.ctx, bob.ID)
	check(t, "Bob's unread notices", ids(notes, notificationID), bobs)
	notes, _ = f.s.UnreadNotifications(f.ctx, "usr_missing")
	check(t, "an unknown user's notices", ids(notes, notificationID), []string{})
}

func testMarkNotificationRead(t *testing.T, f *fixture) {
	ada := f.user("ada@example.com", "Ada", store.RoleAdmin)
	bob := f.user("bob@example.com", "Bob", store.RoleMember)
	notes := f.notify(ada, 3)
	checkErr(t, "marking another person's notice", f.s.MarkNotificationRead(f.ctx, bob.ID, notes[1]), store.ErrNotFound)
	f.must(f.s.MarkNotificationRead(f.ctx, ada.ID, notes[1]), "MarkNotificationRead")
	unread, _ := f.s.UnreadNotifications(f.ctx, ada.ID)
	check(t, "unread after marking one", ids(unread, notificationID), []string{notes[2], notes[0]})
	checkErr(t, "marking twice", f.s.MarkNotificationRead(f.ctx, ada.ID, notes[1]), store.ErrNotFound)
	checkErr(t, "marking an unknown notice", f.s.MarkNotificationRead(f.ctx, ada.ID, "ntf_missing"), store.ErrNotFound)
}
