package storetest

import (
	"fmt"
	"sync"
	"testing"

	"hookyard/store"
)

var concurrencyCases = []testCase{
	{"WritersAndReadersAtOnce", testConcurrentWritesAndReads},
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
