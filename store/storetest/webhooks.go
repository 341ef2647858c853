package storetest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"hookyard/store"
)

var webhookCases = []testCase{
	{"CreateAndRead", testCreateWebhook},
	{"QuotaPerOwner", testWebhookQuota},
	{"Update", testUpdateWebhook},
	{"ListFilters", testListWebhooksFilters},
	{"DisableByAPerson", testDisableWebhook},
	{"DisableAsUnhealthyLeavesANotice", testDisableUnhealthy},
	{"Enable", testEnableWebhook},
	{"RotateSecret", testRotateSecret},
	{"DeleteTakesItsHistory", testDeleteWebhook},
	{"CountDisabled", testCountDisabledWebhooks},
	{"ChangesCountWhatDecidesWhoReceives", testChanges},
}

// switchedOffText is what a delivery cancelled by a switch-off says.
const switchedOffText = "Cancelled: the webhook was switched off."

func testCreateWebhook(t *testing.T, f *fixture) {
	s := f.scene()
	p2 := f.project(s.org.ID, "Mobile")
	before := f.s.Changes()
	w := store.Webhook{OwnerID: s.owner.ID, Name: "Orders", URL: "https://127.0.0.1:8443/hook", Secret: "whsec_abc",
		Events: []string{"TODO_MOVED", "TODO_CREATED", "TODO_MOVED"}, ProjectIDs: []string{p2.ID, s.project.ID, p2.ID},
		// What the store decides, callers cannot set:
		Enabled: false, Status: store.StatusUnhealthy, DisabledReason: "x", DisabledAt: ptr(f.now())}
	f.must(f.s.CreateWebhook(f.ctx, &w), "CreateWebhook")
	if f.s.Changes() <= before {
		t.Error("CreateWebhook did not count as a change")
	}
	if !strings.HasPrefix(w.ID, "wh_") || len(w.ID) != len("wh_")+26 {
		t.Errorf("ID = %q, want wh_ and 26 characters", w.ID)
	}
	want := store.Webhook{ID: w.ID, OwnerID: s.owner.ID, Name: "Orders", URL: "https://127.0.0.1:8443/hook",
		Events: []string{"TODO_CREATED", "TODO_MOVED"}, ProjectIDs: sorted(s.project.ID, p2.ID),
		Enabled: true, Status: store.StatusHealthy, CreatedAt: f.now(), UpdatedAt: f.now(), Secret: "whsec_abc"}
	check(t, "CreateWebhook fills in", w, want)
	got, err := f.s.Webhook(f.ctx, w.ID)
	f.must(err, "Webhook")
	check(t, "Webhook", got, want)

	// Empty selections mean "all" and read back as empty lists, not nil.
	all := f.webhook(s.owner.ID, "all")
	got = f.webhookNow(all.ID)
	if got.Events == nil || got.ProjectIDs == nil || len(got.Events)+len(got.ProjectIDs) != 0 {
		t.Errorf("webhook for everything: events %#v, projects %#v; want two empty lists", got.Events, got.ProjectIDs)
	}
	// Selections belong to their webhook.
	got = f.webhookNow(w.ID)
	check(t, "the first webhook's events after another was made", got.Events, want.Events)
	_, err = f.s.Webhook(f.ctx, "wh_missing")
	checkErr(t, "Webhook(unknown)", err, store.ErrNotFound)
}

// An owner may have maxPerOwner webhooks (0: no limit); switched-off webhooks count, other
// owners' do not, and a deleted one makes room.
func testWebhookQuota(t *testing.T, f *fixture) {
	ada, bob := f.user("ada@example.com", "Ada", store.RoleMember), f.user("bob@example.com", "Bob", store.RoleMember)
	create := func(owner store.User, max int) (store.Webhook, error) {
		w := store.Webhook{OwnerID: owner.ID, Name: "hook", URL: "http://127.0.0.1:9/x", Secret: "whsec_x"}
		err := f.s.CreateWebhookWithin(f.ctx, &w, max)
		return w, err
	}
	first, err := create(ada, 2)
	f.must(err, "CreateWebhookWithin")
	_, err = f.s.DisableWebhook(f.ctx, first.ID, store.StatusHealthy, "Paused.")
	f.must(err, "DisableWebhook")
	_, err = create(ada, 2)
	f.must(err, "CreateWebhookWithin")
	before := f.s.Changes()
	_, err = create(ada, 2)
	checkErr(t, "a third webhook with a quota of 2", err, store.ErrQuotaReached)
	_, err = create(bob, 2)
	checkErr(t, "another owner's webhook", err, nil)
	_, err = create(ada, 0)
	checkErr(t, "a webhook without a quota", err, nil)
	if n, _ := f.s.CountWebhooks(f.ctx, store.WebhookFilter{OwnerID: ada.ID}); n != 3 {
		t.Errorf("Ada has %d webhooks, want 3", n)
	}
	f.must(f.s.DeleteWebhook(f.ctx, first.ID), "DeleteWebhook")
	_, err = create(ada, 3)
	checkErr(t, "a webhook after one was deleted", err, nil)
	if f.s.Changes() <= before {
		t.Error("creating webhooks within a quota did not count as changes")
	}
}

func testUpdateWebhook(t *testing.T, f *fixture) {
	s := f.scene()
	other := f.webhook(s.owner.ID, "other")
	p2 := f.project(s.org.ID, "Mobile")
	want := f.webhookNow(s.hook.ID)
	for _, st := range []struct {
		name string
		ch   store.WebhookChanges
		want func(*store.Webhook)
	}{
		{"name", store.WebhookChanges{Name: ptr("Renamed")}, func(w *store.Webhook) { w.Name = "Renamed" }},
		{"url", store.WebhookChanges{URL: ptr("http://[::1]:8080/x")}, func(w *store.Webhook) { w.URL = "http://[::1]:8080/x" }},
		{"events", store.WebhookChanges{Events: &[]string{"TODO_MOVED", "TODO_CREATED", "TODO_CREATED"}},
			func(w *store.Webhook) { w.Events = []string{"TODO_CREATED", "TODO_MOVED"} }},
		{"projects", store.WebhookChanges{ProjectIDs: &[]string{p2.ID}}, func(w *store.Webhook) { w.ProjectIDs = []string{p2.ID} }},
		{"nothing", store.WebhookChanges{}, func(*store.Webhook) {}},
		// Read back in the order written (byte by byte), whatever the database's locale.
		{"events sorted", store.WebhookChanges{Events: &[]string{"DEPLOY_X", "DEPLOYS", "DEPLOY1"}},
			func(w *store.Webhook) { w.Events = []string{"DEPLOY1", "DEPLOYS", "DEPLOY_X"} }},
		{"events emptied", store.WebhookChanges{Events: &[]string{}}, func(w *store.Webhook) { w.Events = []string{} }},
		{"name and projects emptied", store.WebhookChanges{Name: ptr("Again"), ProjectIDs: &[]string{}},
			func(w *store.Webhook) { w.Name, w.ProjectIDs = "Again", []string{} }},
	} {
		f.clock.Advance(time.Minute)
		before := f.s.Changes()
		got, err := f.s.UpdateWebhook(f.ctx, s.hook.ID, st.ch)
		f.must(err, st.name+": UpdateWebhook")
		st.want(&want)
		want.UpdatedAt = f.now()
		check(t, st.name+": UpdateWebhook", got, want)
		check(t, st.name+": stored webhook", f.webhookNow(s.hook.ID), want)
		if f.s.Changes() <= before {
			t.Errorf("%s: UpdateWebhook did not count as a change", st.name)
		}
	}
	check(t, "the other webhook", f.webhookNow(other.ID), other)

	// Deleting a selected project leaves it selected: an emptied selection would mean "every
	// project".
	_, err := f.s.UpdateWebhook(f.ctx, s.hook.ID, store.WebhookChanges{ProjectIDs: &[]string{p2.ID}})
	f.must(err, "UpdateWebhook")
	f.must(f.s.DeleteProject(f.ctx, p2.ID), "DeleteProject")
	check(t, "projects selected after deleting the only one", f.webhookNow(s.hook.ID).ProjectIDs, []string{p2.ID})

	_, err = f.s.UpdateWebhook(f.ctx, "wh_missing", store.WebhookChanges{Name: ptr("x")})
	checkErr(t, "UpdateWebhook(unknown)", err, store.ErrNotFound)
}

func testListWebhooksFilters(t *testing.T, f *fixture) {
	s := f.scene()
	bob := f.user("bob@example.com", "Bob", store.RoleMember)
	failing := f.webhook(s.owner.ID, "failing")
	off := f.webhook(s.owner.ID, "off")
	unhealthy := f.webhook(s.owner.ID, "unhealthy")
	f.webhook(bob.ID, "bobs")
	_, ds := f.publish(s.project, "TODO_CREATED", failing)
	f.record(f.outcome(ds[0], 1, 500, store.DeliveryPending))
	_, err := f.s.DisableWebhook(f.ctx, off.ID, store.StatusHealthy, "Paused.")
	f.must(err, "DisableWebhook")
	_, err = f.s.DisableWebhook(f.ctx, unhealthy.ID, store.StatusUnhealthy, "Failing.")
	f.must(err, "DisableWebhook")

	for _, tc := range []struct {
		filter store.WebhookFilter
		want   []string
	}{
		{store.WebhookFilter{}, []string{"main", "failing", "off", "unhealthy", "bobs"}},
		{store.WebhookFilter{OwnerID: s.owner.ID}, []string{"main", "failing", "off", "unhealthy"}},
		{store.WebhookFilter{OwnerID: bob.ID}, []string{"bobs"}},
		{store.WebhookFilter{OwnerID: "usr_missing"}, []string{}},
		{store.WebhookFilter{State: "enabled"}, []string{"main", "failing", "bobs"}},
		{store.WebhookFilter{State: "disabled"}, []string{"off", "unhealthy"}},
		{store.WebhookFilter{State: "unhealthy"}, []string{"unhealthy"}},
		{store.WebhookFilter{State: "working"}, []string{"main", "bobs"}},
		{store.WebhookFilter{State: "failing"}, []string{"failing"}},
		{store.WebhookFilter{OwnerID: bob.ID, State: "disabled"}, []string{}},
		{store.WebhookFilter{OwnerID: s.owner.ID, State: "working"}, []string{"main"}},
	} {
		got, next, err := f.s.ListWebhooks(f.ctx, tc.filter, store.Page{})
		f.must(err, "ListWebhooks")
		if next != "" {
			t.Errorf("%+v: next cursor %q for a short list", tc.filter, next)
		}
		check(t, fmt.Sprintf("ListWebhooks(%+v)", tc.filter), ids(got, webhookName), tc.want)
		n, err := f.s.CountWebhooks(f.ctx, tc.filter)
		f.must(err, "CountWebhooks")
		check(t, fmt.Sprintf("CountWebhooks(%+v)", tc.filter), n, len(tc.want))
	}
	for owner, want := range map[string]store.WebhookStates{
		"":            {Working: 2, Failing: 1, Off: 2},
		s.owner.ID:    {Working: 1, Failing: 1, Off: 2},
		bob.ID:        {Working: 1},
		"usr_missing": {},
	} {
		got, err := f.s.CountWebhookStates(f.ctx, owner)
		f.must(err, "CountWebhookStates")
		check(t, "CountWebhookStates("+owner+")", got, want)
	}
	// Listed webhooks carry what Webhook returns, selections included.
	list, _, _ := f.s.ListWebhooks(f.ctx, store.WebhookFilter{State: "disabled"}, store.Page{})
	check(t, "listed webhooks", list, []store.Webhook{f.webhookNow(off.ID), f.webhookNow(unhealthy.ID)})
}

func testDisableWebhook(t *testing.T, f *fixture) {
	s := f.scene()
	other := f.webhook(s.owner.ID, "other")
	_, done := f.publish(s.project, "TODO_CREATED", s.hook, s.hook)
	f.record(f.outcome(done[0], 1, 200, store.DeliverySucceeded), f.outcome(done[1], 5, 500, store.DeliveryFailed))
	finished := []store.Delivery{f.delivery(done[0].ID), f.delivery(done[1].ID)}
	_, ds := f.publish(s.project, "TODO_MOVED", s.hook, other)
	_, more := f.publish(s.project, "TODO_DELETED", s.hook)

	f.clock.Advance(time.Minute)
	before := f.s.Changes()
	got, err := f.s.DisableWebhook(f.ctx, s.hook.ID, store.StatusHealthy, "Paused by Owner.")
	f.must(err, "DisableWebhook")
	if f.s.Changes() <= before {
		t.Error("DisableWebhook did not count as a change")
	}
	want := f.webhookNow(s.hook.ID)
	if want.Enabled || want.Status != store.StatusHealthy || want.DisabledReason != "Paused by Owner." ||
		!sameTime(want.DisabledAt, ptr(f.now())) || !sameTime(want.LastDisabledAt, ptr(f.now())) || !want.UpdatedAt.Equal(f.now()) {
		t.Errorf("disabled webhook = %+v; want off, HEALTHY, the reason, disabled and updated now", want)
	}
	check(t, "DisableWebhook returns the webhook as it now is", got, want)
	for _, d := range []store.Delivery{ds[0], more[0]} {
		if got := f.delivery(d.ID); got.Status != store.DeliveryCancelled || got.NextAttemptAt != nil ||
			got.LastError != switchedOffText || !got.UpdatedAt.Equal(f.now()) {
			t.Errorf("pending delivery after the switch-off = %+v; want cancelled now, not due, saying why", got)
		}
	}
	for _, d := range finished {
		check(t, "a finished delivery after the switch-off", f.delivery(d.ID), d)
	}
	check(t, "the other webhook's delivery", f.delivery(ds[1].ID), ds[1])
	if n, _ := f.s.UnreadNotifications(f.ctx, s.owner.ID); len(n) != 0 {
		t.Errorf("a person's switch-off left notices %+v; want none", n)
	}

	// Disabling what is already off changes nothing, not even the time or the reason.
	f.clock.Advance(time.Minute)
	again, err := f.s.DisableWebhook(f.ctx, s.hook.ID, store.StatusUnhealthy, "Again.")
	f.must(err, "DisableWebhook again")
	check(t, "disabling twice", again, want)
	_, err = f.s.DisableWebhook(f.ctx, "wh_missing", store.StatusHealthy, "x")
	checkErr(t, "DisableWebhook(unknown)", err, store.ErrNotFound)
}

func testDisableUnhealthy(t *testing.T, f *fixture) {
	s := f.scene()
	bob := f.user("bob@example.com", "Bob", store.RoleMember)
	got, err := f.s.DisableWebhook(f.ctx, s.hook.ID, store.StatusUnhealthy, "5 attempts failed for TODO_MOVED: HTTP 500")
	f.must(err, "DisableWebhook")
	if got.Enabled || got.Status != store.StatusUnhealthy || got.DisabledReason != "5 attempts failed for TODO_MOVED: HTTP 500" {
		t.Errorf("webhook = %+v, want off and UNHEALTHY with the reason", got)
	}
	notes, err := f.s.UnreadNotifications(f.ctx, s.owner.ID)
	f.must(err, "UnreadNotifications")
	if len(notes) != 1 {
		t.Fatalf("owner's notices = %+v, want one", notes)
	}
	want := store.Notification{ID: notes[0].ID, WebhookID: s.hook.ID, CreatedAt: f.now(),
		Text: "Your webhook “main” was switched off: 5 attempts failed for TODO_MOVED: HTTP 500"}
	check(t, "the notice", notes[0], want)
	if !strings.HasPrefix(notes[0].ID, "ntf_") {
		t.Errorf("notice id %q, want ntf_…", notes[0].ID)
	}
	if n, _ := f.s.UnreadNotifications(f.ctx, bob.ID); len(n) != 0 {
		t.Errorf("another user got notices: %+v", n)
	}
}

func testEnableWebhook(t *testing.T, f *fixture) {
	s := f.scene()
	_, ds := f.publish(s.project, "TODO_CREATED", s.hook)
	f.record(f.outcome(ds[0], 1, 500, store.DeliveryPending))
	_, pending := f.publish(s.project, "TODO_MOVED", s.hook)
	off, err := f.s.DisableWebhook(f.ctx, s.hook.ID, store.StatusUnhealthy, "Failing.")
	f.must(err, "DisableWebhook")
	disabledAt := off.DisabledAt

	f.clock.Advance(time.Hour)
	before := f.s.Changes()
	got, err := f.s.EnableWebhook(f.ctx, s.hook.ID)
	f.must(err, "EnableWebhook")
	if f.s.Changes() <= before {
		t.Error("EnableWebhook did not count as a change")
	}
	want := off
	want.Enabled, want.Status, want.DisabledReason, want.DisabledAt = true, store.StatusHealthy, "", nil
	want.ConsecutiveFailures, want.UpdatedAt = 0, f.now()
	// What was missed since the switch-off stays findable; the last failure stays history.
	want.LastDisabledAt = disabledAt
	check(t, "EnableWebhook", got, want)
	check(t, "stored webhook", f.webhookNow(s.hook.ID), want)
	if d := f.delivery(pending[0].ID); d.Status != store.DeliveryCancelled {
		t.Errorf("a delivery cancelled by the switch-off is %s after switching on, want cancelled", d.Status)
	}
	_, err = f.s.EnableWebhook(f.ctx, "wh_missing")
	checkErr(t, "EnableWebhook(unknown)", err, store.ErrNotFound)
}

func testRotateSecret(t *testing.T, f *fixture) {
	s := f.scene()
	other := f.webhook(s.owner.ID, "other")
	f.clock.Advance(time.Minute)
	before := f.s.Changes()
	got, err := f.s.RotateSecret(f.ctx, s.hook.ID, "whsec_second", 24*time.Hour)
	f.must(err, "RotateSecret")
	if f.s.Changes() <= before {
		t.Error("RotateSecret did not count as a change")
	}
	until := f.now().Add(24 * time.Hour)
	want := s.hook
	want.Secret, want.UpdatedAt = "whsec_second", f.now()
	want.PreviousSecrets = []store.PreviousSecret{{Secret: "whsec_main", ExpiresAt: until}}
	check(t, "RotateSecret", got, want)
	check(t, "stored webhook", f.webhookNow(s.hook.ID), want)
	check(t, "signing secrets during the grace period", got.SigningSecrets(until.Add(-time.Millisecond)), []string{"whsec_second", "whsec_main"})
	check(t, "signing secrets after it", got.SigningSecrets(until), []string{"whsec_second"})
	check(t, "the other webhook", f.webhookNow(other.ID), other)

	// Rotating again within the window keeps both older secrets signing, each until its end.
	f.clock.Advance(time.Minute)
	got, err = f.s.RotateSecret(f.ctx, s.hook.ID, "whsec_third", time.Hour)
	f.must(err, "RotateSecret again")
	second := f.now().Add(time.Hour)
	if got.Secret != "whsec_third" || len(got.PreviousSecrets) != 2 || got.PreviousSecrets[0].Secret != "whsec_second" ||
		!sameTime(&got.PreviousSecrets[0].ExpiresAt, &second) ||
		got.PreviousSecrets[1].Secret != "whsec_main" {
		t.Errorf("second rotation = %q with previous %+v; want whsec_third, then whsec_second for an hour and whsec_main until its own end",
			got.Secret, got.PreviousSecrets)
	}
	check(t, "signing secrets in both windows", got.SigningSecrets(second.Add(-time.Millisecond)), []string{"whsec_third", "whsec_second", "whsec_main"})
	_, err = f.s.RotateSecret(f.ctx, "wh_missing", "x", time.Hour)
	checkErr(t, "RotateSecret(unknown)", err, store.ErrNotFound)
}

func testDeleteWebhook(t *testing.T, f *fixture) {
	s := f.scene()
	other := f.webhook(s.owner.ID, "other")
	// More history than one delete batch holds, so every batch must go.
	pub := store.Publication{}
	for range 1201 {
		ev := f.newEvent(s.project, "TODO_CREATED")
		pub.Events = append(pub.Events, ev)
		pub.Deliveries = append(pub.Deliveries, f.newDelivery(ev, s.hook.ID))
	}
	f.must(f.s.Publish(f.ctx, pub), "Publish")
	_, both := f.publish(s.project, "TODO_MOVED", s.hook, other)
	f.record(f.outcome(both[0], 1, 200, store.DeliverySucceeded), f.outcome(both[1], 1, 200, store.DeliverySucceeded))
	missed := f.missed(s.project, "TODO_DELETED", s.hook, other)

	before := f.s.Changes()
	f.must(f.s.DeleteWebhook(f.ctx, s.hook.ID), "DeleteWebhook")
	if f.s.Changes() <= before {
		t.Error("DeleteWebhook did not count as a change")
	}
	_, err := f.s.Webhook(f.ctx, s.hook.ID)
	checkErr(t, "Webhook after delete", err, store.ErrNotFound)
	for _, d := range []store.Delivery{pub.Deliveries[0], pub.Deliveries[600], pub.Deliveries[1200], both[0]} {
		_, err := f.s.Delivery(f.ctx, d.ID)
		checkErr(t, "Delivery of the deleted webhook", err, store.ErrNotFound)
	}
	left, _, err := f.s.ListDeliveries(f.ctx, store.DeliveryFilter{WebhookID: s.hook.ID}, store.Page{})
	f.must(err, "ListDeliveries")
	check(t, "deliveries of the deleted webhook", ids(left, deliveryID), []string{})
	if a, _ := f.s.Attempts(f.ctx, both[0].ID); len(a) != 0 {
		t.Errorf("attempts of the deleted webhook: %+v", a)
	}
	if h, _ := f.s.WebhookHours(f.ctx, s.hook.ID, time.Time{}); len(h) != 0 {
		t.Errorf("hourly figures of the deleted webhook: %+v", h)
	}
	by, _ := f.s.MissedBy(f.ctx, missed.ID)
	check(t, "MissedBy after the delete", by, map[string]bool{other.ID: true})

	// The other webhook and the events stay.
	if w := f.webhookNow(other.ID); !w.Enabled {
		t.Errorf("the other webhook after the delete: %+v", w)
	}
	if d := f.delivery(both[1].ID); d.Status != store.DeliverySucceeded {
		t.Errorf("the other webhook's delivery = %+v", d)
	}
	if a, _ := f.s.Attempts(f.ctx, both[1].ID); len(a) != 1 {
		t.Errorf("the other webhook's attempts = %d, want 1", len(a))
	}
	if _, err := f.s.Event(f.ctx, pub.Events[0].ID); err != nil {
		t.Errorf("an event of the deleted webhook's deliveries: %v", err)
	}
	checkErr(t, "DeleteWebhook twice", f.s.DeleteWebhook(f.ctx, s.hook.ID), store.ErrNotFound)
}

func testCountDisabledWebhooks(t *testing.T, f *fixture) {
	s := f.scene()
	count := func(want int) {
		t.Helper()
		if n, err := f.s.CountDisabledWebhooks(f.ctx); err != nil || n != want {
			t.Errorf("CountDisabledWebhooks = %d, %v; want %d", n, err, want)
		}
	}
	count(0)
	a, b := f.webhook(s.owner.ID, "a"), f.webhook(s.owner.ID, "b")
	_, err := f.s.DisableWebhook(f.ctx, a.ID, store.StatusHealthy, "x")
	f.must(err, "DisableWebhook")
	_, err = f.s.DisableWebhook(f.ctx, b.ID, store.StatusUnhealthy, "y")
	f.must(err, "DisableWebhook")
	count(2)
	_, err = f.s.EnableWebhook(f.ctx, a.ID)
	f.must(err, "EnableWebhook")
	count(1)
}

// Changes tells caches (who receives what) that they are stale: every write that can change
// the answer makes it grow.
func testChanges(t *testing.T, f *fixture) {
	s := f.scene()
	m := f.user("member@example.com", "Member", store.RoleMember)
	doomed := f.org("Doomed")
	f.member(s.org.ID, m.ID)
	_, ds := f.publish(s.project, "TODO_CREATED", s.hook)
	roleAdmin := store.RoleAdmin
	user, hook := store.Change{Kind: store.ChangedUser, ID: m.ID}, store.Change{Kind: store.ChangedWebhook, ID: s.hook.ID}
	for _, tc := range []struct {
		name string
		do   func() error
		want []store.Change // nil: anything may have changed
	}{
		{"AddMember", func() error { return f.s.AddMember(f.ctx, doomed.ID, m.ID) }, []store.Change{user}},
		{"RemoveMember", func() error { return f.s.RemoveMember(f.ctx, doomed.ID, m.ID) }, []store.Change{user}},
		{"UpdateUser role", func() error { _, err := f.s.UpdateUser(f.ctx, m.ID, store.UserChanges{Role: &roleAdmin}); return err }, []store.Change{user}},
		{"DeleteOrganization", func() error { return f.s.DeleteOrganization(f.ctx, doomed.ID) }, nil},
		{"RecordAttempts switching a webhook off", func() error {
			o := f.outcome(ds[0], 1, 410, store.DeliveryFailed)
			o.DisableReason = "410 Gone"
			_, err := f.s.RecordAttempts(f.ctx, []store.AttemptOutcome{o})
			return err
		}, []store.Change{hook}},
		{"EnableWebhook", func() error { _, err := f.s.EnableWebhook(f.ctx, s.hook.ID); return err }, []store.Change{hook}},
		{"DeleteUser", func() error { return f.s.DeleteUser(f.ctx, m.ID) }, []store.Change{user}},
		{"CreateEventType", func() error {
			_, err := f.s.CreateEventType(f.ctx, store.EventType{Name: "INVOICE_PAID", Label: "Invoice paid"})
			return err
		}, nil},
	} {
		before := f.s.Changes()
		f.must(tc.do(), tc.name)
		if f.s.Changes() <= before {
			t.Errorf("%s left Changes at %d", tc.name, before)
		}
		changes, now, complete := f.s.ChangesSince(before)
		if now != f.s.Changes() || complete != (tc.want != nil) || (tc.want != nil && !reflect.DeepEqual(changes, tc.want)) {
			t.Errorf("%s: ChangesSince = %+v, %d, complete %v; want %+v, %d, complete %v",
				tc.name, changes, now, complete, tc.want, f.s.Changes(), tc.want != nil)
		}
	}
	// Nothing since now; a version from the future or too far back asks for a reload.
	v := f.s.Changes()
	if changes, now, complete := f.s.ChangesSince(v); len(changes) != 0 || now != v || !complete {
		t.Errorf("ChangesSince(now) = %+v, %d, %v; want nothing, complete", changes, now, complete)
	}
	if _, _, complete := f.s.ChangesSince(v + 1); complete {
		t.Error("ChangesSince a version not reached yet is complete")
	}
	for i := range 1100 { // more than are kept
		f.must(f.s.AddMember(f.ctx, s.org.ID, s.owner.ID), fmt.Sprint("AddMember ", i))
	}
	if _, now, complete := f.s.ChangesSince(v); complete || now != v+1100 {
		t.Errorf("ChangesSince 1100 changes back = %d, complete %v; want %d, incomplete", now, complete, v+1100)
	}
}
