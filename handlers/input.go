package handlers

import (
	"strings"
	"unicode/utf8"

	"hookyard/store"
)

// Validation rules shared by the browser forms and the API, so both say the same thing.

func checkTitle(fe fieldErrors, field, value, what string) {
	switch {
	case strings.TrimSpace(value) == "":
		fe.add(field, "Enter a name for the "+what+".")
	case utf8.RuneCountInString(value) > 100:
		fe.add(field, "Use at most 100 characters.")
	}
}

// userInput is a new user or a change to one; empty strings mean "not given" on updates.
type userInput struct {
	Email    string
	Name     string
	Password string
	Role     string
}

func (in userInput) check(fe fieldErrors, creating bool) {
	if creating || in.Email != "" {
		fe.add("email", store.ValidateEmail(in.Email))
	}
	if creating || in.Name != "" {
		fe.add("name", store.ValidateName(in.Name))
	}
	if creating || in.Password != "" {
		fe.add("password", store.ValidatePassword(in.Password))
	}
	if in.Role != "" && !store.Role(in.Role).Valid() {
		fe.add("role", `Choose "admin" or "member".`)
	}
}

// eventTypeInput is a custom event type.
type eventTypeInput struct {
	Name, Label, Category, Description string
}

func (in eventTypeInput) check(fe fieldErrors) {
	switch {
	case in.Name == "":
		fe.add("name", "Enter a name such as INVOICE_PAID.")
	case !store.EventTypeNamePattern.MatchString(in.Name):
		fe.add("name", "Use 3 to 64 capital letters, digits or _, starting with a letter (e.g. INVOICE_PAID).")
	}
	switch {
	case strings.TrimSpace(in.Label) == "":
		fe.add("label", "Enter a label in plain words, e.g. “Invoice paid”.")
	case utf8.RuneCountInString(in.Label) > 100:
		fe.add("label", "Use at most 100 characters.")
	}
	if utf8.RuneCountInString(in.Category) > 50 {
		fe.add("category", "Use at most 50 characters.")
	}
	if utf8.RuneCountInString(in.Description) > 300 {
		fe.add("description", "Use at most 300 characters.")
	}
}
