package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"hookyard/store"
)

// concurrencyCases run calls side by side. Under SQLite one write transaction runs at a time;
// PostgreSQL runs them truly at once, so a check followed by a write must serialise itself.
var concurrencyCases = []testCase{
	{"WritersAndReadersAtOnce", testConcurrentWritesAndReads},
	{"LastAdminIsKeptUnderConcurrentRemovals", testConcurrentLastAdmin},
	{"FirstAdminOnce", testConcurrentFirstAdmin},
	{"WebhookQuotaUnderConcurrency", testConcurrentWebhookQuota},
	{"BinQuotaUnderConcurrency", testConcurrentBinQuota},
	{"SameIdempotencyKeyAtOnce", testConcurrentIdempotencyKey},
	{"SessionKeysAtOnce", testConcurrentSessionKeys},
	{"HourlyFiguresOfResultsRecordedAtOnce", testConcurrentHourlyFigures},
}

// together runs n calls at once (released together, to overlap as much as they can) and
// returns their errors in call order.
func together(n int, call func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = call(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// warm makes the store open n connections at once and keep them, so that calls released
// together start together instead of one by one while connections are being made (which
// would hide a race). SQLite writes through its one connection whatever happens.
func (f *fixture) warm(n int) {
	f.t.Helper()
	if f.s.Engine() == "sqlite" {
		return
	}
	var started sync.WaitGroup
	started.Add(n)
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()
	errs := together(n, func(int) error {
		return f.s.WithTx(f.ctx, func(*store.Tx) error {
			started.Done()
			select {
			case <-all:
			case <-time.After(5 * time.Second): // the pool is smaller than n: go on anyway
			}
			return nil
		})
	})
	tally(f.t, "warming the pool", errs, nil)
}

// tally counts errors: nil as "ok", want as "want", anything else is reported.
func tally(t *testing.T, what string, errs []error, want error) (ok, refused int) {
	t.Helper()
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, want):
			refused++
		default:
			t.Errorf("%s: %v", what, err)
		}
	}
	return ok, refused
}

// Two admins removing or demoting each other at once: one of them stays an admin.
func testConcurrentLastAdmin(t *testing.T, f *fixture) {
	member := store.RoleMember
	survivor := f.user("first@example.com", "First", store.RoleAdmin)
	for round := range 10 {
		pair := []store.User{survivor, f.user(fmt.Sprintf("admin%d@example.com", round), "Next", store.RoleAdmin)}
		f.warm(2)
		errs := together(2, func(i int) error {
			if round%2 == 0 {
				return f.s.DeleteUser(f.ctx, pair[i].ID)
			}
			_, err := f.s.UpdateUser(f.ctx, pair[i].ID, store.UserChanges{Role: &member})
			return err
		})
		ok, refused := tally(t, "removing an admin", errs, store.ErrLastAdmin)
		users, _, err := f.s.ListUsers(f.ctx, store.Page{})
		f.must(err, "ListUsers")
		var admins []store.User
		for _, u := range users {
			if u.IsAdmin() {
				admins = append(admins, u)
			}
		}
		if ok != 1 || refused != 1 || len(admins) != 1 {
			t.Fatalf("round %d: %d removals went through, %d refused, %d admins left; want 1, 1 and 1", round, ok, refused, len(admins))
		}
		survivor = admins[0]
	}
}

func testConcurrentFirstAdmin(t *testing.T, f *fixture) {
	f.warm(6)
	errs := together(6, func(i int) error {
		u := store.User{Email: fmt.Sprintf("admin%d@example.com", i), Name: "Admin", PasswordHash: "x"}
		return f.s.CreateFirstAdmin(f.ctx, &u)
	})
	ok, refused := tally(t, "CreateFirstAdmin", errs, store.ErrSetupDone)
	n, err := f.s.CountUsers(f.ctx)
	f.must(err, "CountUsers")
	if ok != 1 || refused != 5 || n != 1 {
		t.Errorf("%d first admins made, %d refused, %d users; want 1, 5 and 1", ok, refused, n)
	}
}

func testConcurrentWebhookQuota(t *testing.T, f *fixture) {
	const max, tries = 3, 8
	ada, bob := f.user("ada@example.com", "Ada", store.RoleMember), f.user("bob@example.com", "Bob", store.RoleMember)
	f.webhook(bob.ID, "bobs") // another owner's webhooks do not count
	f.warm(tries)
	errs := together(tries, func(i int) error {
		w := store.Webhook{OwnerID: ada.ID, Name: fmt.Sprint("hook-", i), URL: "http://127.0.0.1:9/x", Secret: "whsec_x"}
		return f.s.CreateWebhookWithin(f.ctx, &w, max)
	})
	ok, refused := tally(t, "CreateWebhookWithin", errs, store.ErrQuotaReached)
	n, err := f.s.CountWebhooks(f.ctx, store.WebhookFilter{OwnerID: ada.ID})
	f.must(err, "CountWebhooks")
	if ok != max || refused != tries-max || n != max {
		t.Errorf("%d webhooks made, %d refused, %d stored; want %d, %d and %d", ok, refused, n, max, tries-max, max)
	}
}

func testConcurrentBinQuota(t *testing.T, f *fixture) {
	const max, tries = 2, 7
	ada := f.user("ada@example.com", "Ada", store.RoleMember)
	f.warm(tries)
	errs := together(tries, func(int) error { _, err := f.s.CreateBin(f.ctx, ada.ID, max); return err })
	ok, refused := tally(t, "CreateBin", errs, store.ErrQuotaReached)
	bins, err := f.s.ListBins(f.ctx, ada.ID)
	f.must(err, "ListBins")
	if ok != max || refused != tries-max || len(bins) != max {
		t.Errorf("%d bins made, %d refused, %d stored; want %d, %d and %d", ok, refused, len(bins), max, tries-max, max)
	}
}

// Publishes with the same idempotency key at once: one is stored, the others are told the
// key is taken and read its answer.
func testConcurrentIdempotencyKey(t *testing.T, f *fixture) {
	s := f.scene()
	var mu sync.Mutex
	pubs := make([]store.Publication, 6)
	for i := range pubs {
		ev := f.newEvent(s.project, "TODO_CREATED")
		pubs[i] = store.Publication{Events: []store.Event{ev}, Deliveries: []store.Delivery{f.newDelivery(ev, s.hook.ID)},
			IdempotencyUserID: s.owner.ID, IdempotencyKey: "same", RequestHash: "h", Response: []byte(fmt.Sprint(i))}
	}
	f.warm(len(pubs))
	errs := together(len(pubs), func(i int) error {
		mu.Lock()
		pub := pubs[i]
		mu.Unlock()
		return f.s.Publish(f.ctx, pub)
	})
	ok, refused := tally(t, "Publish", errs, store.ErrConflict)
	events, _, _ := f.s.ListEvents(f.ctx, store.EventFilter{}, store.Page{})
	if ok != 1 || refused != len(pubs)-1 || len(events) != 1 {
		t.Fatalf("%d publishes stored, %d refused, %d events; want 1, %d and 1", ok, refused, len(events), len(pubs)-1)
	}
	winner := 0
	for i, err := range errs {
		if err == nil {
			winner = i
		}
	}
	resp, err := f.s.IdempotentResponse(f.ctx, s.owner.ID, "same", "h", f.clock.Now().Add(-time.Hour))
	f.must(err, "IdempotentResponse")
	check(t, "the answer kept", string(resp), fmt.Sprint(winner))
	check(t, "the stored event", events[0].ID, pubs[winner].Events[0].ID)
}

// Nodes starting at once on a new database all get the one session key.
func testConcurrentSessionKeys(t *testing.T, f *fixture) {
	keys := make([][]byte, 6)
	f.warm(len(keys))
	errs := together(len(keys), func(i int) error {
		hash, block, err := f.s.SessionKeys(f.ctx)
		keys[i] = append(hash, block...)
		return err
	})
	tally(t, "SessionKeys", errs, nil)
	for i, k := range keys {
		if len(k) != 64 || !bytes.Equal(k, keys[0]) {
			t.Errorf("call %d got the key %x, call 0 %x; want one key of 64 bytes", i, k, keys[0])
		}
	}
}

// Results of one webhook recorded in batches at once add up in its hourly figures: every
// attempt is counted and its latency kept.
func testConcurrentHourlyFigures(t *testing.T, f *fixture) {
	s := f.scene()
	const batches, perBatch = 6, 5
	outs := make([][]store.AttemptOutcome, batches)
	for b := range outs {
		for range perBatch {
			_, ds := f.publish(s.project, "TODO_CREATED", s.hook)
			outs[b] = append(outs[b], f.outcome(ds[0], 1, 200, store.DeliverySucceeded))
		}
	}
	f.warm(batches)
	errs := together(batches, func(i int) error { _, err := f.s.RecordAttempts(f.ctx, outs[i]); return err })
	tally(t, "RecordAttempts", errs, nil)
	hours := f.hours(s.hook.ID)
	if len(hours) != 1 {
		t.Fatalf("hourly figures = %+v, want one hour", hours)
	}
	var latencies int64
	for _, n := range hours[0].Latency {
		latencies += n
	}
	if h := hours[0]; h.Attempts != batches*perBatch || h.Succeeded != batches*perBatch || int(latencies) != batches*perBatch {
		t.Errorf("hourly figures: %d attempts, %d succeeded, %d latencies; want %d of each", h.Attempts, h.Succeeded, latencies, batches*perBatch)
	}
}

func testConcurrentWritesAndReads(t *testing.T, f *fixture) {
	const writers, perWriter = 8, 25
	errs := make(chan error, writers*(perWriter+2)+writers*100)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			u := store.User{Email: fmt.Sprintf("writer%d@example.com", w), Name: "W", Role: store.RoleMember, PasswordHash: "x"}
			if err := f.s.CreateUser(f.ctx, &u); err != nil { // a write transaction
				errs <- fmt.Errorf("writer %d CreateUser: %w", w, err)
				return
			}
			for i := range perWriter {
				o, err := f.s.CreateOrganization(f.ctx, fmt.Sprintf("org %d-%d", w, i))
				if err != nil {
					errs <- fmt.Errorf("writer %d CreateOrganization %d: %w", w, i, err)
					continue
				}
				if err := f.s.AddMember(f.ctx, o.ID, u.ID); err != nil { // read-then-write transaction
					errs <- fmt.Errorf("writer %d AddMember %d: %w", w, i, err)
				}
			}
		})
		wg.Go(func() { // a reader beside each writer
			for range 20 {
				if _, _, err := f.s.ListOrganizations(f.ctx, "", store.Page{Limit: 500}); err != nil {
					errs <- fmt.Errorf("reader %d: %w", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	orgs, next, err := f.s.ListOrganizations(f.ctx, "", store.Page{Limit: 500})
	f.must(err, "ListOrganizations")
	if len(orgs) != writers*perWriter || next != "" {
		t.Errorf("%d organisations (next %q), want %d", len(orgs), next, writers*perWriter)
	}
	seen := map[string]bool{}
	for _, o := range orgs {
		if seen[o.Name] {
			t.Errorf("organisation %q listed twice", o.Name)
		}
		seen[o.Name] = true
	}
	byUser, _ := f.s.MemberOrganizations(f.ctx)
	n := 0
	for _, orgs := range byUser {
		n += len(orgs)
	}
	if len(byUser) != writers || n != writers*perWriter {
		t.Errorf("%d members with %d memberships, want %d with %d", len(byUser), n, writers, writers*perWriter)
	}
}
