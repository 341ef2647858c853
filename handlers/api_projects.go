package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"hookyard/store"
)

func (s *Server) apiListProjects(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	u := currentUser(c)
	f := store.ProjectFilter{OrganizationID: c.QueryParam("organizationId")}
	if !u.IsAdmin() {
		f.MemberID = u.ID
	}
	projects, next, err := s.store.ListProjects(c.Request().Context(), f, p)
	if err != nil {
		return err
	}
	return list(c, projects, next)
}

func (s *Server) apiCreateProject(c echo.Context) error {
	var in struct {
		OrganizationID *string `json:"organizationId"`
		Name           *string `json:"name"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	fe := fieldErrors{}
	checkTitle(fe, "name", deref(in.Name), "project")
	if deref(in.OrganizationID) == "" {
		fe.add("organizationId", "Give the id of the organisation the project belongs to.")
	}
	if err := validation(fe); err != nil {
		return err
	}
	p, err := s.store.CreateProject(c.Request().Context(), *in.OrganizationID, *in.Name)
	if errors.Is(err, store.ErrNotFound) {
		fe.add("organizationId", "There is no organisation with this id.")
		return validation(fe)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

func (s *Server) apiGetProject(c echo.Context) error {
	p, err := s.projectFor(c.Request().Context(), currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (s *Server) apiUpdateProject(c echo.Context) error {
	var in nameInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := s.store.Project(ctx, c.Param("id"))
	if err != nil {
		return notFoundAs(err, "project")
	}
	if in.Name != nil {
		fe := fieldErrors{}
		checkTitle(fe, "name", *in.Name, "project")
		if err := validation(fe); err != nil {
			return err
		}
		if p, err = s.store.RenameProject(ctx, p.ID, *in.Name); err != nil {
			return notFoundAs(err, "project")
		}
	}
	return c.JSON(http.StatusOK, p)
}

func (s *Server) apiDeleteProject(c echo.Context) error {
	if err := s.store.DeleteProject(c.Request().Context(), c.Param("id")); err != nil {
		return notFoundAs(err, "project")
	}
	return c.NoContent(http.StatusNoContent)
}
