package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestProjectCRUD(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTestStore(t)
	clock := useClock(s, 0)
	org := createOrg(t, s, "Acme")

	p, err := s.CreateProject(ctx, org.ID, "Website")
	if err != nil {
		t.Fatalf("CreateProject: %v", err)
	}
	want := Project{ID: p.ID, OrganizationID: org.ID, OrganizationName: "Acme", Name: "Website",
		CreatedAt: clockStart, UpdatedAt: clockStart}
	if !strings.HasPrefix(p.ID, "prj_") || p != want {
		t.Errorf("CreateProject = %+v, want %+v with a prj_ id", p, want)
	}
	if got, err := s.Project(ctx, p.ID); err != nil || got != want {
		t.Errorf("Project = %+v, %v; want %+v", got, err, want)
	}

	clock.Advance(time.Hour)
	renamed, err := s.RenameProject(ctx, p.ID, "Web shop")
	if err != nil {
		t.Fatalf("RenameProject: %v", err)
	}
	want.Name, want.UpdatedAt = "Web shop", clockStart.Add(time.Hour)
	if renamed != want {
		t.Errorf("RenameProject = %+v, want %+v", renamed, want)
	}

	// The organisation's name is read live, not copied into the project.
	if _, err := s.RenameOrganization(ctx, org.ID, "Acme Corp"); err != nil {
		t.Fatal(err)
	}
	want.OrganizationName = "Acme Corp"
	if got, _ := s.Project(ctx, p.ID); got != want {
		t.Errorf("Project after renaming its organisation = %+v, want %+v", got, want)
	}

	if err := s.DeleteProject(ctx, p.ID); err != nil {
		t.Fatalf("DeleteProject: %v", err)
	}
	if _, err := s.Project(ctx, p.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Project after delete: err = %v, want ErrNotFound", err)
	}
	if err := s.DeleteProject(ctx, p.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteProject twice: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Organization(ctx, org.ID); err != nil {
		t.Errorf("deleting a project removed its organisation: %v", err)
	}
}

func TestListProjectsFilters(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTestStore(t)
	useClock(s, time.Millisecond)
	a, b, c := createOrg(t, s, "A"), createOrg(t, s, "B"), createOrg(t, s, "C")
	for _, p := range []struct{ org, name string }{
		{a.ID, "a1"}, {b.ID, "b1"}, {a.ID, "a2"}, {c.ID, "c1"}, {c.ID, "c2"},
	} {
		createProject(t, s, p.org, p.name)
	}
	u := createUser(t, s, "ada@example.com", "Ada", RoleMember)
	loner := createUser(t, s, "bob@example.com", "Bob", RoleMember)
	for _, o := range []string{a.ID, c.ID} {
		if err := s.AddMember(ctx, o, u.ID); err != nil {
			t.Fatal(err)
		}
	}

	for _, tc := range []struct {
		name string
		f    ProjectFilter
		want []string
	}{
		{"no filter", ProjectFilter{}, []string{"a1", "b1", "a2", "c1", "c2"}},
		{"organisation", ProjectFilter{OrganizationID: a.ID}, []string{"a1", "a2"}},
		{"member", ProjectFilter{MemberID: u.ID}, []string{"a1", "a2", "c1", "c2"}},
		{"member and their organisation", ProjectFilter{OrganizationID: c.ID, MemberID: u.ID}, []string{"c1", "c2"}},
		{"member and another organisation", ProjectFilter{OrganizationID: b.ID, MemberID: u.ID}, nil},
		{"user without organisations", ProjectFilter{MemberID: loner.ID}, nil},
		{"unknown organisation", ProjectFilter{OrganizationID: "org_missing"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, next, err := s.ListProjects(ctx, tc.f, Page{})
			if err != nil {
				t.Fatal(err)
			}
			if names := projectNames(got); !slices.Equal(names, tc.want) || next != "" {
				t.Errorf("ListProjects = %v (next %q), want %v", names, next, tc.want)
			}
			for _, p := range got {
				if p.OrganizationName == "" {
					t.Errorf("project %s has no organisation name", p.Name)
				}
			}
		})
	}
}

func TestListProjectsPagination(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTestStore(t)
	useClock(s, time.Millisecond)
	a, b := createOrg(t, s, "A"), createOrg(t, s, "B")
	u := createUser(t, s, "ada@example.com", "Ada", RoleMember)
	if err := s.AddMember(ctx, a.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 9 {
		org := a
		if i%3 == 2 {
			org = b
		}
		p := createProject(t, s, org.ID, "p")
		if org == a {
			want = append(want, p.ID)
		}
	}

	pages := walkPages(t, 4, func(p Page) ([]Project, string, error) {
		return s.ListProjects(ctx, ProjectFilter{MemberID: u.ID}, p)
	}, func(p Project) string { return p.ID })
	if got := pageSizes(pages); !slices.Equal(got, []int{4, 2}) {
		t.Errorf("page sizes = %v, want [4 2]", got)
	}
	if got := flatten(pages); !slices.Equal(got, want) {
		t.Errorf("walked ids = %v, want %v", got, want)
	}
}

func projectNames(ps []Project) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}
