package delivery_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"hookyard/delivery"
)

// The known-answer vector of the Standard Webhooks specification (STACK.md).
const (
	katSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	katID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	katTimestamp = 1614265330
	katBody      = `{"test": 2432232314}`
	katSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestStandardSignatureKnownAnswer(t *testing.T) {
	got, err := delivery.StandardSignature(katSecret, katID, katTimestamp, []byte(katBody))
	if err != nil {
		t.Fatalf("StandardSignature: %v", err)
	}
	if got != katSignature {
		t.Errorf("StandardSignature = %q, want %q", got, katSignature)
	}
}

func TestSignKnownAnswerHeaders(t *testing.T) {
	h := http.Header{}
	if err := delivery.Sign(h, []string{katSecret}, katID, time.Unix(katTimestamp, 0), []byte(katBody)); err != nil {
		t.Fatalf("Sign: %v", err)
	}
	for name, want := range map[string]string{
		"webhook-id":        katID,
		"webhook-timestamp": strconv.Itoa(katTimestamp),
		"webhook-signature": katSignature,
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	wh, err := standardwebhooks.NewWebhook(katSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.VerifyIgnoringTimestamp([]byte(katBody), h); err != nil {
		t.Errorf("library does not verify the known-answer headers: %v", err)
	}
}

func newVerifier(t *testing.T, secret string) *standardwebhooks.Webhook {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("standardwebhooks.NewWebhook(%q): %v", secret, err)
	}
	return wh
}

func TestSignVerifiedByStandardWebhooksLibrary(t *testing.T) {
	secret := delivery.NewSecret()
	body := []byte(`{"id":"evt_1","event":"TODO_MOVED","currentValue":{"name":"é ✓"}}`)
	at := time.Now()
	h := http.Header{}
	if err := delivery.Sign(h, []string{secret}, "dlv_123", at, body); err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if got := h.Get("webhook-timestamp"); got != strconv.FormatInt(at.Unix(), 10) {
		t.Errorf("webhook-timestamp = %q, want Unix seconds %d", got, at.Unix())
	}
	if got := h.Get("webhook-id"); got != "dlv_123" {
		t.Errorf("webhook-id = %q, want the delivery id", got)
	}
	if n := len(strings.Fields(h.Get("webhook-signature"))); n != 1 {
		t.Errorf("webhook-signature has %d entries with one secret, want 1: %q", n, h.Get("webhook-signature"))
	}
	if err := newVerifier(t, secret).Verify(body, h); err != nil {
		t.Fatalf("library rejects a correctly signed request: %v", err)
	}

	tampered := func(name string, edit func(body []byte, h http.Header) ([]byte, http.Header)) {
		t.Run(name, func(t *testing.T) {
			b, th := edit(append([]byte(nil), body...), h.Clone())
			if err := newVerifier(t, secret).Verify(b, th); err == nil {
				t.Errorf("library verifies a request with %s", name)
			}
		})
	}
	tampered("a changed body", func(b []byte, h http.Header) ([]byte, http.Header) {
		return append(b[:len(b)-1], ' ', '}'), h
	})
	tampered("a changed timestamp", func(b []byte, h http.Header) ([]byte, http.Header) {
		h.Set("webhook-timestamp", strconv.FormatInt(at.Unix()-1, 10))
		return b, h
	})
	tampered("a changed id", func(b []byte, h http.Header) ([]byte, http.Header) {
		h.Set("webhook-id", "dlv_124")
		return b, h
	})
	t.Run("another secret", func(t *testing.T) {
		if err := newVerifier(t, delivery.NewSecret()).Verify(body, h); err == nil {
			t.Error("library verifies the request with an unrelated secret")
		}
	})
}

func TestSignDuringRotationVerifiesWithEitherSecret(t *testing.T) {
	current, previous := delivery.NewSecret(), delivery.NewSecret()
	body := []byte(`{"event":"TODO_CREATED"}`)
	at := time.Now()
	h := http.Header{}
	if err := delivery.Sign(h, []string{current, previous}, "dlv_rot", at, body); err != nil {
		t.Fatalf("Sign: %v", err)
	}
	sig := h.Get("webhook-signature")
	entries := strings.Split(sig, " ")
	if len(entries) != 2 {
		t.Fatalf("webhook-signature = %q, want two space-separated entries", sig)
	}
	for i, s := range []string{current, previous} {
		want, err := delivery.StandardSignature(s, "dlv_rot", at.Unix(), body)
		if err != nil {
			t.Fatal(err)
		}
		if entries[i] != want {
			t.Errorf("entry %d = %q, want %q", i, entries[i], want)
		}
	}
	for name, s := range map[string]string{"current": current, "previous": previous} {
		if err := newVerifier(t, s).Verify(body, h); err != nil {
			t.Errorf("library rejects the rotated request with the %s secret: %v", name, err)
		}
	}
	if err := newVerifier(t, delivery.NewSecret()).Verify(body, h); err == nil {
		t.Error("library verifies the rotated request with an unrelated secret")
	}
	// X-Signature is single-valued: it stays on the oldest secret still signing, the one a
	// receiver that knows a single secret was given before the rotation.
	if got, want := h.Get("X-Signature"), hexHMAC(previous, body); got != want {
		t.Errorf("X-Signature = %q, want the previous secret's %q", got, want)
	}
}

// hexHMAC is the Blue receiver's check, written independently of the package.
func hexHMAC(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func TestXSignatureIsHexHMACKeyedByFullSecret(t *testing.T) {
	body := []byte(`{"id":"evt_1","previousValue":null}`)
	for _, secret := range []string{katSecret, delivery.NewSecret()} {
		h := http.Header{}
		if err := delivery.Sign(h, []string{secret}, "dlv_1", time.Now(), body); err != nil {
			t.Fatalf("Sign: %v", err)
		}
		want := hexHMAC(secret, body)
		if got := h.Get("X-Signature"); got != want {
			t.Errorf("X-Signature = %q, want hex HMAC-SHA256 keyed by %q: %q", got, secret, want)
		}
		if got := delivery.BlueSignature(secret, body); got != want {
			t.Errorf("BlueSignature = %q, want %q", got, want)
		}
		// Keyed by the string as shown, not by its decoded bytes nor without the prefix.
		if h.Get("X-Signature") == hexHMAC(strings.TrimPrefix(secret, "whsec_"), body) {
			t.Errorf("X-Signature is keyed without the whsec_ prefix")
		}
	}
}

func TestNewSecretFormat(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		s := delivery.NewSecret()
		rest, ok := strings.CutPrefix(s, "whsec_")
		if !ok {
			t.Fatalf("NewSecret() = %q, want the whsec_ prefix", s)
		}
		raw, err := base64.StdEncoding.Strict().DecodeString(rest)
		if err != nil {
			t.Fatalf("NewSecret() = %q: not standard base64 after the prefix: %v", s, err)
		}
		if len(raw) != 32 {
			t.Fatalf("NewSecret() = %q decodes to %d bytes, want 32", s, len(raw))
		}
		if len(s) != len("whsec_")+44 {
			t.Errorf("NewSecret() = %q has length %d, want %d", s, len(s), len("whsec_")+44)
		}
		if seen[s] {
			t.Fatalf("NewSecret() returned %q twice", s)
		}
		seen[s] = true
		if _, err := standardwebhooks.NewWebhook(s); err != nil {
			t.Fatalf("standard-webhooks library cannot use NewSecret() = %q: %v", s, err)
		}
	}
}

func TestStandardSignatureRejectsNonBase64Secret(t *testing.T) {
	for _, secret := range []string{"whsec_not base64!!", "whsec_abc", "plain-password"} {
		if sig, err := delivery.StandardSignature(secret, "msg_1", 1, []byte("{}")); err == nil {
			t.Errorf("StandardSignature(%q) = %q, want an error", secret, sig)
		}
	}
	// Sign fails as a whole (nothing half-signed) when any secret is unusable.
	h := http.Header{}
	if err := delivery.Sign(h, []string{delivery.NewSecret(), "whsec_not base64!!"}, "dlv_1", time.Now(), []byte("{}")); err == nil {
		t.Error("Sign with an invalid previous secret returned no error")
	}
	if len(h) != 0 {
		t.Errorf("Sign set headers although it failed: %v", h)
	}
}
