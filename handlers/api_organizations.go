package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"hookyard/store"
)

type organizationDetail struct {
	store.Organization
	Projects []store.Project `json:"projects"`
	Members  []store.User    `json:"members"`
}

func (s *Server) apiListOrganizations(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	u := currentUser(c)
	memberID := ""
	if !u.IsAdmin() {
		memberID = u.ID
	}
	orgs, next, err := s.store.ListOrganizations(c.Request().Context(), memberID, p)
	if err != nil {
		return err
	}
	return list(c, orgs, next)
}

type nameInput struct {
	Name *string `json:"name"`
}

func (s *Server) apiCreateOrganization(c echo.Context) error {
	var in nameInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	fe := fieldErrors{}
	checkTitle(fe, "name", deref(in.Name), "organisation")
	if err := validation(fe); err != nil {
		return err
	}
	o, err := s.store.CreateOrganization(c.Request().Context(), *in.Name)
	if err := orgNameConflict(err, *in.Name, fe); err != nil {
		return err
	}
	if err := validation(fe); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, organizationDetail{Organization: o, Projects: []store.Project{}, Members: []store.User{}})
}

func (s *Server) apiGetOrganization(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	o, err := s.organizationFor(ctx, u, c.Param("id"))
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
	d := organizationDetail{Organization: o, Projects: projects, Members: members}
	if d.Projects == nil {
		d.Projects = []store.Project{}
	}
	if d.Members == nil {
		d.Members = []store.User{}
	}
	return c.JSON(http.StatusOK, d)
}

func (s *Server) apiUpdateOrganization(c echo.Context) error {
	var in nameInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	o, err := s.store.Organization(ctx, c.Param("id"))
	if err != nil {
		return notFoundAs(err, "organisation")
	}
	if in.Name != nil {
		fe := fieldErrors{}
		checkTitle(fe, "name", *in.Name, "organisation")
		if err := validation(fe); err != nil {
			return err
		}
		o, err = s.store.RenameOrganization(ctx, o.ID, *in.Name)
		if err := orgNameConflict(err, *in.Name, fe); err != nil {
			return notFoundAs(err, "organisation")
		}
		if err := validation(fe); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, o)
}

func (s *Server) apiDeleteOrganization(c echo.Context) error {
	if err := s.store.DeleteOrganization(c.Request().Context(), c.Param("id")); err != nil {
		return notFoundAs(err, "organisation")
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiPutMember(c echo.Context) error {
	ctx := c.Request().Context()
	o, u, err := s.membershipParts(ctx, c.Param("id"), c.Param("userId"))
	if err != nil {
		return err
	}
	if err := s.store.AddMember(ctx, o.ID, u.ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiDeleteMember(c echo.Context) error {
	ctx := c.Request().Context()
	o, u, err := s.membershipParts(ctx, c.Param("id"), c.Param("userId"))
	if err != nil {
		return err
	}
	if err := s.store.RemoveMember(ctx, o.ID, u.ID); errors.Is(err, store.ErrNotFound) {
		return problem(http.StatusNotFound, u.Email+" is not a member of "+o.Name+".")
	} else if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
