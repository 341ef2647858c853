package store

import (
	"context"
)

// demoOrganizations is the sample data --demo puts into an empty database.
var demoOrganizations = []struct {
	name     string
	projects []string
}{
	{"Acme", []string{"Website", "Mobile app", "Marketing"}},
	{"Globex", []string{"Support", "Billing"}},
	{"Initech", []string{"Internal tools", "Hiring", "Office move"}},
}

// SeedDemo adds sample organisations and projects when the database has none, and reports
// whether it did.
func (s *Store) SeedDemo(ctx context.Context) (bool, error) {
	seeded := false
	err := s.WithTx(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM organizations`).Scan(&n); err != nil || n > 0 {
			return err
		}
		for _, o := range demoOrganizations {
			now := s.nowMS()
			orgID := s.newID("org", now)
			if _, err := tx.ExecContext(ctx, `INSERT INTO organizations (id, name, created_at, updated_at)
				VALUES (?, ?, ?, ?)`, orgID, o.name, now, now); err != nil {
				return err
			}
			for _, p := range o.projects {
				if _, err := tx.ExecContext(ctx, `INSERT INTO projects (id, organization_id, name, created_at, updated_at)
					VALUES (?, ?, ?, ?, ?)`, s.newID("prj", now), orgID, p, now, now); err != nil {
					return err
				}
			}
		}
		seeded = true
		return nil
	})
	return seeded, err
}
