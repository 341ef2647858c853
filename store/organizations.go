package store

import (
	"context"
	"time"
)

// Organization is a company; it owns projects and has users as members.
type Organization struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

const orgColumns = `id, name, created_at, updated_at`

func scanOrg(row scanner) (Organization, error) {
	var o Organization
	var created, updated int64
	err := row.Scan(&o.ID, &o.Name, &created, &updated)
	o.CreatedAt, o.UpdatedAt = fromMS(created), fromMS(updated)
	return o, notFound(err)
}

// CreateOrganization stores a new organisation; ErrConflict when another has that name.
func (s *Store) CreateOrganization(ctx context.Context, name string) (Organization, error) {
	now := s.nowMS()
	o := Organization{ID: s.newID("org", now), Name: name, CreatedAt: fromMS(now), UpdatedAt: fromMS(now)}
	err := s.WithTx(ctx, func(tx *Tx) error {
		if err := orgNameFree(ctx, tx, name, ""); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO organizations (`+orgColumns+`) VALUES (?, ?, ?, ?)`, o.ID, o.Name, now, now)
		return err
	})
	return o, err
}

// orgNameFree returns ErrConflict when an organisation other than except is called name
// (ignoring case and surrounding space): two "Acme"s could not be told apart in any list.
func orgNameFree(ctx context.Context, tx *Tx, name, except string) error {
	if err := tx.Serialize(ctx, "organization names"); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM organizations WHERE lower(trim(name)) = lower(trim(?)) AND id <> ?`,
		name, except).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return ErrConflict
	}
	return nil
}

// Organization returns one organisation or ErrNotFound.
func (s *Store) Organization(ctx context.Context, id string) (Organization, error) {
	return scanOrg(s.read.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM organizations WHERE id = ?`, id))
}

// ListOrganizations returns one page of organisations in creation order. With memberID set,
// only the organisations that user belongs to.
func (s *Store) ListOrganizations(ctx context.Context, memberID string, p Page) ([]Organization, string, error) {
	p, err := p.forList("org")
	if err != nil {
		return nil, "", err
	}
	q := `SELECT ` + orgColumns + ` FROM organizations WHERE id > ?`
	args := []any{p.Cursor}
	if memberID != "" {
		q += ` AND id IN (SELECT organization_id FROM memberships WHERE user_id = ?)`
		args = append(args, memberID)
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY id LIMIT ?`, append(args, p.Limit+1)...)
	return collectPage(rows, err, p, scanOrg, func(o Organization) string { return o.ID })
}

// CountOrganizations returns how many organisations exist.
func (s *Store) CountOrganizations(ctx context.Context) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM organizations`).Scan(&n)
	return n, err
}

// RenameOrganization changes an organisation's name; ErrConflict when another has that name.
func (s *Store) RenameOrganization(ctx context.Context, id, name string) (Organization, error) {
	err := s.WithTx(ctx, func(tx *Tx) error {
		if err := orgNameFree(ctx, tx, name, id); err != nil {
			return err
		}
		return checkAffected(tx.ExecContext(ctx, `UPDATE organizations SET name = ?, updated_at = ? WHERE id = ?`, name, s.nowMS(), id))
	})
	if err != nil {
		return Organization{}, err
	}
	return scanOrg(s.write.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM organizations WHERE id = ?`, id))
}

// DeleteOrganization removes an organisation with its projects and memberships.
func (s *Store) DeleteOrganization(ctx context.Context, id string) error {
	defer s.changed()
	return checkAffected(s.write.ExecContext(ctx, `DELETE FROM organizations WHERE id = ?`, id))
}

// AddMember makes a user a member of an organisation; adding an existing member changes
// nothing. ErrNotFound means the organisation or the user does not exist.
func (s *Store) AddMember(ctx context.Context, orgID, userID string) error {
	defer s.changedUser(userID)
	return s.WithTx(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM organizations WHERE id = ?) +
			(SELECT COUNT(*) FROM users WHERE id = ?)`, orgID, userID).Scan(&n); err != nil {
			return err
		}
		if n != 2 {
			return ErrNotFound
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO memberships (organization_id, user_id, created_at)
			VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, orgID, userID, s.nowMS())
		return err
	})
}

// RemoveMember ends a user's membership of an organisation; ErrNotFound if there was none.
func (s *Store) RemoveMember(ctx context.Context, orgID, userID string) error {
	defer s.changedUser(userID)
	return checkAffected(s.write.ExecContext(ctx,
		`DELETE FROM memberships WHERE organization_id = ? AND user_id = ?`, orgID, userID))
}

// IsMember reports whether the user belongs to the organisation.
func (s *Store) IsMember(ctx context.Context, orgID, userID string) (bool, error) {
	var n int
	err := s.read.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM memberships WHERE organization_id = ? AND user_id = ?`, orgID, userID).Scan(&n)
	return n > 0, err
}

// Members returns the users of an organisation, by name.
func (s *Store) Members(ctx context.Context, orgID string) ([]User, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+prefixed("u.", userColumns)+` FROM users u
		JOIN memberships m ON m.user_id = u.id WHERE m.organization_id = ? ORDER BY u.name, u.email`, orgID)
	return collect(rows, err, scanUser)
}

// MemberOrganizations maps each user id to the ids of the organisations they belong to:
// of the given users only, or of everyone when none are given.
func (s *Store) MemberOrganizations(ctx context.Context, userIDs ...string) (map[string][]string, error) {
	q, args := `SELECT user_id, organization_id FROM memberships`, []any{}
	if len(userIDs) > 0 {
		q += ` WHERE user_id IN (` + placeholders(len(userIDs)) + `)`
		for _, id := range userIDs {
			args = append(args, id)
		}
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY user_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var u, o string
		if err := rows.Scan(&u, &o); err != nil {
			return nil, err
		}
		out[u] = append(out[u], o)
	}
	return out, rows.Err()
}
