package delivery

import (
	"fmt"
	"net/textproto"
	"slices"
	"sort"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Extra request headers (SPEC §9): a webhook may add up to MaxCustomHeaders headers of its
// own to every request, but none that Hookyard sets itself or that belong to the connection.

// MaxCustomHeaders is the most extra headers one webhook may have.
const MaxCustomHeaders = 20

// maxCustomHeaderValue bounds one value (the stored request headers are capped at 16 KiB).
const maxCustomHeaderValue = 1000

// hopByHop are the headers of one connection, which a proxy or the HTTP client itself sets.
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection",
	"Te", "Trailer", "Trailers", "Transfer-Encoding", "Upgrade"}

// ownHeaders are the headers every request carries from Hookyard itself (SPEC §2).
var ownHeaders = []string{"Content-Type", "User-Agent", "X-Signature"}

// HeaderProblem says why an extra header is refused, in plain words ("" when it is fine).
func HeaderProblem(name, value string) string {
	canon := textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name))
	lower := strings.ToLower(canon)
	switch {
	case name == "":
		return "Give the header a name."
	case !httpguts.ValidHeaderFieldName(name):
		return fmt.Sprintf("%q is not a header name: use letters, digits and - (e.g. X-Api-Key).", name)
	case slices.Contains(ownHeaders, canon), strings.HasPrefix(lower, "webhook-"), strings.HasPrefix(lower, "x-hookyard-"):
		return canon + " is set by Hookyard itself on every request (it carries the signature, event and attempt), so it cannot be replaced."
	case canon == "Host":
		return "Host is taken from the webhook's URL; change the URL instead."
	case canon == "Content-Length":
		return "Content-Length is worked out from the body of each request."
	case slices.Contains(hopByHop, canon):
		return canon + " belongs to the connection (a hop-by-hop header), which Hookyard's HTTP client manages; it cannot be set."
	case !httpguts.ValidHeaderFieldValue(value):
		return "The value of " + canon + " contains line breaks or other control characters."
	case len(value) > maxCustomHeaderValue:
		return fmt.Sprintf("The value of %s is %d characters long; at most %d are allowed.", canon, len(value), maxCustomHeaderValue)
	}
	return ""
}

// CheckHeaders lists what is wrong with a webhook's extra headers, by header name in order.
func CheckHeaders(h map[string]string) []string {
	var problems []string
	if len(h) > MaxCustomHeaders {
		problems = append(problems, fmt.Sprintf("A webhook may have at most %d extra headers; these are %d.", MaxCustomHeaders, len(h)))
	}
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	seen := map[string]string{}
	for _, k := range names {
		if p := HeaderProblem(k, h[k]); p != "" {
			problems = append(problems, p)
			continue
		}
		canon := textproto.CanonicalMIMEHeaderKey(k)
		if other, dup := seen[canon]; dup {
			problems = append(problems, fmt.Sprintf("%s and %s are the same header (names ignore case): give it once.", other, k))
		}
		seen[canon] = k
	}
	return problems
}
