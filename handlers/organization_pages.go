package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"hookyard/store"
	"hookyard/views"
)

func (s *Server) organizationsPage(c echo.Context, status int, f views.Form) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	orgs, err := s.visibleOrganizations(ctx, u)
	if err != nil {
		return err
	}
	projects, err := s.visibleProjects(ctx, u, "")
	if err != nil {
		return err
	}
	members, err := s.store.MemberOrganizations(ctx)
	if err != nil {
		return err
	}
	count := map[string]int{}
	for _, orgIDs := range members {
		for _, id := range orgIDs {
			count[id]++
		}
	}
	rows := make([]views.OrganizationRow, len(orgs))
	byOrg := map[string]int{}
	for i, o := range orgs {
		rows[i] = views.OrganizationRow{Org: o, Members: count[o.ID]}
		byOrg[o.ID] = i
	}
	for _, p := range projects {
		if i, ok := byOrg[p.OrganizationID]; ok {
			rows[i].Projects = append(rows[i].Projects, p)
		}
	}
	return s.render(c, status, views.Organizations(views.OrganizationsPage{
		Page: s.page(c, "Organisations", "organizations"), Rows: rows, Form: f,
	}))
}

func (s *Server) listOrganizations(c echo.Context) error {
	return s.organizationsPage(c, http.StatusOK, views.Form{})
}

func (s *Server) createOrganization(c echo.Context) error {
	v := formValues(c, "name")
	fe := fieldErrors{}
	checkTitle(fe, "name", v["name"], "organisation")
	if len(fe) > 0 {
		return s.organizationsPage(c, http.StatusUnprocessableEntity, form(v, fe))
	}
	o, err := s.store.CreateOrganization(c.Request().Context(), v["name"])
	if err := orgNameConflict(err, v["name"], fe); err != nil {
		return err
	}
	if len(fe) > 0 {
		return s.organizationsPage(c, http.StatusUnprocessableEntity, form(v, fe))
	}
	return s.redirectWithFlash(c, "/organizations/"+o.ID, o.Name+" was created. Now add its projects.")
}

// organizationForms are the forms of the organisation page that may come back with errors.
type organizationForms struct {
	rename, project, editProject views.Form
}

func (s *Server) organizationPage(c echo.Context, status int, id string, forms organizationForms) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	o, err := s.organizationFor(ctx, u, id)
	if err != nil {
		return err
	}
	projects, err := s.visibleProjects(ctx, u, o.ID)
	if err != nil {
		return err
	}
	members, err := s.store.Members(ctx, o.ID)
	if err != nil {
		return err
	}
	var nonMembers []store.User
	if u.IsAdmin() {
		all, err := allPages(func(p store.Page) ([]store.User, string, error) { return s.store.ListUsers(ctx, p) })
		if err != nil {
			return err
		}
		isMember := map[string]bool{}
		for _, m := range members {
			isMember[m.ID] = true
		}
		for _, x := range all {
			// Admins already see every organisation; membership means nothing for them.
			if !isMember[x.ID] && !x.IsAdmin() {
				nonMembers = append(nonMembers, x)
			}
		}
	}
	if forms.rename.Values == nil {
		forms.rename.Values = map[string]string{"name": o.Name}
	}
	return s.render(c, status, views.Organization(views.OrganizationPage{
		Page: s.page(c, o.Name, "organizations"), Org: o, Projects: projects, Members: members,
		NonMembers: nonMembers, RenameForm: forms.rename, ProjectForm: forms.project, EditProject: forms.editProject,
	}))
}

func (s *Server) showOrganization(c echo.Context) error {
	return s.organizationPage(c, http.StatusOK, c.Param("id"), organizationForms{})
}

func (s *Server) renameOrganization(c echo.Context) error {
	v := formValues(c, "name")
	fe := fieldErrors{}
	checkTitle(fe, "name", v["name"], "organisation")
	if len(fe) > 0 {
		return s.organizationPage(c, http.StatusUnprocessableEntity, c.Param("id"), organizationForms{rename: form(v, fe)})
	}
	o, err := s.store.RenameOrganization(c.Request().Context(), c.Param("id"), v["name"])
	if err := orgNameConflict(err, v["name"], fe); err != nil {
		return notFoundAs(err, "organisation")
	}
	if len(fe) > 0 {
		return s.organizationPage(c, http.StatusUnprocessableEntity, c.Param("id"), organizationForms{rename: form(v, fe)})
	}
	return s.redirectWithFlash(c, "/organizations/"+o.ID, "Renamed to "+o.Name+".")
}

func (s *Server) deleteOrganization(c echo.Context) error {
	ctx := c.Request().Context()
	o, err := s.store.Organization(ctx, c.Param("id"))
	if err != nil {
		return notFoundAs(err, "organisation")
	}
	if err := s.store.DeleteOrganization(ctx, o.ID); err != nil {
		return notFoundAs(err, "organisation")
	}
	return s.redirectWithFlash(c, "/organizations", o.Name+" and its projects were deleted.")
}

func (s *Server) createProject(c echo.Context) error {
	orgID := c.Param("id")
	v := formValues(c, "project_name")
	fe := fieldErrors{}
	checkTitle(fe, "project_name", v["project_name"], "project")
	if len(fe) > 0 {
		return s.organizationPage(c, http.StatusUnprocessableEntity, orgID, organizationForms{project: form(v, fe)})
	}
	p, err := s.store.CreateProject(c.Request().Context(), orgID, v["project_name"])
	if err != nil {
		return notFoundAs(err, "organisation")
	}
	return s.redirectWithFlash(c, "/organizations/"+orgID, "Project "+p.Name+" was added.")
}

func (s *Server) renameProject(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := s.store.Project(ctx, c.Param("id"))
	if err != nil {
		return notFoundAs(err, "project")
	}
	v := formValues(c, "name")
	fe := fieldErrors{}
	checkTitle(fe, "name", v["name"], "project")
	if len(fe) > 0 {
		v["id"] = p.ID
		return s.organizationPage(c, http.StatusUnprocessableEntity, p.OrganizationID, organizationForms{editProject: form(v, fe)})
	}
	p, err = s.store.RenameProject(ctx, p.ID, v["name"])
	if err != nil {
		return notFoundAs(err, "project")
	}
	return s.redirectWithFlash(c, "/organizations/"+p.OrganizationID, "Project renamed to "+p.Name+".")
}

func (s *Server) deleteProject(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := s.store.Project(ctx, c.Param("id"))
	if err != nil {
		return notFoundAs(err, "project")
	}
	if err := s.store.DeleteProject(ctx, p.ID); err != nil {
		return notFoundAs(err, "project")
	}
	return s.redirectWithFlash(c, "/organizations/"+p.OrganizationID, "Project "+p.Name+" was deleted.")
}

func (s *Server) addMember(c echo.Context) error {
	return s.addMembership(c, c.Param("id"), c.FormValue("user_id"), "/organizations/"+c.Param("id"))
}

func (s *Server) addUserToOrganization(c echo.Context) error {
	return s.addMembership(c, c.FormValue("organization_id"), c.Param("id"), "/users/"+c.Param("id"))
}

func (s *Server) addMembership(c echo.Context, orgID, userID, back string) error {
	ctx := c.Request().Context()
	o, u, err := s.membershipParts(ctx, orgID, userID)
	if err != nil {
		return err
	}
	if err := s.store.AddMember(ctx, o.ID, u.ID); err != nil {
		return err
	}
	return s.redirectWithFlash(c, back, u.Name+" is now a member of "+o.Name+".")
}

func (s *Server) removeMember(c echo.Context) error {
	ctx := c.Request().Context()
	o, u, err := s.membershipParts(ctx, c.Param("id"), c.Param("userId"))
	if err != nil {
		return err
	}
	if err := s.store.RemoveMember(ctx, o.ID, u.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	back := "/organizations/" + o.ID
	if b := c.FormValue("back"); b == "/users/"+u.ID {
		back = b
	}
	return s.redirectWithFlash(c, back, u.Name+" is no longer a member of "+o.Name+".")
}

func (s *Server) membershipParts(ctx context.Context, orgID, userID string) (store.Organization, store.User, error) {
	o, err := s.store.Organization(ctx, orgID)
	if err != nil {
		return o, store.User{}, notFoundAs(err, "organisation")
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return o, u, notFoundAs(err, "user")
	}
	return o, u, nil
}

// notFoundAs names the missing thing in a store.ErrNotFound.
func notFoundAs(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound(strings.TrimSpace(what))
	}
	return err
}
