package delivery

import (
	"net/http"
	"sort"
	"unicode/utf8"
)

// MaxStoredHeaders is the most of one request's or one answer's headers that is kept
// (SPEC §2), measured as stored: the JSON of the header map.
const MaxStoredHeaders = 16 << 10

// CapHeaders returns a copy of h whose JSON takes at most limit bytes, and whether anything
// was left out. Names are taken in sorted order, so the same headers always keep the same
// part; a value that does not fit whole is cut at a character boundary and ends in "…", and
// names that do not fit any more are left out.
func CapHeaders(h http.Header, limit int) (http.Header, bool) {
	names := make([]string, 0, len(h))
	for k, vs := range h {
		if len(vs) > 0 {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	out := make(http.Header, len(names))
	used, cut := len(`{}`), false
	for _, k := range names {
		nameCost := jsonStringCost(k) + len(`:[],`)
		for _, v := range h[k] {
			need := len(`,`) + jsonStringCost(v)
			if _, started := out[k]; !started {
				need += nameCost
			}
			if used+need <= limit {
				out[k] = append(out[k], v)
				used += need
				continue
			}
			cut = true
			// Cut a value rather than lose it, when at least a useful part of it fits.
			room := limit - used - (need - jsonStringCost(v)) - len(`""…`)
			if room < 64 {
				continue
			}
			prefix := prefixCosting(v, room)
			out[k] = append(out[k], prefix+"…")
			used += need - jsonStringCost(v) + jsonStringCost(prefix+"…")
		}
	}
	return out, cut
}

// jsonStringCost is an upper bound of the length of s encoded as a JSON string by
// encoding/json: quotes, and up to six bytes for a character it escapes.
func jsonStringCost(s string) int {
	n := len(`""`)
	for i := 0; i < len(s); {
		_, size := utf8.DecodeRuneInString(s[i:])
		n += runeCost(s[i : i+size])
		i += size
	}
	return n
}

// prefixCosting is the longest prefix of s, whole characters only, whose characters cost at
// most room bytes in JSON.
func prefixCosting(s string, room int) string {
	i := 0
	for i < len(s) {
		_, size := utf8.DecodeRuneInString(s[i:])
		c := runeCost(s[i : i+size])
		if c > room {
			break
		}
		room -= c
		i += size
	}
	return s[:i]
}

// runeCost bounds the JSON encoding of one character (or one invalid byte, which becomes
// \ufffd).
func runeCost(ch string) int {
	r, size := utf8.DecodeRuneInString(ch)
	switch {
	case r == utf8.RuneError && size == 1, r < 0x20, r == '<', r == '>', r == '&', r == '\u2028', r == '\u2029':
		return len(`\u0000`)
	case r == '"', r == '\\':
		return 2
	}
	return size
}
