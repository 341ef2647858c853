package delivery_test

import (
	"encoding/json"
	"slices"
	"sort"
	"testing"
	"time"

	"hookyard/delivery"
	"hookyard/store"
)

// matchWorld is two organisations, three projects, an admin's and a member's webhooks, all
// calling one receiver on a path per webhook.
type matchWorld struct {
	*world
	rcv          *hookServer
	orgB         store.Organization
	a1, a2, b1   store.Project
	member       store.User
	hooks        map[string]store.Webhook // by name
	e            *runningEngine
	deliveredSum int
}

func newMatchWorld(t *testing.T) *matchWorld {
	w := &matchWorld{world: newWorld(t), hooks: map[string]store.Webhook{}}
	w.rcv = newHookServer(t, nil)
	w.orgB = w.organization("Globex")
	w.a1, w.a2 = w.prj, w.project(w.org.ID, "Support")
	w.b1 = w.project(w.orgB.ID, "Shop")
	w.member = w.user("member@example.com", store.RoleMember, w.org.ID)
	add := func(name string, owner store.User, events []string, projects []string) {
		w.hooks[name] = w.hook(name, w.rcv.URL+"/"+name, func(h *store.Webhook) {
			h.OwnerID, h.Events, h.ProjectIDs = owner.ID, events, projects
		})
	}
	add("all", w.admin, nil, nil)
	add("created-moved", w.admin, []string{"TODO_CREATED", "TODO_MOVED"}, nil)
	add("a2-b1", w.admin, nil, []string{w.a2.ID, w.b1.ID})
	add("deleted-in-b1", w.admin, []string{"TODO_DELETED"}, []string{w.b1.ID})
	add("member-all", w.member, nil, nil)
	// Selected when the member could see both; B1 is not theirs now.
	add("member-a1-b1", w.member, nil, []string{w.a1.ID, w.b1.ID})
	add("off", w.admin, nil, nil)
	if _, err := w.st.DisableWebhook(w.ctx, w.hooks["off"].ID, store.StatusHealthy, "Switched off by a person."); err != nil {
		t.Fatal(err)
	}
	w.e = w.start(engineOpts{})
	return w
}

// publishExpect publishes one event and checks exactly which webhooks get a delivery and a
// request, and which keep it as missed.
func (w *matchWorld) publishExpect(typ string, p store.Project, receivers []string, missed []string) {
	t := w.t
	t.Helper()
	pub := w.publish(w.e, delivery.EventInput{Type: typ, OrganizationID: p.OrganizationID, ProjectID: p.ID,
		CurrentValue: json.RawMessage(`{"n":1}`)})[0]
	if pub.Deliveries != len(receivers) {
		t.Errorf("%s in %s: Deliveries = %d, want %d (%v)", typ, p.Name, pub.Deliveries, len(receivers), receivers)
	}
	var got []string
	for _, d := range w.deliveriesOf(pub.ID) {
		for name, h := range w.hooks {
			if h.ID == d.WebhookID {
				got = append(got, name)
			}
		}
	}
	sort.Strings(got)
	want := slices.Sorted(slices.Values(receivers))
	if !slices.Equal(got, want) {
		t.Errorf("%s in %s: deliveries to %v, want %v", typ, p.Name, got, want)
	}
	w.deliveredSum += len(receivers)
	waitUntil(t, "the expected requests", func() bool { return w.rcv.count() >= w.deliveredSum })
	var paths []string
	for _, h := range w.rcv.requests() {
		if h.eventID() == pub.ID {
			paths = append(paths, h.path[1:])
		}
	}
	sort.Strings(paths)
	if !slices.Equal(paths, want) {
		t.Errorf("%s in %s: requests to %v, want %v", typ, p.Name, paths, want)
	}
	m, err := w.st.MissedBy(w.ctx, pub.ID)
	if err != nil {
		t.Fatal(err)
	}
	var gotMissed []string
	for name, h := range w.hooks {
		if m[h.ID] {
			gotMissed = append(gotMissed, name)
		}
	}
	sort.Strings(gotMissed)
	if !slices.Equal(gotMissed, slices.Sorted(slices.Values(missed))) {
		t.Errorf("%s in %s: missed by %v, want %v", typ, p.Name, gotMissed, missed)
	}
}

// Only webhooks whose events, projects and owner's access all match get a request (SPEC §1
// "Who receives an event").
func TestEnginePublishReachesOnlyMatchingWebhooks(t *testing.T) {
	w := newMatchWorld(t)
	w.publishExpect("TODO_CREATED", w.a1, []string{"all", "created-moved", "member-all", "member-a1-b1"}, []string{"off"})
	w.publishExpect("TODO_MOVED", w.a2, []string{"all", "created-moved", "a2-b1", "member-all"}, []string{"off"})
	w.publishExpect("TODO_DELETED", w.b1, []string{"all", "a2-b1", "deleted-in-b1"}, []string{"off"})
	w.publishExpect("TODO_NAME_CHANGED", w.b1, []string{"all", "a2-b1"}, []string{"off"})
	w.publishExpect("TODO_DELETED", w.a1, []string{"all", "member-all", "member-a1-b1"}, []string{"off"})
	w.publishExpect("COMMENT_CREATED", w.a2, []string{"all", "a2-b1", "member-all"}, []string{"off"})

	// A batch publish reports each event's count.
	pubs := w.publish(w.e,
		delivery.EventInput{Type: "TODO_MOVED", OrganizationID: w.org.ID, ProjectID: w.a1.ID},
		delivery.EventInput{Type: "TAG_CREATED", OrganizationID: w.orgB.ID, ProjectID: w.b1.ID})
	if pubs[0].Deliveries != 4 || pubs[1].Deliveries != 2 {
		t.Errorf("batch Deliveries = %d, %d; want 4, 2", pubs[0].Deliveries, pubs[1].Deliveries)
	}
	w.deliveredSum += 6
	waitUntil(t, "the batch's requests", func() bool { return w.rcv.count() >= w.deliveredSum })
	w.e.stop(time.Second)
	if n := w.rcv.count(); n != w.deliveredSum {
		t.Errorf("receiver got %d requests in all, want %d", n, w.deliveredSum)
	}
}

// Membership, role and webhook changes reach the engine's cached view without a restart: a
// member removed from an organisation stops receiving its events at once (SPEC §1).
func TestEngineFollowsAccessAndWebhookChanges(t *testing.T) {
	w := newMatchWorld(t)
	w.publishExpect("TODO_CREATED", w.a1, []string{"all", "created-moved", "member-all", "member-a1-b1"}, []string{"off"})

	if err := w.st.RemoveMember(w.ctx, w.org.ID, w.member.ID); err != nil {
		t.Fatal(err)
	}
	w.publishExpect("TODO_CREATED", w.a1, []string{"all", "created-moved"}, []string{"off"})
	w.publishExpect("TODO_MOVED", w.a2, []string{"all", "created-moved", "a2-b1"}, []string{"off"})

	if err := w.st.AddMember(w.ctx, w.orgB.ID, w.member.ID); err != nil {
		t.Fatal(err)
	}
	w.publishExpect("TODO_DELETED", w.b1, []string{"all", "a2-b1", "deleted-in-b1", "member-all", "member-a1-b1"}, []string{"off"})
	w.publishExpect("TODO_CREATED", w.a1, []string{"all", "created-moved"}, []string{"off"})

	if err := w.st.RemoveMember(w.ctx, w.orgB.ID, w.member.ID); err != nil {
		t.Fatal(err)
	}
	admin := store.RoleAdmin
	if _, err := w.st.UpdateUser(w.ctx, w.member.ID, store.UserChanges{Role: &admin}); err != nil {
		t.Fatal(err)
	}
	w.publishExpect("TAG_CREATED", w.b1, []string{"all", "a2-b1", "member-all", "member-a1-b1"}, []string{"off"})
	member := store.RoleMember
	if _, err := w.st.UpdateUser(w.ctx, w.member.ID, store.UserChanges{Role: &member}); err != nil {
		t.Fatal(err)
	}
	w.publishExpect("TAG_CREATED", w.b1, []string{"all", "a2-b1"}, []string{"off"})

	// Webhook edits, re-enabling, deleting and creating.
	deleted := []string{"TODO_DELETED"}
	if _, err := w.st.UpdateWebhook(w.ctx, w.hooks["created-moved"].ID, store.WebhookChanges{Events: &deleted}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.st.EnableWebhook(w.ctx, w.hooks["off"].ID); err != nil {
		t.Fatal(err)
	}
	if err := w.st.DeleteWebhook(w.ctx, w.hooks["a2-b1"].ID); err != nil {
		t.Fatal(err)
	}
	delete(w.hooks, "a2-b1")
	w.hooks["new"] = w.hook("new", w.rcv.URL+"/new", func(h *store.Webhook) { h.ProjectIDs = []string{w.a2.ID} })
	w.publishExpect("TODO_DELETED", w.a2, []string{"all", "created-moved", "off", "new"}, nil)
	w.publishExpect("TODO_CREATED", w.a2, []string{"all", "off", "new"}, nil)
}
