package delivery_test

import (
	"fmt"
	"strings"
	"testing"

	"hookyard/delivery"
)

func TestHeaderProblem(t *testing.T) {
	cases := []struct {
		name, value string
		says        string // "" when the header is fine
	}{
		{"X-Api-Key", "k_123", ""},
		{"Authorization", "Bearer abc", ""},
		{"x-tenant", "acme", ""},
		{"X-Empty", "", ""},
		{"Content-Type", "text/plain", "set by Hookyard itself"},
		{"content-type", "text/plain", "set by Hookyard itself"},
		{"User-Agent", "me", "set by Hookyard itself"},
		{"X-Signature", "forged", "set by Hookyard itself"},
		{"webhook-id", "x", "set by Hookyard itself"},
		{"Webhook-Signature", "v1,x", "set by Hookyard itself"},
		{"webhook-anything", "x", "set by Hookyard itself"},
		{"X-Hookyard-Event", "x", "set by Hookyard itself"},
		{"x-hookyard-whatever", "x", "set by Hookyard itself"},
		{"Host", "other.example", "URL"},
		{"Content-Length", "3", "worked out from the body"},
		{"Connection", "close", "hop-by-hop"},
		{"Keep-Alive", "5", "hop-by-hop"},
		{"Transfer-Encoding", "chunked", "hop-by-hop"},
		{"TE", "trailers", "hop-by-hop"},
		{"Trailer", "X", "hop-by-hop"},
		{"Upgrade", "h2c", "hop-by-hop"},
		{"Proxy-Authorization", "Basic x", "hop-by-hop"},
		{"Proxy-Connection", "keep-alive", "hop-by-hop"},
		{"", "x", "Give the header a name"},
		{"X Space", "x", "not a header name"},
		{"X-Colon:", "x", "not a header name"},
		{"X-Ünicode", "x", "not a header name"},
		{"X-Split", "a\r\nX-Injected: 1", "line breaks"},
		{"X-Nul", "a\x00b", "control characters"},
		{"X-Long", strings.Repeat("a", 1001), "at most 1000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := delivery.HeaderProblem(c.name, c.value)
			switch {
			case c.says == "" && got != "":
				t.Errorf("refused with %q, want accepted", got)
			case c.says != "" && !strings.Contains(got, c.says):
				t.Errorf("problem %q, want it to say %q", got, c.says)
			}
		})
	}
}

func TestCheckHeaders(t *testing.T) {
	twenty := map[string]string{}
	for i := range delivery.MaxCustomHeaders {
		twenty[fmt.Sprintf("X-H%d", i)] = "v"
	}
	if p := delivery.CheckHeaders(twenty); len(p) != 0 {
		t.Errorf("20 headers refused: %v", p)
	}
	twenty["X-One-More"] = "v"
	if p := delivery.CheckHeaders(twenty); len(p) != 1 || !strings.Contains(p[0], "at most 20") {
		t.Errorf("21 headers: %v, want the limit named", p)
	}
	if p := delivery.CheckHeaders(map[string]string{"X-Key": "a", "x-key": "b"}); len(p) != 1 || !strings.Contains(p[0], "same header") {
		t.Errorf("one name twice: %v", p)
	}
	if p := delivery.CheckHeaders(map[string]string{"Host": "x", "X-Ok": "y", "Connection": "close"}); len(p) != 2 {
		t.Errorf("two refused names: %v, want both named", p)
	}
}
