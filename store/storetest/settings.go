package storetest

import (
	"bytes"
	"fmt"
	"testing"

	"hookyard/store"
)

var settingCases = []testCase{
	{"SessionKeysAreMadeOnceAndKept", testSessionKeys},
	{"CheckWritableLeavesTheKeysAlone", testCheckWritable},
}

var demoCases = []testCase{
	{"SeedEmptyStore", testSeedDemo},
	{"LeaveExistingDataAlone", testSeedDemoWithData},
}

func testSessionKeys(t *testing.T, f *fixture) {
	hash, block, err := f.s.SessionKeys(f.ctx)
	f.must(err, "SessionKeys")
	if len(hash) != 32 || len(block) != 32 {
		t.Fatalf("key lengths = %d, %d; want 32, 32", len(hash), len(block))
	}
	zero := make([]byte, 32)
	if bytes.Equal(hash, zero) || bytes.Equal(block, zero) || bytes.Equal(hash, block) {
		t.Errorf("keys are not random: hash %x, block %x", hash, block)
	}
	hash2, block2, err := f.s.SessionKeys(f.ctx)
	if err != nil || !bytes.Equal(hash, hash2) || !bytes.Equal(block, block2) {
		t.Errorf("a second call gave other keys (err %v)", err)
	}
}

// CheckWritable makes a real write each time it is called (a health check), beside the
// session key and without touching it.
func testCheckWritable(t *testing.T, f *fixture) {
	hash, block, err := f.s.SessionKeys(f.ctx)
	f.must(err, "SessionKeys")
	for i := range 3 {
		f.must(f.s.CheckWritable(f.ctx), fmt.Sprint("CheckWritable ", i))
	}
	hash2, block2, err := f.s.SessionKeys(f.ctx)
	if err != nil || !bytes.Equal(hash, hash2) || !bytes.Equal(block, block2) {
		t.Errorf("session keys after CheckWritable changed (err %v)", err)
	}
}

func testSeedDemo(t *testing.T, f *fixture) {
	seeded, err := f.s.SeedDemo(f.ctx)
	if err != nil || !seeded {
		t.Fatalf("first SeedDemo = %v, %v; want true", seeded, err)
	}
	want := map[string][]string{
		"Acme":    {"Marketing", "Mobile app", "Website"},
		"Globex":  {"Billing", "Support"},
		"Initech": {"Hiring", "Internal tools", "Office move"},
	}
	verify := func(when string) {
		t.Helper()
		orgs, _, err := f.s.ListOrganizations(f.ctx, "", store.Page{})
		f.must(err, "ListOrganizations")
		got := map[string][]string{}
		for _, o := range orgs {
			projects, _, err := f.s.ListProjects(f.ctx, store.ProjectFilter{OrganizationID: o.ID}, store.Page{})
			f.must(err, "ListProjects")
			got[o.Name] = sorted(ids(projects, projectName)...)
			for _, p := range projects {
				if p.OrganizationName != o.Name || !p.CreatedAt.Equal(f.now()) {
					t.Errorf("%s: project %+v, want it in %s, made now", when, p, o.Name)
				}
			}
		}
		if len(orgs) != 3 {
			t.Errorf("%s: %d organisations, want 3", when, len(orgs))
		}
		check(t, when+": organisations and projects", got, want)
		all, _, _ := f.s.ListProjects(f.ctx, store.ProjectFilter{}, store.Page{})
		if len(all) != 8 {
			t.Errorf("%s: %d projects, want 8", when, len(all))
		}
	}
	verify("after seeding")
	seeded, err = f.s.SeedDemo(f.ctx)
	if err != nil || seeded {
		t.Errorf("second SeedDemo = %v, %v; want false", seeded, err)
	}
	verify("after seeding twice")
}

func testSeedDemoWithData(t *testing.T, f *fixture) {
	f.org("Mine")
	seeded, err := f.s.SeedDemo(f.ctx)
	if err != nil || seeded {
		t.Errorf("SeedDemo with an organisation present = %v, %v; want false", seeded, err)
	}
	orgs, _, _ := f.s.ListOrganizations(f.ctx, "", store.Page{})
	check(t, "organisations", ids(orgs, orgName), []string{"Mine"})
	projects, _, _ := f.s.ListProjects(f.ctx, store.ProjectFilter{}, store.Page{})
	check(t, "projects", len(projects), 0)
}
