package delivery_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"hookyard/delivery"
)

// storedSize is how many bytes headers take as stored (their JSON).
func storedSize(t *testing.T, h http.Header) int {
	t.Helper()
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

// A receiver answering with about 1 MB of headers has only 16 KiB of them kept, marked as
// shortened; the first names in order are kept whole. Small headers are kept as they came.
func TestSendKeepsAtMost16KiBOfHeaders(t *testing.T) {
	rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
		for i := range 1000 {
			w.Header().Set(fmt.Sprintf("X-Pad-%04d", i), strings.Repeat("p", 1000))
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusOK)
	})
	res := send(t, loopbackClient(5*time.Second), rcv.URL)
	if !res.OK() {
		t.Fatalf("the answer failed: %s", res.Error)
	}
	if n := storedSize(t, res.ResponseHeaders); n > delivery.MaxStoredHeaders {
		t.Errorf("response headers take %d bytes stored, want at most %d", n, delivery.MaxStoredHeaders)
	}
	if !res.HeadersTruncated {
		t.Errorf("the shortened headers are not marked as shortened")
	}
	if got := res.ResponseHeaders.Get("Content-Type"); got != "text/plain" {
		t.Errorf("Content-Type kept as %q, want text/plain", got)
	}
	if got := res.ResponseHeaders.Get("X-Pad-0000"); got != strings.Repeat("p", 1000) {
		t.Errorf("the first padding header is not kept whole (%d bytes)", len(got))
	}

	small := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Small", "yes")
	})
	res = send(t, loopbackClient(5*time.Second), small.URL)
	if res.HeadersTruncated || res.ResponseHeaders.Get("X-Small") != "yes" || res.RequestHeaders.Get("webhook-signature") == "" {
		t.Errorf("small headers: truncated %t, response %v, request %v", res.HeadersTruncated, res.ResponseHeaders, res.RequestHeaders)
	}
}

// A redirect to a huge Location fails with an error that repeats only the start of it: the
// error is kept with the delivery, the webhook and the owner's notice.
func TestSendShortensHugeRedirectLocation(t *testing.T) {
	location := "http://127.0.0.1:1/" + strings.Repeat("a", 100_000)
	rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Location", location)
		w.WriteHeader(http.StatusFound)
	})
	res := send(t, loopbackClient(5*time.Second), rcv.URL)
	if len(res.Error) > 1000 || !strings.Contains(res.Error, location[:400]) {
		t.Errorf("error of %d bytes: %.200q…", len(res.Error), res.Error)
	}
}

// CapHeaders keeps headers within the limit as stored, whatever their shape: many small ones,
// one huge value, characters JSON escapes into six bytes, invalid UTF-8.
func TestCapHeaders(t *testing.T) {
	many := http.Header{}
	for i := range 5000 {
		many.Set(fmt.Sprintf("X-%04d", i), "v")
	}
	tests := []struct {
		name     string
		h        http.Header
		wantCut  bool
		wantKept []string // names that must be kept (whole or cut)
	}{
		{"small", http.Header{"A": {"1", "2"}, "B": {"3"}}, false, []string{"A", "B"}},
		{"many", many, true, []string{"X-0000"}},
		{"one huge value", http.Header{"A": {"start" + strings.Repeat("x", 1<<20)}, "B": {"b"}}, true, []string{"A"}},
		{"escaped characters", http.Header{"A": {strings.Repeat("<&>\"\x01", 10_000)}}, true, []string{"A"}},
		{"invalid UTF-8", http.Header{"A": {strings.Repeat("é\xff", 10_000)}}, true, []string{"A"}},
		{"huge value then small", http.Header{"A": {"a"}, "B": {strings.Repeat("x", 1<<20)}, "C": {"c"}}, true, []string{"A", "B"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cut := delivery.CapHeaders(tt.h, delivery.MaxStoredHeaders)
			if n := storedSize(t, got); n > delivery.MaxStoredHeaders {
				t.Errorf("%d bytes stored, want at most %d", n, delivery.MaxStoredHeaders)
			}
			if cut != tt.wantCut {
				t.Errorf("cut = %t, want %t", cut, tt.wantCut)
			}
			for _, k := range tt.wantKept {
				if len(got[k]) == 0 {
					t.Errorf("%s is not kept", k)
				}
			}
			for k, vs := range got {
				for i, v := range vs {
					if v != tt.h[k][i] && (!strings.HasSuffix(v, "…") || !strings.HasPrefix(tt.h[k][i], strings.TrimSuffix(v, "…"))) {
						t.Errorf("%s is kept as %.40q…, which is not the start of what came", k, v)
					}
					if utf8.ValidString(tt.h[k][i]) && !utf8.ValidString(v) {
						t.Errorf("%s is cut inside a character", k)
					}
				}
			}
			if !cut && fmt.Sprint(got) != fmt.Sprint(tt.h) {
				t.Errorf("kept %v, want %v unchanged", got, tt.h)
			}
		})
	}
	// A useful part of a huge value is kept, not nothing.
	got, _ := delivery.CapHeaders(http.Header{"A": {strings.Repeat("x", 1<<20)}}, delivery.MaxStoredHeaders)
	if n := len(got.Get("A")); n < delivery.MaxStoredHeaders-100 {
		t.Errorf("%d bytes of the huge value kept, want nearly %d", n, delivery.MaxStoredHeaders)
	}
}
