package store

import (
	"context"
	"strings"
	"time"
)

// Project belongs to one organisation; events happen in a project.
type Project struct {
	ID               string    `json:"id"`
	OrganizationID   string    `json:"organizationId"`
	OrganizationName string    `json:"organizationName"`
	Name             string    `json:"name"`
	CreatedAt        time.Time `json:"createdAt"`
	UpdatedAt        time.Time `json:"updatedAt"`
}

const projectSelect = `SELECT p.id, p.organization_id, o.name, p.name, p.created_at, p.updated_at
	FROM projects p JOIN organizations o ON o.id = p.organization_id`

func scanProject(row scanner) (Project, error) {
	var p Project
	var created, updated int64
	err := row.Scan(&p.ID, &p.OrganizationID, &p.OrganizationName, &p.Name, &created, &updated)
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return p, notFound(err)
}

// CreateProject stores a new project in an organisation; ErrNotFound if the organisation is gone.
func (s *Store) CreateProject(ctx context.Context, orgID, name string) (Project, error) {
	now := s.nowMS()
	id := s.newID("prj", now)
	res, err := s.write.ExecContext(ctx, `INSERT INTO projects (id, organization_id, name, created_at, updated_at)
		SELECT ?, id, ?, CAST(? AS BIGINT), CAST(? AS BIGINT) FROM organizations WHERE id = ?`, id, name, now, now, orgID)
	if err := checkAffected(res, err); err != nil {
		return Project{}, err
	}
	return scanProject(s.write.QueryRowContext(ctx, projectSelect+` WHERE p.id = ?`, id))
}

// Project returns one project or ErrNotFound.
func (s *Store) Project(ctx context.Context, id string) (Project, error) {
	return scanProject(s.read.QueryRowContext(ctx, projectSelect+` WHERE p.id = ?`, id))
}

// ProjectFilter narrows a project list; empty fields do not filter.
type ProjectFilter struct {
	OrganizationID string
	MemberID       string // only projects of organisations this user belongs to
}

// ListProjects returns one page of projects in creation order.
func (s *Store) ListProjects(ctx context.Context, f ProjectFilter, p Page) ([]Project, string, error) {
	p, err := p.forList("prj")
	if err != nil {
		return nil, "", err
	}
	where := []string{`p.id > ?`}
	args := []any{p.Cursor}
	if f.OrganizationID != "" {
		where = append(where, `p.organization_id = ?`)
		args = append(args, f.OrganizationID)
	}
	if f.MemberID != "" {
		where = append(where, `p.organization_id IN (SELECT organization_id FROM memberships WHERE user_id = ?)`)
		args = append(args, f.MemberID)
	}
	rows, err := s.read.QueryContext(ctx, projectSelect+` WHERE `+strings.Join(where, ` AND `)+
		` ORDER BY p.id LIMIT ?`, append(args, p.Limit+1)...)
	return collectPage(rows, err, p, scanProject, func(pr Project) string { return pr.ID })
}

// CountProjects returns how many projects exist.
func (s *Store) CountProjects(ctx context.Context) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM projects`).Scan(&n)
	return n, err
}

// RenameProject changes a project's name.
func (s *Store) RenameProject(ctx context.Context, id, name string) (Project, error) {
	if err := checkAffected(s.write.ExecContext(ctx,
		`UPDATE projects SET name = ?, updated_at = ? WHERE id = ?`, name, s.nowMS(), id)); err != nil {
		return Project{}, err
	}
	return scanProject(s.write.QueryRowContext(ctx, projectSelect+` WHERE p.id = ?`, id))
}

// DeleteProject removes a project.
func (s *Store) DeleteProject(ctx context.Context, id string) error {
	return checkAffected(s.write.ExecContext(ctx, `DELETE FROM projects WHERE id = ?`, id))
}
