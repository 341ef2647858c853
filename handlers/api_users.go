package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"hookyard/store"
)

type userDetail struct {
	store.User
	OrganizationIDs []string `json:"organizationIds"`
}

func (s *Server) userDetail(c echo.Context, u store.User) (userDetail, error) {
	m, err := s.store.MemberOrganizations(c.Request().Context(), u.ID)
	if err != nil {
		return userDetail{}, err
	}
	d := userDetail{User: u, OrganizationIDs: m[u.ID]}
	if d.OrganizationIDs == nil {
		d.OrganizationIDs = []string{}
	}
	return d, nil
}

type userJSON struct {
	Email    *string `json:"email"`
	Name     *string `json:"name"`
	Password *string `json:"password"`
	Role     *string `json:"role"`
	// CurrentPassword is required to change one's own password, so a leaked API token alone
	// cannot take the account over.
	CurrentPassword *string `json:"currentPassword"`
}

func (in userJSON) input() userInput {
	return userInput{Email: deref(in.Email), Name: deref(in.Name), Password: deref(in.Password), Role: deref(in.Role)}
}

func (s *Server) apiListUsers(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	users, next, err := s.store.ListUsers(c.Request().Context(), p)
	if err != nil {
		return err
	}
	return list(c, users, next)
}

func (s *Server) apiCreateUser(c echo.Context) error {
	var in userJSON
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	ui := in.input()
	if ui.Role == "" {
		ui.Role = string(store.RoleMember)
	}
	u, fe, err := s.addUser(c, ui)
	if err != nil {
		return err
	}
	if err := validation(fe); err != nil {
		return err
	}
	d, err := s.userDetail(c, u)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, d)
}

func (s *Server) apiGetUser(c echo.Context) error {
	u, err := s.userFor(c.Request().Context(), currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	d, err := s.userDetail(c, u)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (s *Server) apiUpdateUser(c echo.Context) error {
	var in userJSON
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	fe := fieldErrors{}
	// A field sent empty is a mistake, not "leave unchanged".
	for field, v := range map[string]*string{"email": in.Email, "name": in.Name, "password": in.Password, "role": in.Role} {
		if v != nil && *v == "" {
			fe.add(field, "Must not be empty; leave the field out to keep it as it is.")
		}
	}
	// Admins resetting someone else's password check no password.
	if viewer := currentUser(c); in.Password != nil && viewer.ID == c.Param("id") {
		const need = "To change your own password, also send your current password as currentPassword."
		if deref(in.CurrentPassword) == "" {
			fe.add("currentPassword", need)
		} else if ok, throttled := s.checkPassword(c, viewer.ID, viewer.PasswordHash, *in.CurrentPassword); throttled != nil {
			return throttled.problem("currentPassword")
		} else if !ok {
			fe.add("currentPassword", need)
		}
	}
	if err := validation(fe); err != nil {
		return err
	}
	u, fe, err := s.updateUser(c, c.Param("id"), in.input())
	if err != nil {
		return err
	}
	if err := validation(fe); err != nil {
		return err
	}
	d, err := s.userDetail(c, u)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (s *Server) apiDeleteUser(c echo.Context) error {
	if _, err := s.removeUser(c, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
