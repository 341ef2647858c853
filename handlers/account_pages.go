package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"hookyard/store"
	"hookyard/views"
)

// Everyone manages their own account here; admins manage others under /users.

type accountForms struct {
	details, password views.Form
}

func (s *Server) accountPage(c echo.Context, status int, forms accountForms) error {
	u := currentUser(c)
	if forms.details.Values == nil {
		forms.details.Values = map[string]string{"name": u.Name, "email": u.Email}
	}
	return s.render(c, status, views.Account(views.AccountPage{
		Page: s.page(c, "Your account", "account"), Form: forms.details, PasswordForm: forms.password,
	}))
}

func (s *Server) showAccount(c echo.Context) error {
	return s.accountPage(c, http.StatusOK, accountForms{})
}

func (s *Server) saveAccount(c echo.Context) error {
	v := formValues(c, "name", "email")
	fe := fieldErrors{}
	fe.add("name", store.ValidateName(v["name"]))
	fe.add("email", store.ValidateEmail(v["email"]))
	if len(fe) == 0 {
		_, more, err := s.updateUser(c, currentUser(c).ID, userInput{Name: v["name"], Email: v["email"]})
		if err != nil {
			return err
		}
		if len(more) == 0 {
			return s.redirectWithFlash(c, "/account", "Saved.")
		}
		fe = more
	}
	return s.accountPage(c, http.StatusUnprocessableEntity, accountForms{details: form(v, fe)})
}

func (s *Server) changePassword(c echo.Context) error {
	u := currentUser(c)
	current, password := c.FormValue("current_password"), c.FormValue("password")
	fe := fieldErrors{}
	if current == "" {
		fe.add("current_password", "Enter your current password.")
	} else if ok, throttled := s.checkPassword(c, u.ID, u.PasswordHash, current); throttled != nil {
		return s.accountPage(c, http.StatusTooManyRequests, accountForms{password: views.Form{
			Message: "Too many password attempts. Nothing was changed; wait " + throttled.waitText() + ", then try again."}})
	} else if !ok {
		fe.add("current_password", "This is not your current password.")
	}
	fe.add("password", store.ValidatePassword(password))
	if len(fe) == 0 {
		_, more, err := s.updateUser(c, u.ID, userInput{Password: password})
		if err != nil {
			return err
		}
		if len(more) == 0 {
			return s.redirectWithFlash(c, "/account", "Password changed. Other devices were signed out.")
		}
		fe = more
	}
	return s.accountPage(c, http.StatusUnprocessableEntity, accountForms{password: form(nil, fe)})
}
