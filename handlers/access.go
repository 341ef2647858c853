package handlers

import (
	"context"
	"errors"
	"sort"
	"strings"

	"hookyard/store"
)

// Authorisation rules, one place for the pages and the API alike.

// organizationFor returns an organisation the user may see, or a 404 problem (members never
// learn whether another organisation exists).
func (s *Server) organizationFor(ctx context.Context, u *store.User, id string) (store.Organization, error) {
	o, err := s.store.Organization(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return o, errNotFound("organisation")
	}
	if err != nil || u.IsAdmin() {
		return o, err
	}
	member, err := s.store.IsMember(ctx, id, u.ID)
	if err != nil {
		return o, err
	}
	if !member {
		return o, errNotFound("organisation")
	}
	return o, nil
}

// projectFor returns a project the user may see, or a 404 problem.
func (s *Server) projectFor(ctx context.Context, u *store.User, id string) (store.Project, error) {
	p, err := s.store.Project(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return p, errNotFound("project")
	}
	if err != nil {
		return p, err
	}
	if _, err := s.organizationFor(ctx, u, p.OrganizationID); err != nil {
		if errors.Is(err, store.ErrNotFound) || isProblemStatus(err, 404) {
			return p, errNotFound("project")
		}
		return p, err
	}
	return p, nil
}

// userFor returns a user account the viewer may see: admins see all, members only themselves.
func (s *Server) userFor(ctx context.Context, viewer *store.User, id string) (store.User, error) {
	if !viewer.IsAdmin() && viewer.ID != id {
		return store.User{}, errNotFound("user")
	}
	u, err := s.store.UserByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return u, errNotFound("user")
	}
	return u, err
}

// visibleOrganizations lists what the user can see, by name.
func (s *Server) visibleOrganizations(ctx context.Context, u *store.User) ([]store.Organization, error) {
	memberID := ""
	if !u.IsAdmin() {
		memberID = u.ID
	}
	orgs, err := allPages(func(p store.Page) ([]store.Organization, string, error) {
		return s.store.ListOrganizations(ctx, memberID, p)
	})
	sort.SliceStable(orgs, func(i, j int) bool { return strings.ToLower(orgs[i].Name) < strings.ToLower(orgs[j].Name) })
	return orgs, err
}

// visibleProjects lists the projects the user can see, by name.
func (s *Server) visibleProjects(ctx context.Context, u *store.User, orgID string) ([]store.Project, error) {
	f := store.ProjectFilter{OrganizationID: orgID}
	if !u.IsAdmin() {
		f.MemberID = u.ID
	}
	ps, err := allPages(func(p store.Page) ([]store.Project, string, error) {
		return s.store.ListProjects(ctx, f, p)
	})
	sort.SliceStable(ps, func(i, j int) bool { return strings.ToLower(ps[i].Name) < strings.ToLower(ps[j].Name) })
	return ps, err
}

// allPages walks a paged list to its end; pages show whole lists of modest size.
func allPages[T any](list func(store.Page) ([]T, string, error)) ([]T, error) {
	var out []T
	p := store.Page{Limit: 500}
	for {
		rows, next, err := list(p)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
		if next == "" {
			return out, nil
		}
		p.Cursor = next
	}
}

func isProblemStatus(err error, status int) bool {
	var p *Problem
	return errors.As(err, &p) && p.Status == status
}
