package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestOrganizationCRUD(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTestStore(t)
	clock := useClock(s, 0)

	o, err := s.CreateOrganization(ctx, "Acme")
	if err != nil {
		t.Fatalf("CreateOrganization: %v", err)
	}
	want := Organization{ID: o.ID, Name: "Acme", CreatedAt: clockStart, UpdatedAt: clockStart}
	if !strings.HasPrefix(o.ID, "org_") || o != want {
		t.Errorf("CreateOrganization = %+v, want %+v with an org_ id", o, want)
	}
	if got, err := s.Organization(ctx, o.ID); err != nil || got != want {
		t.Errorf("Organization = %+v, %v; want %+v", got, err, want)
	}

	clock.Advance(time.Hour)
	renamed, err := s.RenameOrganization(ctx, o.ID, "Acme Corp")
	if err != nil {
		t.Fatalf("RenameOrganization: %v", err)
	}
	want.Name, want.UpdatedAt = "Acme Corp", clockStart.Add(time.Hour)
	if renamed != want {
		t.Errorf("RenameOrganization = %+v, want %+v", renamed, want)
	}
	if got, _ := s.Organization(ctx, o.ID); got != want {
		t.Errorf("stored after rename = %+v, want %+v", got, want)
	}

	if err := s.DeleteOrganization(ctx, o.ID); err != nil {
		t.Fatalf("DeleteOrganization: %v", err)
	}
	if _, err := s.Organization(ctx, o.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Organization after delete: err = %v, want ErrNotFound", err)
	}
}

func TestUnknownIDsAreNotFound(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	org := createOrg(t, s, "Acme")
	user := createUser(t, s, "ada@example.com", "Ada", RoleMember)
	prj := createProject(t, s, org.ID, "Website")
	tok, _, err := s.CreateToken(t.Context(), user.ID, "ci")
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		call func(context.Context) error
	}{
		{"Organization", func(ctx context.Context) error { _, err := s.Organization(ctx, "org_missing"); return err }},
		{"RenameOrganization", func(ctx context.Context) error { _, err := s.RenameOrganization(ctx, "org_missing", "x"); return err }},
		{"DeleteOrganization", func(ctx context.Context) error { return s.DeleteOrganization(ctx, "org_missing") }},
		{"AddMember unknown organisation", func(ctx context.Context) error { return s.AddMember(ctx, "org_missing", user.ID) }},
		{"AddMember unknown user", func(ctx context.Context) error { return s.AddMember(ctx, org.ID, "usr_missing") }},
		{"AddMember both unknown", func(ctx context.Context) error { return s.AddMember(ctx, "org_missing", "usr_missing") }},
		{"AddMember ids swapped", func(ctx context.Context) error { return s.AddMember(ctx, user.ID, org.ID) }},
		{"RemoveMember not a member", func(ctx context.Context) error { return s.RemoveMember(ctx, org.ID, user.ID) }},
		{"CreateProject unknown organisation", func(ctx context.Context) error { _, err := s.CreateProject(ctx, "org_missing", "x"); return err }},
		{"Project", func(ctx context.Context) error { _, err := s.Project(ctx, "prj_missing"); return err }},
		{"RenameProject", func(ctx context.Context) error { _, err := s.RenameProject(ctx, "prj_missing", "x"); return err }},
		{"DeleteProject", func(ctx context.Context) error { return s.DeleteProject(ctx, "prj_missing") }},
		{"Project by organisation id", func(ctx context.Context) error { _, err := s.Project(ctx, org.ID); return err }},
		{"UserByID", func(ctx context.Context) error { _, err := s.UserByID(ctx, "usr_missing"); return err }},
		{"DeleteUser", func(ctx context.Context) error { return s.DeleteUser(ctx, "usr_missing") }},
		{"CreateToken unknown user", func(ctx context.Context) error { _, _, err := s.CreateToken(ctx, "usr_missing", "x"); return err }},
		{"Token", func(ctx context.Context) error { _, err := s.Token(ctx, "tok_missing"); return err }},
		{"DeleteToken", func(ctx context.Context) error { return s.DeleteToken(ctx, "tok_missing") }},
		{"EventType", func(ctx context.Context) error { _, err := s.EventType(ctx, "NO_SUCH_EVENT"); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(t.Context()); !errors.Is(err, ErrNotFound) {
				t.Errorf("err = %v, want ErrNotFound", err)
			}
		})
	}

	// None of the refused calls changed anything.
	for table, want := range map[string]int{"organizations": 1, "users": 1, "projects": 1, "memberships": 0, "api_tokens": 1} {
		if n := countRows(t, s, table, ""); n != want {
			t.Errorf("%s has %d rows, want %d", table, n, want)
		}
	}
	if _, err := s.Project(t.Context(), prj.ID); err != nil {
		t.Errorf("existing project: %v", err)
	}
	if _, err := s.Token(t.Context(), tok.ID); err != nil {
		t.Errorf("existing token: %v", err)
	}
}

func TestMemberships(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTestStore(t)
	useClock(s, time.Millisecond)
	bob := createUser(t, s, "bob@example.com", "Bob", RoleMember) // created first, sorts second by name
	ada := createUser(t, s, "ada@example.com", "Ada", RoleMember)
	o1, o2, o3 := createOrg(t, s, "One"), createOrg(t, s, "Two"), createOrg(t, s, "Three")

	for _, m := range []struct{ org, user string }{
		{o1.ID, ada.ID}, {o2.ID, ada.ID}, {o2.ID, bob.ID},
		{o1.ID, ada.ID}, // again: no change, no error
	} {
		if err := s.AddMember(ctx, m.org, m.user); err != nil {
			t.Fatalf("AddMember(%s, %s): %v", m.org, m.user, err)
		}
	}
	if n := countRows(t, s, "memberships", ""); n != 3 {
		t.Errorf("%d memberships, want 3 (AddMember must be idempotent)", n)
	}

	for _, tc := range []struct {
		org, user string
		want      bool
	}{
		{o1.ID, ada.ID, true}, {o2.ID, ada.ID, true}, {o3.ID, ada.ID, false},
		{o1.ID, bob.ID, false}, {o2.ID, bob.ID, true}, {o1.ID, "usr_missing", false},
	} {
		if got, err := s.IsMember(ctx, tc.org, tc.user); err != nil || got != tc.want {
			t.Errorf("IsMember(%s, %s) = %v, %v; want %v", tc.org, tc.user, got, err, tc.want)
		}
	}

	members, err := s.Members(ctx, o2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := userNames(members); !slices.Equal(got, []string{"Ada", "Bob"}) {
		t.Errorf("Members(Two) = %v, want [Ada Bob] (by name)", got)
	}
	if members, _ := s.Members(ctx, o3.ID); len(members) != 0 {
		t.Errorf("Members(Three) = %v, want none", userNames(members))
	}

	orgsOf := func(memberID string) []string {
		t.Helper()
		orgs, next, err := s.ListOrganizations(ctx, memberID, Page{})
		if err != nil || next != "" {
			t.Fatalf("ListOrganizations(%q) next %q, err %v", memberID, next, err)
		}
		return orgNames(orgs)
	}
	for _, tc := range []struct {
		memberID string
		want     []string
	}{
		{"", []string{"One", "Two", "Three"}},
		{ada.ID, []string{"One", "Two"}},
		{bob.ID, []string{"Two"}},
		{"usr_missing", nil},
	} {
		if got := orgsOf(tc.memberID); !slices.Equal(got, tc.want) {
			t.Errorf("ListOrganizations(member %q) = %v, want %v", tc.memberID, got, tc.want)
		}
	}

	byUser, err := s.MemberOrganizations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ids := range byUser {
		slices.Sort(ids)
	}
	wantByUser := map[string][]string{ada.ID: sorted(o1.ID, o2.ID), bob.ID: {o2.ID}}
	if !maps.EqualFunc(byUser, wantByUser, slices.Equal) {
		t.Errorf("MemberOrganizations = %v, want %v", byUser, wantByUser)
	}

	if err := s.RemoveMember(ctx, o2.ID, ada.ID); err != nil {
		t.Fatalf("RemoveMember: %v", err)
	}
	if got := orgsOf(ada.ID); !slices.Equal(got, []string{"One"}) {
		t.Errorf("after RemoveMember, Ada's organisations = %v, want [One]", got)
	}
	if ok, _ := s.IsMember(ctx, o2.ID, bob.ID); !ok {
		t.Error("RemoveMember removed another user's membership")
	}
	if err := s.RemoveMember(ctx, o2.ID, ada.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("RemoveMember twice: err = %v, want ErrNotFound", err)
	}
}

func TestListOrganizationsPagination(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		orgs, limit int
		wantPages   []int
	}{
		{7, 3, []int{3, 3, 1}},
		{6, 3, []int{3, 3}}, // a full last page has no cursor to an empty one
		{7, 7, []int{7}},
		{7, 8, []int{7}},
		{7, 1, []int{1, 1, 1, 1, 1, 1, 1}},
		{0, 3, []int{0}},
	} {
		t.Run(fmt.Sprintf("%d orgs limit %d", tc.orgs, tc.limit), func(t *testing.T) {
			t.Parallel()
			s := openTestStore(t)
			useClock(s, time.Millisecond)
			var want []string
			for i := range tc.orgs {
				want = append(want, createOrg(t, s, fmt.Sprintf("org %d", i)).ID)
			}
			pages := walkPages(t, tc.limit, func(p Page) ([]Organization, string, error) {
				return s.ListOrganizations(t.Context(), "", p)
			}, func(o Organization) string { return o.ID })
			if got := pageSizes(pages); !slices.Equal(got, tc.wantPages) {
				t.Errorf("page sizes = %v, want %v", got, tc.wantPages)
			}
			if got := flatten(pages); !slices.Equal(got, want) {
				t.Errorf("walked ids = %v, want every organisation once in creation order %v", got, want)
			}
		})
	}
}

func TestListOrganizationsPaginationForMember(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTestStore(t)
	useClock(s, time.Millisecond)
	u := createUser(t, s, "ada@example.com", "Ada", RoleMember)
	var want []string
	for i := range 10 {
		o := createOrg(t, s, fmt.Sprintf("org %d", i))
		if i%2 == 1 {
			if err := s.AddMember(ctx, o.ID, u.ID); err != nil {
				t.Fatal(err)
			}
			want = append(want, o.ID)
		}
	}
	pages := walkPages(t, 2, func(p Page) ([]Organization, string, error) {
		return s.ListOrganizations(ctx, u.ID, p)
	}, func(o Organization) string { return o.ID })
	if got := pageSizes(pages); !slices.Equal(got, []int{2, 2, 1}) {
		t.Errorf("page sizes = %v, want [2 2 1]", got)
	}
	if got := flatten(pages); !slices.Equal(got, want) {
		t.Errorf("walked ids = %v, want %v", got, want)
	}
}

func TestListLimitDefaultAndCap(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTestStore(t)
	useClock(s, time.Millisecond)
	const total = 520
	for i := range total {
		createOrg(t, s, fmt.Sprintf("org %03d", i))
	}

	for _, tc := range []struct {
		limit, wantRows int
	}{
		{0, 50}, {-5, 50}, {499, 499}, {500, 500}, {501, 500}, {1000, 500},
	} {
		orgs, next, err := s.ListOrganizations(ctx, "", Page{Limit: tc.limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(orgs) != tc.wantRows || next != orgs[len(orgs)-1].ID {
			t.Errorf("Limit %d: %d rows, next %q; want %d rows and a cursor to the rest", tc.limit, len(orgs), next, tc.wantRows)
		}
		if orgs[0].Name != "org 000" {
			t.Errorf("Limit %d: first row %q, want org 000", tc.limit, orgs[0].Name)
		}
	}

	first, next, _ := s.ListOrganizations(ctx, "", Page{Limit: 1000})
	rest, last, err := s.ListOrganizations(ctx, "", Page{Limit: 1000, Cursor: next})
	if err != nil {
		t.Fatal(err)
	}
	if len(first)+len(rest) != total || last != "" || rest[0].Name != "org 500" {
		t.Errorf("second page: %d rows starting %q, next %q; want %d rows from org 500 and no cursor",
			len(rest), rest[0].Name, last, total-500)
	}
}

func userNames(us []User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.Name)
	}
	return out
}

func orgNames(os []Organization) []string {
	var out []string
	for _, o := range os {
		out = append(out, o.Name)
	}
	return out
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}
