package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"hookyard/views"
)

func (s *Server) dashboard(c echo.Context) error {
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
	types, err := s.store.ListEventTypes(ctx)
	if err != nil {
		return err
	}
	tokens, err := s.store.ListTokens(ctx, u.ID)
	if err != nil {
		return err
	}
	users := 0
	if u.IsAdmin() {
		if users, err = s.store.CountUsers(ctx); err != nil {
			return err
		}
	}
	subscribable := 0
	for _, t := range types {
		if t.Subscribable {
			subscribable++
		}
	}
	return s.render(c, http.StatusOK, views.Dashboard(views.DashboardPage{
		Page: s.page(c, "Dashboard", "dashboard"), Organizations: len(orgs), Projects: len(projects),
		EventTypes: subscribable, Tokens: len(tokens), Users: users,
	}))
}
