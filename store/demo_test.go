package store

import (
	"maps"
	"slices"
	"testing"
)

func TestSeedDemo(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTestStore(t)

	seeded, err := s.SeedDemo(ctx)
	if err != nil || !seeded {
		t.Fatalf("first SeedDemo = %v, %v; want true", seeded, err)
	}
	want := map[string][]string{
		"Acme":    {"Marketing", "Mobile app", "Website"},
		"Globex":  {"Billing", "Support"},
		"Initech": {"Hiring", "Internal tools", "Office move"},
	}
	check := func(when string) {
		t.Helper()
		orgs, _, err := s.ListOrganizations(ctx, "", Page{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, o := range orgs {
			projects, _, err := s.ListProjects(ctx, ProjectFilter{OrganizationID: o.ID}, Page{})
			if err != nil {
				t.Fatal(err)
			}
			names := projectNames(projects)
			slices.Sort(names)
			got[o.Name] = names
			for _, p := range projects {
				if p.OrganizationName != o.Name {
					t.Errorf("%s: project %s belongs to %q", when, p.Name, p.OrganizationName)
				}
			}
		}
		if len(orgs) != 3 || !maps.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%s: organisations and projects = %v, want %v", when, got, want)
		}
		if n := countRows(t, s, "projects", ""); n != 8 {
			t.Errorf("%s: %d projects, want 8", when, n)
		}
	}
	check("after seeding")

	seeded, err = s.SeedDemo(ctx)
	if err != nil || seeded {
		t.Errorf("second SeedDemo = %v, %v; want false", seeded, err)
	}
	check("after seeding twice")
}

func TestSeedDemoLeavesExistingDataAlone(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	createOrg(t, s, "Mine")
	seeded, err := s.SeedDemo(t.Context())
	if err != nil || seeded {
		t.Errorf("SeedDemo with an organisation present = %v, %v; want false", seeded, err)
	}
	if n := countRows(t, s, "organizations", ""); n != 1 {
		t.Errorf("%d organisations, want 1", n)
	}
	if n := countRows(t, s, "projects", ""); n != 0 {
		t.Errorf("%d projects, want 0", n)
	}
}
