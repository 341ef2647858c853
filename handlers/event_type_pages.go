package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"hookyard/store"
	"hookyard/views"
)

func (s *Server) eventTypesPage(c echo.Context, status int, f views.Form) error {
	types, err := s.store.ListEventTypes(c.Request().Context())
	if err != nil {
		return err
	}
	var groups []views.EventTypeGroup
	index := map[string]int{}
	for _, t := range types {
		i, ok := index[t.Category]
		if !ok {
			i = len(groups)
			index[t.Category] = i
			groups = append(groups, views.EventTypeGroup{Category: t.Category})
		}
		groups[i].Types = append(groups[i].Types, t)
	}
	return s.render(c, status, views.EventTypes(views.EventTypesPage{
		Page: s.page(c, "Event types", "event-types"), Groups: groups, Form: f,
	}))
}

func (s *Server) listEventTypes(c echo.Context) error {
	return s.eventTypesPage(c, http.StatusOK, views.Form{})
}

func (s *Server) createEventType(c echo.Context) error {
	v := formValues(c, "name", "label", "category", "description")
	t, fe, err := s.addEventType(c, eventTypeInput{Name: v["name"], Label: v["label"], Category: v["category"], Description: v["description"]})
	if err != nil {
		return err
	}
	if len(fe) > 0 {
		return s.eventTypesPage(c, http.StatusUnprocessableEntity, form(v, fe))
	}
	return s.redirectWithFlash(c, "/event-types", "Added "+t.Label+" ("+t.Name+").")
}

// addEventType validates and stores a custom event type; shared by the page and the API.
func (s *Server) addEventType(c echo.Context, in eventTypeInput) (store.EventType, fieldErrors, error) {
	fe := fieldErrors{}
	in.check(fe)
	if len(fe) > 0 {
		return store.EventType{}, fe, nil
	}
	t, err := s.store.CreateEventType(c.Request().Context(), store.EventType{
		Name: in.Name, Label: in.Label, Category: in.Category, Description: in.Description,
	})
	if errors.Is(err, store.ErrConflict) {
		fe.add("name", "An event type with this name already exists.")
		return t, fe, nil
	}
	return t, nil, err
}

// eventCatalogPage shows what a receiver gets for every event type (the OpenAPI document's
// webhooks, for people).
func (s *Server) eventCatalogPage(c echo.Context) error {
	entries, err := s.eventCatalog(c.Request().Context())
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.EventCatalog(views.EventCatalogPage{
		Page: s.page(c, "Event catalog", "event-types"), Entries: catalogPage(entries),
	}))
}
