package handlers

import (
	"errors"
	"strings"

	"hookyard/store"
)

// Validation rules shared by the browser forms and the API, so both say the same thing.
// Every name a person gives something goes through checkName (store.NameProblem): valid
// UTF-8, something visible, no control characters, a bounded length.

// checkName checks a name of up to max characters; ifBlank says what to enter instead.
func checkName(fe fieldErrors, field, value, ifBlank string, max int) {
	fe.add(field, store.NameProblem(value, ifBlank, max))
}

// checkTitle checks the name of an organisation, project or token.
func checkTitle(fe fieldErrors, field, value, what string) {
	checkName(fe, field, value, "Enter a name for the "+what+".", 100)
}

// checkWebhookName checks a webhook's name.
func checkWebhookName(fe fieldErrors, value string) {
	checkName(fe, "name", value, "Give the webhook a name, e.g. “CRM sync”.", 100)
}

// checkText checks optional free text (a description): valid UTF-8 without control
// characters other than line breaks and tabs, at most max characters.
func checkText(fe fieldErrors, field, value string, max int) {
	if value == "" {
		return
	}
	fe.add(field, store.NameProblem(strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(value), "", max))
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
	checkName(fe, "label", in.Label, "Enter a label in plain words, e.g. “Invoice paid”.", 100)
	if in.Category != "" {
		checkName(fe, "category", in.Category, "Leave the category empty or give it a name.", 50)
	}
	checkText(fe, "description", in.Description, 300)
}

// orgNameConflict turns the store's refusal of an organisation name another one has into the
// field error a person can fix; other errors pass through.
func orgNameConflict(err error, name string, fe fieldErrors) error {
	if errors.Is(err, store.ErrConflict) {
		fe.add("name", "There is already an organisation called “"+strings.TrimSpace(name)+"”. Choose another name.")
		return nil
	}
	return err
}
