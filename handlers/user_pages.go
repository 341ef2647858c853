package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"hookyard/store"
	"hookyard/views"
)

func (s *Server) usersPage(c echo.Context, status int, f views.Form) error {
	ctx := c.Request().Context()
	cursor := c.QueryParam("cursor")
	users, next, err := s.store.ListUsers(ctx, store.Page{Limit: usersPageSize, Cursor: cursor})
	if err != nil {
		return err
	}
	total, err := s.store.CountUsers(ctx)
	if err != nil {
		return err
	}
	orgs, err := s.visibleOrganizations(ctx, currentUser(c))
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, o := range orgs {
		names[o.ID] = o.Name
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	members, err := s.store.MemberOrganizations(ctx, ids...)
	if err != nil {
		return err
	}
	rows := make([]views.UserRow, len(users))
	for i, u := range users {
		rows[i].User = u
		for _, id := range members[u.ID] {
			rows[i].Organizations = append(rows[i].Organizations, names[id])
		}
	}
	return s.render(c, status, views.Users(views.UsersPage{Page: s.page(c, "Users", "users"), Rows: rows, Form: f,
		Pager: pager("/users", nil, len(rows), total, "people", cursor, next)}))
}

// usersPageSize is how many people one page of the users list shows.
const usersPageSize = 50

func (s *Server) listUsers(c echo.Context) error { return s.usersPage(c, http.StatusOK, views.Form{}) }

func (s *Server) createUser(c echo.Context) error {
	v := formValues(c, "name", "email", "password", "role")
	in := userInput{Email: v["email"], Name: v["name"], Password: v["password"], Role: v["role"]}
	if in.Role == "" {
		in.Role = string(store.RoleMember)
	}
	u, fe, err := s.addUser(c, in)
	if err != nil {
		return err
	}
	if len(fe) > 0 {
		v["password"] = ""
		return s.usersPage(c, http.StatusUnprocessableEntity, form(v, fe))
	}
	return s.redirectWithFlash(c, "/users/"+u.ID, u.Name+" can now sign in with "+u.Email+". Add them to their organisations below.")
}

// addUser validates and stores a new user; shared by the page and the API.
func (s *Server) addUser(c echo.Context, in userInput) (store.User, fieldErrors, error) {
	fe := fieldErrors{}
	in.check(fe, true)
	if len(fe) > 0 {
		return store.User{}, fe, nil
	}
	hash, err := s.store.HashPassword(in.Password)
	if err != nil {
		return store.User{}, nil, err
	}
	u := store.User{Email: in.Email, Name: in.Name, Role: store.Role(in.Role), PasswordHash: hash}
	if err := s.store.CreateUser(c.Request().Context(), &u); errors.Is(err, store.ErrConflict) {
		fe.add("email", "Someone already uses this e-mail address.")
		return u, fe, nil
	} else if err != nil {
		return u, nil, err
	}
	return u, nil, nil
}

// updateUser validates and applies a change; shared by the page and the API. Only admins
// may change roles.
func (s *Server) updateUser(c echo.Context, id string, in userInput) (store.User, fieldErrors, error) {
	fe := fieldErrors{}
	in.check(fe, false)
	if len(fe) > 0 {
		return store.User{}, fe, nil
	}
	viewer := currentUser(c)
	target, err := s.userFor(c.Request().Context(), viewer, id)
	if err != nil {
		return target, nil, err
	}
	var ch store.UserChanges
	if in.Email != "" {
		ch.Email = &in.Email
	}
	if in.Name != "" {
		ch.Name = &in.Name
	}
	if in.Role != "" && store.Role(in.Role) != target.Role {
		if !viewer.IsAdmin() {
			return target, nil, errForbidden
		}
		r := store.Role(in.Role)
		ch.Role = &r
	}
	if in.Password != "" {
		h, err := s.store.HashPassword(in.Password)
		if err != nil {
			return target, nil, err
		}
		ch.PasswordHash = &h
	}
	u, err := s.store.UpdateUser(c.Request().Context(), target.ID, ch)
	switch {
	case errors.Is(err, store.ErrConflict):
		fe.add("email", "Someone already uses this e-mail address.")
		return target, fe, nil
	case errors.Is(err, store.ErrLastAdmin):
		fe.add("role", store.ErrLastAdmin.Error())
		return target, fe, nil
	}
	if err == nil && ch.PasswordHash != nil {
		// A new password ends every session of the user; changing your own in the browser
		// keeps you signed in there.
		keep := ""
		if viewer.ID == u.ID && !isAPI(c) {
			keep = s.sessionToken(c)
		}
		err = s.store.DeleteUserSessions(c.Request().Context(), u.ID, keep)
	}
	return u, nil, err
}

type userForms struct {
	details, password views.Form
}

func (s *Server) userPage(c echo.Context, status int, id string, forms userForms) error {
	ctx := c.Request().Context()
	target, err := s.userFor(ctx, currentUser(c), id)
	if err != nil {
		return err
	}
	all, err := s.visibleOrganizations(ctx, currentUser(c))
	if err != nil {
		return err
	}
	memberships, err := s.store.MemberOrganizations(ctx)
	if err != nil {
		return err
	}
	in := map[string]bool{}
	for _, id := range memberships[target.ID] {
		in[id] = true
	}
	d := views.UserPage{Page: s.page(c, target.Name, "users"), Target: target, Form: forms.details, PasswordForm: forms.password}
	for _, o := range all {
		if in[o.ID] {
			d.Organizations = append(d.Organizations, o)
		} else {
			d.OtherOrgs = append(d.OtherOrgs, o)
		}
	}
	if d.Form.Values == nil {
		d.Form.Values = map[string]string{"name": target.Name, "email": target.Email, "role": string(target.Role)}
	}
	return s.render(c, status, views.User(d))
}

func (s *Server) showUser(c echo.Context) error {
	return s.userPage(c, http.StatusOK, c.Param("id"), userForms{})
}

func (s *Server) saveUser(c echo.Context) error {
	v := formValues(c, "name", "email", "role")
	fe := fieldErrors{}
	// The page always sends every field; an empty one is a mistake, not "unchanged".
	fe.add("name", store.ValidateName(v["name"]))
	fe.add("email", store.ValidateEmail(v["email"]))
	if len(fe) == 0 {
		u, more, err := s.updateUser(c, c.Param("id"), userInput{Email: v["email"], Name: v["name"], Role: v["role"]})
		if err != nil {
			return err
		}
		if len(more) == 0 {
			return s.redirectWithFlash(c, "/users/"+u.ID, "Saved.")
		}
		fe = more
	}
	return s.userPage(c, http.StatusUnprocessableEntity, c.Param("id"), userForms{details: form(v, fe)})
}

func (s *Server) resetPassword(c echo.Context) error {
	password := c.FormValue("password")
	fe := fieldErrors{}
	fe.add("password", store.ValidatePassword(password))
	if len(fe) == 0 {
		u, more, err := s.updateUser(c, c.Param("id"), userInput{Password: password})
		if err != nil {
			return err
		}
		if len(more) == 0 {
			return s.redirectWithFlash(c, "/users/"+u.ID, "Password changed for "+u.Name+".")
		}
		fe = more
	}
	return s.userPage(c, http.StatusUnprocessableEntity, c.Param("id"), userForms{password: form(nil, fe)})
}

func (s *Server) deleteUser(c echo.Context) error {
	u, err := s.removeUser(c, c.Param("id"))
	if err != nil {
		if errors.Is(err, store.ErrLastAdmin) {
			s.setFlash(c, "bad", store.ErrLastAdmin.Error())
			return c.Redirect(http.StatusSeeOther, "/users/"+c.Param("id"))
		}
		return err
	}
	return s.redirectWithFlash(c, "/users", u.Name+" was deleted.")
}

// removeUser deletes another user's account; shared by the page and the API.
func (s *Server) removeUser(c echo.Context, id string) (store.User, error) {
	ctx := c.Request().Context()
	if currentUser(c).ID == id {
		return store.User{}, problem(http.StatusConflict, "You cannot delete your own account while using it. Ask another admin.")
	}
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return u, notFoundAs(err, "user")
	}
	return u, s.store.DeleteUser(ctx, id)
}
