package views

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Text that came from outside (payloads, receivers' answers, bin requests, headers) reaches a
// page only through ShowJSON and ShowHeaders: whatever its size and shape, a block shows at
// most MaxShownBytes (a header table MaxShownHeaders lines of MaxShownHeaderBytes), nested
// MaxShownDepth levels deep, reading the input once; and it says so when it leaves things out.

const (
	// MaxShownDepth is how many levels of nested JSON arrays and objects a block shows;
	// deeper ones appear as […] and {…}.
	MaxShownDepth = 32
	// MaxShownBytes is the most text one block shows.
	MaxShownBytes = 64 << 10
	// MaxShownHeaders and MaxShownHeaderBytes bound one table of headers.
	MaxShownHeaders     = 200
	MaxShownHeaderBytes = 16 << 10
)

// Cut says what a block left out and where the whole stored text is.
type Cut struct {
	Words  string // why the block is shorter than what is stored; "" when it is shown whole
	RawURL string // a download of the whole stored text; "" when there is none
}

// TextBlock is stored text ready to show.
type TextBlock struct {
	Text string
	Cut  Cut
}

// HeaderBlock is a table of stored headers ready to show, one line per name.
type HeaderBlock struct {
	Rows [][2]string
	Cut  Cut
}

// ShowJSON prepares stored text for reading in at most limit bytes: JSON indented by two
// spaces (with \u003c, \u003e and \u0026 shown as the characters they stand for), anything
// else as it is. rawURL is where the whole text can be downloaded.
func ShowJSON(raw []byte, limit int, rawURL string) TextBlock { return show(raw, limit, rawURL, true) }

// ShowExact prepares stored text to show byte for byte (a request body a reader may check a
// signature of), in at most limit bytes; bytes that are not UTF-8 show as �.
func ShowExact(raw []byte, limit int, rawURL string) TextBlock {
	return show(raw, limit, rawURL, false)
}

func show(raw []byte, limit int, rawURL string, indent bool) TextBlock {
	switch {
	case len(raw) == 0:
		return TextBlock{}
	case limit <= 0:
		return TextBlock{Cut: Cut{RawURL: rawURL, Words: fmt.Sprintf("this text (%s) is left out to keep the page small", byteSize(len(raw)))}}
	}
	var reasons []string
	var out []byte
	var full bool
	of := byteSize(len(raw))
	if indent && json.Valid(raw) {
		var deep bool
		out, deep, full = indentJSON(raw, limit)
		if deep {
			reasons = append(reasons, fmt.Sprintf("arrays and objects nested more than %d levels deep are shown as […] and {…}", MaxShownDepth))
		}
		of = "the indented text"
	} else {
		out, full = raw[:min(len(raw), limit)], len(raw) > limit
	}
	if full {
		out = trimPartialRune(out)
	}
	text := strings.ToValidUTF8(string(out), "\uFFFD")
	if len(text) > limit { // replacement characters can be longer than the bytes they replace
		text, full = string(trimPartialRune([]byte(text[:limit]))), true
	}
	if full {
		reasons = append(reasons, fmt.Sprintf("only the first %s of %s are shown", byteSize(len(text)), of))
	}
	b := TextBlock{Text: text}
	if len(reasons) > 0 {
		b.Cut = Cut{Words: strings.Join(reasons, "; "), RawURL: rawURL}
	}
	return b
}

// ShowHeaders prepares stored headers for a table, names in order, several values of one
// name joined by ", ". rawURL is where all of them can be downloaded.
func ShowHeaders(h http.Header, rawURL string) HeaderBlock {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	var b HeaderBlock
	left, cutValues := MaxShownHeaderBytes, false
	for _, k := range names {
		if len(b.Rows) == MaxShownHeaders || left < len(k) {
			break
		}
		left -= len(k)
		v := strings.Join(h[k], ", ")
		if len(v) > left {
			v, cutValues = string(trimPartialRune([]byte(v[:left])))+"…", true
		}
		left -= len(v)
		b.Rows = append(b.Rows, [2]string{k, v})
	}
	var reasons []string
	if len(b.Rows) < len(names) {
		reasons = append(reasons, fmt.Sprintf("%d of %d headers are shown", len(b.Rows), len(names)))
	}
	if cutValues {
		reasons = append(reasons, fmt.Sprintf("values are cut after %s in all", byteSize(MaxShownHeaderBytes)))
	}
	if len(reasons) > 0 {
		b.Cut = Cut{Words: strings.Join(reasons, "; "), RawURL: rawURL}
	}
	return b
}

// indentJSON indents valid JSON into at most limit bytes, showing arrays and objects deeper
// than MaxShownDepth as […] and {…}. It reports whether it left deep values out and whether
// it stopped at limit. Each input byte is looked at a bounded number of times.
func indentJSON(raw []byte, limit int) (out []byte, deep, full bool) {
	w := boundedText{buf: make([]byte, 0, min(limit, 2*len(raw)+64)), limit: limit}
	depth := 0
	for i := 0; i < len(raw) && !w.full; {
		switch c := raw[i]; c {
		case ' ', '\t', '\n', '\r':
			i++
		case '{', '[':
			if j := skipSpace(raw, i+1); j < len(raw) && raw[j] == closing(c) {
				w.writeString(string(c) + string(raw[j]))
				i = j + 1
				continue
			}
			if depth == MaxShownDepth {
				w.writeString(string(c) + "…" + string(closing(c)))
				deep, i = true, skipContainer(raw, i)
				continue
			}
			depth++
			w.write(c)
			w.newline(depth)
			i++
		case '}', ']':
			depth--
			w.newline(depth)
			w.write(c)
			i++
		case ',':
			w.write(c)
			w.newline(depth)
			i++
		case ':':
			w.writeString(": ")
			i++
		case '"':
			i = w.jsonString(raw, i)
		default: // numbers, true, false, null
			j := i
			for j < len(raw) && !strings.ContainsRune(" \t\n\r,:]}", rune(raw[j])) {
				j++
			}
			w.writeString(string(raw[i:j]))
			i = j
		}
	}
	return w.buf, deep, w.full
}

func closing(open byte) byte {
	if open == '{' {
		return '}'
	}
	return ']'
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && strings.IndexByte(" \t\n\r", raw[i]) >= 0 {
		i++
	}
	return i
}

// skipContainer returns the index just after the array or object that starts at i.
func skipContainer(raw []byte, i int) int {
	depth := 0
	for ; i < len(raw); i++ {
		switch raw[i] {
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1
			}
		case '"':
			i = skipString(raw, i) - 1
		}
	}
	return i
}

// skipString returns the index just after the string that starts at i.
func skipString(raw []byte, i int) int {
	for i++; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// boundedText collects output up to limit bytes; full says more was offered.
type boundedText struct {
	buf   []byte
	limit int
	full  bool
}

func (b *boundedText) writeString(s string) {
	if room := b.limit - len(b.buf); len(s) > room {
		b.buf, b.full = append(b.buf, s[:room]...), true
		return
	}
	b.buf = append(b.buf, s...)
}

func (b *boundedText) write(c byte) { b.writeString(string(c)) }

func (b *boundedText) newline(depth int) {
	b.writeString("\n")
	for range depth {
		b.writeString("  ")
	}
}

// jsonString writes the string that starts at i and returns the index just after it.
func (b *boundedText) jsonString(raw []byte, i int) int {
	end := skipString(raw, i)
	s := string(raw[i:end])
	if strings.Contains(s, `\u00`) {
		s = replaceHTMLEscapes(s)
	}
	b.writeString(s)
	return end
}

// replaceHTMLEscapes shows the escapes encoding/json uses to keep HTML safe as the characters
// they stand for: a page escapes text by itself.
func replaceHTMLEscapes(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			sb.WriteByte(s[i])
			continue
		}
		if i+6 <= len(s) {
			if r := htmlEscaped(strings.ToLower(s[i : i+6])); r != "" {
				sb.WriteString(r)
				i += 5
				continue
			}
		}
		sb.WriteString(s[i : i+2]) // any other escape, kept as written
		i++
	}
	return sb.String()
}

func htmlEscaped(escape string) string {
	switch escape {
	case `\u003c`:
		return "<"
	case `\u003e`:
		return ">"
	case `\u0026`:
		return "&"
	}
	return ""
}

// trimPartialRune drops a character cut in the middle at the end of b.
func trimPartialRune(b []byte) []byte {
	for n := 0; n < utf8.UTFMax-1 && len(b) > 0; n++ {
		if r, size := utf8.DecodeLastRune(b); r != utf8.RuneError || size != 1 {
			break
		}
		b = b[:len(b)-1]
	}
	return b
}

// byteSize says a size for people: "812 bytes", "64 KiB", "1.5 MiB".
func byteSize(n int) string {
	f := func(x float64, unit string) string {
		return strings.TrimSuffix(strconv.FormatFloat(x, 'f', 1, 64), ".0") + " " + unit
	}
	switch {
	case n < 1<<10:
		return plural(n, "byte", "bytes")
	case n < 1<<20:
		return f(float64(n)/(1<<10), "KiB")
	}
	return f(float64(n)/(1<<20), "MiB")
}
