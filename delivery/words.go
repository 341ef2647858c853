package delivery

import (
	"regexp"
)

// eventNameInText finds what could be an event type's API name inside a sentence.
var eventNameInText = regexp.MustCompile(`\b[A-Z][A-Z0-9_]{2,63}\b`)

// NamesInWords rewrites a sentence meant for people, such as a switch-off reason that names
// the event type by its API name ("5 attempts failed for TODO_MOVED: HTTP 500"), with each
// known type's label in quotes instead. Stored texts keep the API name for developers;
// pages and e-mails show this. label reports a type's label, false for an unknown name.
func NamesInWords(text string, label func(name string) (string, bool)) string {
	return eventNameInText.ReplaceAllStringFunc(text, func(name string) string {
		if l, ok := label(name); ok {
			return "“" + l + "”"
		}
		return name
	})
}
