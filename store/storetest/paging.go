package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"hookyard/store"
)

// listCase is one paged list of the store: how to fill it and how to read a page.
type listCase struct {
	name        string
	newestFirst bool
	// fill makes n rows the list shows, between others it must not show, and returns the ids
	// of the shown ones in creation order.
	fill func(f *fixture, n int) []string
	list func(f *fixture, p store.Page) ([]string, string, error)
	// remove deletes one row (nil: the list's rows are not deleted one by one).
	remove func(f *fixture, id string) error
	// filtered lists are not filled with hundreds of rows for the limit checks.
	filtered bool
}

var pagingCases = pagingTests()

func pagingTests() []testCase {
	var out []testCase
	for _, lc := range listCases {
		out = append(out, testCase{"Walk/" + lc.name, func(t *testing.T, f *fixture) { testWalkPages(t, f, lc) }})
		out = append(out, testCase{"CursorNotIssued/" + lc.name, func(t *testing.T, f *fixture) { testCursorNotIssued(t, f, lc) }})
		if lc.remove != nil {
			out = append(out, testCase{"CursorOfADeletedRow/" + lc.name, func(t *testing.T, f *fixture) { testCursorOfDeletedRow(t, f, lc) }})
		}
		if !lc.filtered {
			out = append(out, testCase{"LimitDefaultAndCap/" + lc.name, func(t *testing.T, f *fixture) { testLimitDefaultAndCap(t, f, lc) }})
		}
	}
	return out
}

var listCases = []listCase{
	{
		name: "Users",
		fill: func(f *fixture, n int) []string {
			var out []string
			for i := range n {
				out = append(out, f.user(fmt.Sprintf("u%03d@example.com", i), fmt.Sprintf("User %03d", n-i), store.RoleMember).ID)
			}
			return out
		},
		list: func(f *fixture, p store.Page) ([]string, string, error) {
			us, next, err := f.s.ListUsers(f.ctx, p)
			return ids(us, userID), next, err
		},
		remove: func(f *fixture, id string) error { return f.s.DeleteUser(f.ctx, id) },
	},
	{
		name: "Tokens", newestFirst: true,
		fill: func(f *fixture, n int) []string {
			a, b := f.user("a@example.com", "A", store.RoleMember), f.user("b@example.com", "B", store.RoleMember)
			var out []string
			for i := range n {
				tok, _, err := f.s.CreateToken(f.ctx, []string{a.ID, b.ID}[i%2], fmt.Sprint("token ", i))
				f.must(err, "CreateToken")
				out = append(out, tok.ID)
			}
			return out
		},
		list: func(f *fixture, p store.Page) ([]string, string, error) {
			ts, next, err := f.s.ListTokens(f.ctx, "", p)
			return ids(ts, tokenID), next, err
		},
		remove: func(f *fixture, id string) error { return f.s.DeleteToken(f.ctx, id) },
	},
	{
		name: "TokensOfAUser", newestFirst: true, filtered: true,
		fill: func(f *fixture, n int) []string {
			u, other := f.user("member@example.com", "Member", store.RoleMember), f.user("b@example.com", "B", store.RoleMember)
			var out []string
			for i := range n {
				_, _, err := f.s.CreateToken(f.ctx, other.ID, fmt.Sprint("theirs ", i))
				f.must(err, "CreateToken")
				tok, _, err := f.s.CreateToken(f.ctx, u.ID, fmt.Sprint("mine ", i))
				f.must(err, "CreateToken")
				out = append(out, tok.ID)
			}
			return out
		},
		list: func(f *fixture, p store.Page) ([]string, string, error) {
			u, err := f.memberOfList()
			if err != nil {
				return nil, "", err
			}
			ts, next, err := f.s.ListTokens(f.ctx, u.ID, p)
			return ids(ts, tokenID), next, err
		},
	},
	{
		name: "Organizations",
		fill: func(f *fixture, n int) []string {
			var out []string
			for i := range n {
				out = append(out, f.org(fmt.Sprintf("Org %03d", n-i)).ID)
			}
			return out
		},
		list: func(f *fixture, p store.Page) ([]string, string, error) {
			os, next, err := f.s.ListOrganizations(f.ctx, "", p)
			return ids(os, orgID), next, err
		},
		remove: func(f *fixture, id string) error { return f.s.DeleteOrganization(f.ctx, id) },
	},
	{
		name: "OrganizationsOfAMember", filtered: true,
		fill: func(f *fixture, n int) []string {
			u := f.user("member@example.com", "Member", store.RoleMember)
			var out []string
			for i := range n {
				f.org(fmt.Sprintf("Not mine %d", i))
				o := f.org(fmt.Sprintf("Mine %d", i))
				f.member(o.ID, u.ID)
				out = append(out, o.ID)
			}
			return out
		},
		list: func(f *fixture, p store.Page) ([]string, string, error) {
			u, err := f.memberOfList()
			if err != nil {
				return nil, "", err
			}
			os, next, err := f.s.ListOrganizations(f.ctx, u.ID, p)
			return ids(os, orgID), next, err
		},
	},
	{
		name: "Projects",
		fill: func(f *fixture, n int) []string {
			o := f.org("Acme")
			var out []string
			for i := range n {
				out = append(out, f.project(o.ID, fmt.Sprintf("Project %03d", n-i)).ID)
			}
			return out
		},
		list: func(f *fixture, p store.Page) ([]string, string, error) {
			ps, next, err := f.s.ListProjects(f.ctx, store.ProjectFilter{}, p)
			return ids(ps, projectID), next, err
		},
		remove: func(f *fixture, id string) error { return f.s.DeleteProject(f.ctx, id) },
	},
	{
		name: "ProjectsOfAMember", filtered: true,
		fill: func(f *fixture, n int) []string {
			u := f.user("member@example.com", "Member", store.RoleMember)
			mine, theirs := f.org("Mine"), f.org("Theirs")
			f.member(mine.ID, u.ID)
			var out []string
			for i := range n {
				f.project(theirs.ID, fmt.Sprint(i))
				out = append(out, f.project(mine.ID, fmt.Sprint(i)).ID)
			}
			return out
		},
		list: func(f *fixture, p store.Page) ([]string, string, error) {
			u, err := f.memberOfList()
			if err != nil {
				return nil, "", err
			}
			ps, next, err := f.s.ListProjects(f.ctx, store.ProjectFilter{MemberID: u.ID}, p)
			return ids(ps, projectID), next, err
		},
	},
	{
		name: "Webhooks",
		fill: func(f *fixture, n int) []string {
			u := f.user("owner@example.com", "Owner", store.RoleAdmin)
			var out []string
			for i := range n {
				out = append(out, f.webhook(u.ID, fmt.Sprintf("hook-%03d", n-i)).ID)
			}
			return out
		},
		list: func(f *fixture, p store.Page) ([]string, string, error) {
			ws, next, err := f.s.ListWebhooks(f.ctx, store.WebhookFilter{}, p)
			return ids(ws, webhookID), next, err
		},
		remove: func(f *fixture, id string) error { return f.s.DeleteWebhook(f.ctx, id) },
	},
	{
		name: "WebhooksSwitchedOff", filtered: true,
		fill: func(f *fixture, n int) []string {
			u := f.user("owner@example.com", "Owner", store.RoleAdmin)
			var out []string
			for i := range n {
				f.webhook(u.ID, fmt.Sprint("on-", i))
				w := f.webhook(u.ID, fmt.Sprint("off-", i))
				_, err := f.s.DisableWebhook(f.ctx, w.ID, store.StatusHealthy, "x")
				f.must(err, "DisableWebhook")
				out = append(out, w.ID)
			}
			return out
		},
		list: func(f *fixture, p store.Page) ([]string, string, error) {
			ws, next, err := f.s.ListWebhooks(f.ctx, store.WebhookFilter{State: "disabled"}, p)
			return ids(ws, webhookID), next, err
		},
	},
	{
		name: "WebhooksOfAnOwner", filtered: true,
		fill: func(f *fixture, n int) []string {
			u, other := f.user("member@example.com", "Member", store.RoleMember), f.user("b@example.com", "B", store.RoleMember)
			var out []string
			for i := range n {
				f.webhook(other.ID, fmt.Sprint("theirs-", i))
				out = append(out, f.webhook(u.ID, fmt.Sprint("mine-", i)).ID)
			}
			return out
		},
		list: func(f *fixture, p store.Page) ([]string, string, error) {
			u, err := f.memberOfList()
			if err != nil {
				return nil, "", err
			}
			ws, next, err := f.s.ListWebhooks(f.ctx, store.WebhookFilter{OwnerID: u.ID}, p)
			return ids(ws, webhookID), next, err
		},
	},
	{
		name: "WebhooksFailing", filtered: true,
		fill: func(f *fixture, n int) []string {
			s := f.scene()
			var out []string
			for i := range n {
				f.webhook(s.owner.ID, fmt.Sprint("working-", i))
				w := f.webhook(s.owner.ID, fmt.Sprint("failing-", i))
				_, ds := f.publish(s.project, "TODO_CREATED", w)
				f.record(f.outcome(ds[0], 1, 500, store.DeliveryPending))
				out = append(out, w.ID)
			}
			return out
		},
		list: func(f *fixture, p store.Page) ([]string, string, error) {
			ws, next, err := f.s.ListWebhooks(f.ctx, store.WebhookFilter{State: "failing"}, p)
			return ids(ws, webhookID), next, err
		},
	},
	{
		name: "Events", newestFirst: true,
		fill: func(f *fixture, n int) []string {
			p := f.project(f.org("Acme").ID, "Website")
			pub := store.Publication{}
			for range n {
				pub.Events = append(pub.Events, f.newEvent(p, "TODO_CREATED"))
			}
			f.must(f.s.Publish(f.ctx, pub), "Publish")
			return ids(pub.Events, eventID)
		},
		list: func(f *fixture, p store.Page) ([]string, string, error) {
			es, next, err := f.s.ListEvents(f.ctx, store.EventFilter{}, p)
			return ids(es, eventID), next, err
		},
	},
	{
		name: "EventsOfAType", newestFirst: true, filtered: true,
		fill: func(f *fixture, n int) []string {
			p := f.project(f.org("Acme").ID, "Website")
			var out []string
			for range n {
				f.publish(p, "TODO_DELETED")
				ev, _ := f.publish(p, "TODO_MOVED")
				out = append(out, ev.ID)
			}
			return out
		},
		list: func(f *fixture, p store.Page) ([]string, string, error) {
			es, next, err := f.s.ListEvents(f.ctx, store.EventFilter{Type: "TODO_MOVED"}, p)
			return ids(es, eventID), next, err
		},
	},
	{
		name: "Deliveries", newestFirst: true,
		fill: func(f *fixture, n int) []string {
			s := f.scene()
			pub := store.Publication{}
			for range n {
				ev := f.newEvent(s.project, "TODO_CREATED")
				pub.Events = append(pub.Events, ev)
				pub.Deliveries = append(pub.Deliveries, f.newDelivery(ev, s.hook.ID))
			}
			f.must(f.s.Publish(f.ctx, pub), "Publish")
			return ids(pub.Deliveries, deliveryID)
		},
		list: func(f *fixture, p store.Page) ([]string, string, error) {
			ds, next, err := f.s.ListDeliveries(f.ctx, store.DeliveryFilter{}, p)
			return ids(ds, deliveryID), next, err
		},
	},
	{
		name: "DeliveriesOfAWebhook", newestFirst: true, filtered: true,
		fill: func(f *fixture, n int) []string {
			s := f.scene()
			other := f.webhook(s.owner.ID, "other")
			var out []string
			for range n {
				_, ds := f.publish(s.project, "TODO_CREATED", other, s.hook, other)
				out = append(out, ds[1].ID)
			}
			return out
		},
		list: func(f *fixture, p store.Page) ([]string, string, error) {
			hooks, _, err := f.s.ListWebhooks(f.ctx, store.WebhookFilter{}, store.Page{})
			if err != nil {
				return nil, "", err
			}
			main := "wh_none" // before fill
			for _, w := range hooks {
				if w.Name == "main" {
					main = w.ID
				}
			}
			ds, next, err := f.s.ListDeliveries(f.ctx, store.DeliveryFilter{WebhookID: main}, p)
			return ids(ds, deliveryID), next, err
		},
	},
}

// memberOfList is the user the member lists are filtered by (one that does not exist before
// fill made it).
func (f *fixture) memberOfList() (store.User, error) {
	u, err := f.s.UserByEmail(f.ctx, "member@example.com")
	if errors.Is(err, store.ErrNotFound) {
		return store.User{ID: "usr_none"}, nil
	}
	return u, err
}

// order is the order the list shows made rows in.
func (lc listCase) order(made []string) []string {
	if lc.newestFirst {
		return reversed(made)
	}
	return made
}

// walkPages follows next cursors from the first page to the last and returns the ids of
// each page. It fails the test if a cursor is not the last id of its page.
func walkPages(t *testing.T, limit int, list func(store.Page) ([]string, string, error)) [][]string {
	t.Helper()
	var pages [][]string
	cursor := ""
	for {
		rows, next, err := list(store.Page{Limit: limit, Cursor: cursor})
		if err != nil {
			t.Fatalf("list page after %q: %v", cursor, err)
		}
		pages = append(pages, rows)
		if next == "" {
			return pages
		}
		if len(rows) == 0 || next != rows[len(rows)-1] {
			t.Fatalf("page %d: next cursor %q is not the last id of the page %v", len(pages), next, rows)
		}
		if len(pages) > 1000 {
			t.Fatal("cursors never reach an end")
		}
		cursor = next
	}
}

func pageSizes(pages [][]string) []int {
	out := []int{}
	for _, p := range pages {
		out = append(out, len(p))
	}
	return out
}

func flatten(pages [][]string) []string {
	out := []string{}
	for _, p := range pages {
		out = append(out, p...)
	}
	return out
}

func testWalkPages(t *testing.T, f *fixture, lc listCase) {
	list := func(p store.Page) ([]string, string, error) { return lc.list(f, p) }
	check(t, "the empty list", pageSizes(walkPages(t, 3, list)), []int{0})
	want := lc.order(lc.fill(f, 7))
	for _, tc := range []struct {
		limit int
		sizes []int
	}{
		{1, []int{1, 1, 1, 1, 1, 1, 1}},
		{2, []int{2, 2, 2, 1}},
		{3, []int{3, 3, 1}},
		{7, []int{7}}, // a full last page has no cursor to an empty one
		{8, []int{7}},
	} {
		pages := walkPages(t, tc.limit, list)
		check(t, fmt.Sprintf("page sizes with limit %d", tc.limit), pageSizes(pages), tc.sizes)
		check(t, fmt.Sprintf("rows walked with limit %d", tc.limit), flatten(pages), want)
	}
}

func testCursorOfDeletedRow(t *testing.T, f *fixture, lc listCase) {
	want := lc.order(lc.fill(f, 5))
	first, next, err := lc.list(f, store.Page{Limit: 2})
	f.must(err, "first page")
	check(t, "first page", first, want[:2])
	f.must(lc.remove(f, next), "remove the cursor's row")
	rest, _, err := lc.list(f, store.Page{Limit: 2, Cursor: next})
	f.must(err, "page after a deleted row")
	check(t, "the page after the cursor's row was deleted", rest, want[2:4])
}

func testLimitDefaultAndCap(t *testing.T, f *fixture, lc listCase) {
	const total = 503
	want := lc.order(lc.fill(f, total))
	for _, tc := range []struct {
		limit, rows int
	}{
		{0, 50}, {-5, 50}, {1, 1}, {499, 499}, {500, 500}, {501, 500}, {1000, 500},
	} {
		rows, next, err := lc.list(f, store.Page{Limit: tc.limit})
		f.must(err, "list")
		if len(rows) != tc.rows || next != want[tc.rows-1] {
			t.Errorf("Limit %d: %d rows, next %q; want %d rows and a cursor to the rest", tc.limit, len(rows), next, tc.rows)
			continue
		}
		check(t, fmt.Sprintf("rows with limit %d", tc.limit), rows, want[:tc.rows])
	}
	_, next, _ := lc.list(f, store.Page{Limit: 1000})
	rest, last, err := lc.list(f, store.Page{Limit: 1000, Cursor: next})
	f.must(err, "second page")
	if last != "" {
		t.Errorf("the last page has a next cursor %q", last)
	}
	check(t, "the rest after a capped page", rest, want[500:])
}

// A cursor the list did not issue is refused, not read as a position: the API answers 400
// for it (SPEC §5).
func testCursorNotIssued(t *testing.T, f *fixture, lc listCase) {
	issued := lc.order(lc.fill(f, 2))[0] // the cursor of a first page of one
	prefix, _, _ := strings.Cut(issued, "_")
	for _, cursor := range []string{
		"garbage",
		issued + "x",
		issued[:len(issued)-1],
		strings.ToUpper(issued),
		prefix + "_" + strings.Repeat("u", 26), // not a base32 digit
		store.NewID("other", f.clock.Now()),    // an id of another kind
	} {
		rows, next, err := lc.list(f, store.Page{Cursor: cursor})
		checkErr(t, "cursor "+cursor, err, store.ErrBadCursor)
		if len(rows) != 0 || next != "" {
			t.Errorf("cursor %q: %d rows, next %q; want none", cursor, len(rows), next)
		}
	}
	rows, _, err := lc.list(f, store.Page{Cursor: issued})
	f.must(err, "an issued cursor")
	if len(rows) != 1 {
		t.Errorf("after an issued cursor: %d rows, want 1", len(rows))
	}
}
