package views_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"hookyard/views"
)

func nested(open, close string, depth int) string {
	return strings.Repeat(open, depth) + "1" + strings.Repeat(close, depth)
}

// adversarialShapes are documents whose naive pretty-printing is huge or slow.
func adversarialShapes() map[string]string {
	return map[string]string{
		"deep arrays":          nested("[", "]", 9000),
		"deeper than Go reads": nested("[", "]", 100_000),
		"deep objects":         nested(`{"a":`, "}", 9000),
		"wide array":           "[" + strings.TrimSuffix(strings.Repeat("1,", 200_000), ",") + "]",
		"many small nests":     "[" + strings.TrimSuffix(strings.Repeat(nested("[", "]", 40)+",", 2000), ",") + "]",
		"long string":          `"` + strings.Repeat("é", 500_000) + `"`,
		"long escapes":         `"` + strings.Repeat(`\u0026`, 100_000) + `"`,
		"invalid JSON":         "{" + strings.Repeat(`"a":[`, 50_000),
		"invalid UTF-8":        strings.Repeat("\xff\xfe", 100_000),
	}
}

// Whatever the shape, a block is at most MaxShownBytes of valid UTF-8, and when it leaves
// something out it says so and points at the whole text.
func TestShowJSONBoundedWhateverTheShape(t *testing.T) {
	for name, doc := range adversarialShapes() {
		t.Run(name, func(t *testing.T) {
			b := views.ShowJSON([]byte(doc), views.MaxShownBytes, "/raw")
			if len(b.Text) > views.MaxShownBytes {
				t.Errorf("%d bytes shown, want at most %d", len(b.Text), views.MaxShownBytes)
			}
			if !utf8.ValidString(b.Text) {
				t.Errorf("the text shown is not valid UTF-8")
			}
			if b.Cut.Words == "" || b.Cut.RawURL != "/raw" {
				t.Errorf("cut %+v, want words and the raw link", b.Cut)
			}
		})
	}
}

// Nesting is shown 32 levels deep; what is deeper appears as […] or {…}, and the note says so.
func TestShowJSONCapsDepth(t *testing.T) {
	for _, c := range []struct{ doc, elided string }{
		{nested("[", "]", 9000), "[…]"},
		{nested(`{"a":`, "}", 9000), "{…}"},
	} {
		b := views.ShowJSON([]byte(c.doc), views.MaxShownBytes, "/raw")
		if n := strings.Count(b.Text, "\n"); n > 2*views.MaxShownDepth {
			t.Errorf("%d lines shown, want at most %d", n+1, 2*views.MaxShownDepth+1)
		}
		if strings.Count(b.Text, c.elided) != 1 || !strings.Contains(b.Cut.Words, "nested more than 32 levels") {
			t.Errorf("deep values are not elided as %s, or not said to be: %q", c.elided, b.Cut.Words)
		}
		deepest := strings.Split(b.Text, "\n")[views.MaxShownDepth]
		if indent := len(deepest) - len(strings.TrimLeft(deepest, " ")); indent != 2*views.MaxShownDepth || !strings.HasSuffix(deepest, c.elided) {
			t.Errorf("the deepest line is %q", deepest)
		}
	}
	// Exactly 32 levels are shown whole; empty containers deeper down are just empty.
	whole := nested("[", "]", views.MaxShownDepth-1)
	whole = whole[:len(whole)-views.MaxShownDepth+1] + ",[]" + whole[len(whole)-views.MaxShownDepth+1:]
	if b := views.ShowJSON([]byte(whole), views.MaxShownBytes, "/raw"); b.Cut.Words != "" || strings.Contains(b.Text, "…") {
		t.Errorf("32 levels are shortened: %q", b.Cut.Words)
	}
}

// Ordinary JSON is indented exactly as encoding/json does, with HTML-safe escapes shown as the
// characters they stand for; other text comes back as it is.
func TestShowJSONOrdinary(t *testing.T) {
	doc := `{"id":"evt_1","n":1.50,"ok":true,"none":null,"tags":["a","b"],"empty":{},"list":[ ],` +
		`"text":"line\nbreak \"quoted\" \\ \u00e9","nested":{"x":[{"y":[1,2]}]}}`
	var want bytes.Buffer
	if err := json.Indent(&want, []byte(doc), "", "  "); err != nil {
		t.Fatal(err)
	}
	if b := views.ShowJSON([]byte(doc), views.MaxShownBytes, "/raw"); b.Text != want.String() || b.Cut != (views.Cut{}) {
		t.Errorf("shown as\n%s\n(cut %+v), want\n%s", b.Text, b.Cut, want.String())
	}
	if b := views.ShowJSON([]byte(`{"name":"Tom \u0026 Jerry \u003C3 \u003e \u00e9"}`), views.MaxShownBytes, ""); b.Text != "{\n  \"name\": \"Tom & Jerry <3 > \\u00e9\"\n}" {
		t.Errorf("escapes shown as %q", b.Text)
	}
	for _, text := range []string{"thanks", "<b>maintenance</b> & more", `{"unclosed": `, ""} {
		if b := views.ShowJSON([]byte(text), views.MaxShownBytes, "/raw"); b.Text != text || b.Cut != (views.Cut{}) {
			t.Errorf("%q shown as %q (cut %+v)", text, b.Text, b.Cut)
		}
	}
}

// Text longer than the limit is cut at a character boundary, and the note says how much is
// shown; with no room left, nothing is shown and the note says why.
func TestShowJSONCutsAtLimit(t *testing.T) {
	b := views.ShowJSON([]byte(strings.Repeat("é", 100)), 51, "/raw")
	if b.Text != strings.Repeat("é", 25) || b.Cut.Words != "only the first 50 bytes of 200 bytes are shown" {
		t.Errorf("shown %q, %q", b.Text, b.Cut.Words)
	}
	b = views.ShowJSON([]byte(`{"a":1}`), 0, "/raw")
	if b.Text != "" || !strings.Contains(b.Cut.Words, "left out to keep the page small") || b.Cut.RawURL != "/raw" {
		t.Errorf("with no room: %+v", b)
	}
}

// A header table shows at most MaxShownHeaders names and MaxShownHeaderBytes of text, and says
// when it leaves any out.
func TestShowHeadersBounded(t *testing.T) {
	small := http.Header{"Content-Type": {"application/json"}, "X-Many": {"a", "b"}}
	if b := views.ShowHeaders(small, "/raw"); fmt.Sprint(b.Rows) != "[[Content-Type application/json] [X-Many a, b]]" || b.Cut != (views.Cut{}) {
		t.Errorf("small headers shown as %v (cut %+v)", b.Rows, b.Cut)
	}
	many := http.Header{}
	for i := range 5000 {
		many.Set(fmt.Sprintf("X-Pad-%05d", i), "v")
	}
	huge := http.Header{"A": {strings.Repeat("é", 1<<20)}, "B": {"lost"}}
	for name, h := range map[string]http.Header{"many": many, "huge": huge} {
		b := views.ShowHeaders(h, "/raw")
		size := 0
		for _, r := range b.Rows {
			size += len(r[0]) + len(r[1])
			if !utf8.ValidString(r[1]) {
				t.Errorf("%s: value %q is not valid UTF-8", name, r[1][:20])
			}
		}
		if len(b.Rows) > views.MaxShownHeaders || size > views.MaxShownHeaderBytes+len("…") {
			t.Errorf("%s: %d rows of %d bytes shown", name, len(b.Rows), size)
		}
		if !strings.Contains(b.Cut.Words, "headers are shown") || b.Cut.RawURL != "/raw" {
			t.Errorf("%s: cut %+v", name, b.Cut)
		}
	}
}

// BenchmarkShowJSON prints how long each adversarial shape takes to show.
func BenchmarkShowJSON(b *testing.B) {
	for name, doc := range adversarialShapes() {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				views.ShowJSON([]byte(doc), views.MaxShownBytes, "")
			}
		})
	}
}
