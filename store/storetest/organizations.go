package storetest

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"hookyard/store"
)

var organizationCases = []testCase{
	{"CreateRenameDelete", testOrganizationCRUD},
	{"DeleteTakesProjectsAndMemberships", testDeleteOrganizationCascades},
}

var membershipCases = []testCase{
	{"AddRemoveAndList", testMemberships},
	{"MembersByNameByteByByte", testMembersOrder},
	{"ListOrganizationsOfAMember", testListOrganizationsForMember},
}

var projectCases = []testCase{
	{"CreateRenameDelete", testProjectCRUD},
	{"ListFilters", testListProjectsFilters},
}

func testOrganizationCRUD(t *testing.T, f *fixture) {
	o, err := f.s.CreateOrganization(f.ctx, "Acme")
	f.must(err, "CreateOrganization")
	want := store.Organization{ID: o.ID, Name: "Acme", CreatedAt: f.now(), UpdatedAt: f.now()}
	if !strings.HasPrefix(o.ID, "org_") {
		t.Errorf("ID = %q, want an org_ id", o.ID)
	}
	check(t, "CreateOrganization", o, want)
	got, err := f.s.Organization(f.ctx, o.ID)
	f.must(err, "Organization")
	check(t, "Organization", got, want)
	other := f.org("Other")

	f.clock.Advance(time.Hour)
	renamed, err := f.s.RenameOrganization(f.ctx, o.ID, "Acme Corp")
	f.must(err, "RenameOrganization")
	want.Name, want.UpdatedAt = "Acme Corp", f.now()
	check(t, "RenameOrganization", renamed, want)
	got, _ = f.s.Organization(f.ctx, o.ID)
	check(t, "stored after rename", got, want)
	got, _ = f.s.Organization(f.ctx, other.ID)
	check(t, "the other organisation after a rename", got, other)

	f.must(f.s.DeleteOrganization(f.ctx, o.ID), "DeleteOrganization")
	_, err = f.s.Organization(f.ctx, o.ID)
	checkErr(t, "Organization after delete", err, store.ErrNotFound)
	checkErr(t, "DeleteOrganization twice", f.s.DeleteOrganization(f.ctx, o.ID), store.ErrNotFound)
	if _, err := f.s.Organization(f.ctx, other.ID); err != nil {
		t.Errorf("deleting one organisation removed another: %v", err)
	}
}

func testDeleteOrganizationCascades(t *testing.T, f *fixture) {
	u := f.user("bob@example.com", "Bob", store.RoleMember)
	doomed, kept := f.org("Doomed"), f.org("Kept")
	p1, p2 := f.project(doomed.ID, "One"), f.project(doomed.ID, "Two")
	pk := f.project(kept.ID, "Kept project")
	f.member(doomed.ID, u.ID)
	f.member(kept.ID, u.ID)
	counts := func(what string, wantOrgs, wantProjects int, wantOf []string) {
		t.Helper()
		orgs, err := f.s.CountOrganizations(f.ctx)
		f.must(err, "CountOrganizations")
		projects, err := f.s.CountProjects(f.ctx)
		f.must(err, "CountProjects")
		of, err := f.s.OrganizationsOf(f.ctx, u.ID)
		f.must(err, "OrganizationsOf")
		if orgs != wantOrgs || projects != wantProjects || !reflect.DeepEqual(sorted(of...), wantOf) {
			t.Errorf("%s: %d organisations, %d projects, Bob in %v; want %d, %d, %v", what, orgs, projects, of, wantOrgs, wantProjects, wantOf)
		}
	}
	counts("before the delete", 2, 3, sorted(doomed.ID, kept.ID))

	f.must(f.s.DeleteOrganization(f.ctx, doomed.ID), "DeleteOrganization")
	counts("after the delete", 1, 1, []string{kept.ID})
	if of, err := f.s.OrganizationsOf(f.ctx, "usr_missing"); err != nil || len(of) != 0 {
		t.Errorf("OrganizationsOf(unknown) = %v, %v; want none", of, err)
	}
	for _, id := range []string{p1.ID, p2.ID} {
		_, err := f.s.Project(f.ctx, id)
		checkErr(t, "Project of the deleted organisation", err, store.ErrNotFound)
	}
	all, _, err := f.s.ListProjects(f.ctx, store.ProjectFilter{}, store.Page{})
	f.must(err, "ListProjects")
	check(t, "projects left", ids(all, projectID), []string{pk.ID})
	byUser, _ := f.s.MemberOrganizations(f.ctx)
	check(t, "memberships left", byUser, map[string][]string{u.ID: {kept.ID}})
	if _, err := f.s.UserByID(f.ctx, u.ID); err != nil {
		t.Errorf("the member user was removed: %v", err)
	}
}

func testMemberships(t *testing.T, f *fixture) {
	bob := f.user("bob@example.com", "Bob", store.RoleMember) // created first, sorts second by name
	ada := f.user("ada@example.com", "Ada", store.RoleMember)
	o1, o2, o3 := f.org("One"), f.org("Two"), f.org("Three")
	for _, m := range []struct{ org, user string }{
		{o1.ID, ada.ID}, {o2.ID, ada.ID}, {o2.ID, bob.ID},
		{o1.ID, ada.ID}, // again: no change, no error
	} {
		f.member(m.org, m.user)
	}
	for _, tc := range []struct {
		org, user string
		want      bool
	}{
		{o1.ID, ada.ID, true}, {o2.ID, ada.ID, true}, {o3.ID, ada.ID, false},
		{o1.ID, bob.ID, false}, {o2.ID, bob.ID, true}, {o1.ID, "usr_missing", false}, {"org_missing", ada.ID, false},
	} {
		if got, err := f.s.IsMember(f.ctx, tc.org, tc.user); err != nil || got != tc.want {
			t.Errorf("IsMember(%s, %s) = %v, %v; want %v", tc.org, tc.user, got, err, tc.want)
		}
	}
	members, err := f.s.Members(f.ctx, o2.ID)
	f.must(err, "Members")
	check(t, "Members(Two), by name", ids(members, userName), []string{"Ada", "Bob"})
	check(t, "Members(Two) as stored", members, []store.User{ada, bob})
	members, _ = f.s.Members(f.ctx, o3.ID)
	check(t, "Members(Three)", ids(members, userName), []string{})

	byUser, err := f.s.MemberOrganizations(f.ctx)
	f.must(err, "MemberOrganizations")
	for _, orgs := range byUser {
		slices.Sort(orgs)
	}
	check(t, "MemberOrganizations (idempotent AddMember)", byUser, map[string][]string{ada.ID: sorted(o1.ID, o2.ID), bob.ID: {o2.ID}})

	f.must(f.s.RemoveMember(f.ctx, o2.ID, ada.ID), "RemoveMember")
	if ok, _ := f.s.IsMember(f.ctx, o2.ID, ada.ID); ok {
		t.Error("still a member after RemoveMember")
	}
	if ok, _ := f.s.IsMember(f.ctx, o1.ID, ada.ID); !ok {
		t.Error("RemoveMember removed the user's other membership")
	}
	if ok, _ := f.s.IsMember(f.ctx, o2.ID, bob.ID); !ok {
		t.Error("RemoveMember removed another user's membership")
	}
	checkErr(t, "RemoveMember twice", f.s.RemoveMember(f.ctx, o2.ID, ada.ID), store.ErrNotFound)
}

func testListOrganizationsForMember(t *testing.T, f *fixture) {
	ada := f.user("ada@example.com", "Ada", store.RoleMember)
	bob := f.user("bob@example.com", "Bob", store.RoleMember)
	o1, o2, _ := f.org("One"), f.org("Two"), f.org("Three")
	f.member(o1.ID, ada.ID)
	f.member(o2.ID, ada.ID)
	f.member(o2.ID, bob.ID)
	for _, tc := range []struct {
		memberID string
		want     []string
	}{
		{"", []string{"One", "Two", "Three"}},
		{ada.ID, []string{"One", "Two"}},
		{bob.ID, []string{"Two"}},
		{"usr_missing", []string{}},
	} {
		orgs, next, err := f.s.ListOrganizations(f.ctx, tc.memberID, store.Page{})
		if err != nil || next != "" {
			t.Fatalf("ListOrganizations(%q): next %q, err %v", tc.memberID, next, err)
		}
		check(t, "ListOrganizations(member "+tc.memberID+")", ids(orgs, orgName), tc.want)
	}
}

func testProjectCRUD(t *testing.T, f *fixture) {
	org := f.org("Acme")
	p, err := f.s.CreateProject(f.ctx, org.ID, "Website")
	f.must(err, "CreateProject")
	want := store.Project{ID: p.ID, OrganizationID: org.ID, OrganizationName: "Acme", Name: "Website",
		CreatedAt: f.now(), UpdatedAt: f.now()}
	if !strings.HasPrefix(p.ID, "prj_") {
		t.Errorf("ID = %q, want a prj_ id", p.ID)
	}
	check(t, "CreateProject", p, want)
	got, err := f.s.Project(f.ctx, p.ID)
	f.must(err, "Project")
	check(t, "Project", got, want)
	other := f.project(org.ID, "Other")

	f.clock.Advance(time.Hour)
	renamed, err := f.s.RenameProject(f.ctx, p.ID, "Web shop")
	f.must(err, "RenameProject")
	want.Name, want.UpdatedAt = "Web shop", f.now()
	check(t, "RenameProject", renamed, want)
	got, _ = f.s.Project(f.ctx, other.ID)
	check(t, "the other project after a rename", got, other)

	// The organisation's name is read live, not copied into the project.
	_, err = f.s.RenameOrganization(f.ctx, org.ID, "Acme Corp")
	f.must(err, "RenameOrganization")
	want.OrganizationName = "Acme Corp"
	got, _ = f.s.Project(f.ctx, p.ID)
	check(t, "Project after renaming its organisation", got, want)

	f.must(f.s.DeleteProject(f.ctx, p.ID), "DeleteProject")
	_, err = f.s.Project(f.ctx, p.ID)
	checkErr(t, "Project after delete", err, store.ErrNotFound)
	checkErr(t, "DeleteProject twice", f.s.DeleteProject(f.ctx, p.ID), store.ErrNotFound)
	if _, err := f.s.Organization(f.ctx, org.ID); err != nil {
		t.Errorf("deleting a project removed its organisation: %v", err)
	}
	if _, err := f.s.Project(f.ctx, other.ID); err != nil {
		t.Errorf("deleting a project removed another: %v", err)
	}
}

func testListProjectsFilters(t *testing.T, f *fixture) {
	a, b, c := f.org("A"), f.org("B"), f.org("C")
	for _, p := range []struct{ org, name string }{
		{a.ID, "a1"}, {b.ID, "b1"}, {a.ID, "a2"}, {c.ID, "c1"}, {c.ID, "c2"},
	} {
		f.project(p.org, p.name)
	}
	u := f.user("ada@example.com", "Ada", store.RoleMember)
	loner := f.user("bob@example.com", "Bob", store.RoleMember)
	f.member(a.ID, u.ID)
	f.member(c.ID, u.ID)
	for _, tc := range []struct {
		name string
		f    store.ProjectFilter
		want []string
	}{
		{"no filter", store.ProjectFilter{}, []string{"a1", "b1", "a2", "c1", "c2"}},
		{"organisation", store.ProjectFilter{OrganizationID: a.ID}, []string{"a1", "a2"}},
		{"member", store.ProjectFilter{MemberID: u.ID}, []string{"a1", "a2", "c1", "c2"}},
		{"member and their organisation", store.ProjectFilter{OrganizationID: c.ID, MemberID: u.ID}, []string{"c1", "c2"}},
		{"member and another organisation", store.ProjectFilter{OrganizationID: b.ID, MemberID: u.ID}, []string{}},
		{"user without organisations", store.ProjectFilter{MemberID: loner.ID}, []string{}},
		{"unknown organisation", store.ProjectFilter{OrganizationID: "org_missing"}, []string{}},
	} {
		got, next, err := f.s.ListProjects(f.ctx, tc.f, store.Page{})
		f.must(err, "ListProjects")
		if next != "" {
			t.Errorf("%s: next cursor %q for a short list", tc.name, next)
		}
		check(t, "ListProjects "+tc.name, ids(got, projectName), tc.want)
		for _, p := range got {
			if want := map[string]string{"a": "A", "b": "B", "c": "C"}[p.Name[:1]]; p.OrganizationName != want {
				t.Errorf("project %s: organisation name %q, want %q", p.Name, p.OrganizationName, want)
			}
		}
	}
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

// Members are listed by name compared byte by byte on every engine (as SQLite's BINARY does),
// whatever the database's locale; people of the same name by e-mail.
func testMembersOrder(t *testing.T, f *fixture) {
	o := f.org("Acme")
	for _, u := range []struct{ email, name string }{{"e2@example.com", "Émile"}, {"a@example.com", "ada"},
		{"b2@example.com", "Bob"}, {"z@example.com", "Zoe"}, {"e1@example.com", "Émile"}, {"b1@example.com", "Bob"}, {"d@example.com", "D_B"}, {"d2@example.com", "DA"}} {
		f.member(o.ID, f.user(u.email, u.name, store.RoleMember).ID)
	}
	members, err := f.s.Members(f.ctx, o.ID)
	f.must(err, "Members")
	check(t, "Members, byte by byte", ids(members, func(u store.User) string { return u.Name + " " + u.Email }),
		[]string{"Bob b1@example.com", "Bob b2@example.com", "DA d2@example.com", "D_B d@example.com", "Zoe z@example.com",
			"ada a@example.com", "Émile e1@example.com", "Émile e2@example.com"})
}
