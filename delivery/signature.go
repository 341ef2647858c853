package delivery

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every webhook secret (the Standard Webhooks convention).
const SecretPrefix = "whsec_"

// NewSecret returns a fresh signing secret: whsec_ + base64 of 32 random bytes.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return SecretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

// BlueSignature is the X-Signature value: hex HMAC-SHA256 of the raw body, keyed by the
// secret string exactly as shown to the user.
func BlueSignature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// StandardSignature is one webhook-signature entry ("v1,<base64>") of the Standard Webhooks
// scheme: HMAC-SHA256 of "{id}.{timestamp}.{body}" keyed by the base64-decoded secret.
func StandardSignature(secret, id string, timestamp int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil {
		return "", fmt.Errorf("secret is not whsec_ followed by base64: %w", err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}

// Sign sets the signature headers of one attempt. secrets[0] is the current secret, then
// the rotated-out ones that still sign, newest first (store.Webhook.SigningSecrets). Each adds
// a webhook-signature entry, space-separated, so Standard Webhooks receivers verify with
// whichever they know. X-Signature holds one signature, made with the oldest secret still
// signing: a Blue-style receiver, which knows one secret, keeps verifying through a rotation
// until the old secret stops signing (24 h later, or when the rotation is finished).
func Sign(h http.Header, secrets []string, id string, at time.Time, body []byte) error {
	if len(secrets) == 0 {
		return errors.New("no signing secret")
	}
	ts := at.Unix()
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sig, err := StandardSignature(s, id, ts, body)
		if err != nil {
			return err
		}
		sigs = append(sigs, sig)
	}
	h.Set("X-Signature", BlueSignature(secrets[len(secrets)-1], body))
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	h.Set("webhook-signature", strings.Join(sigs, " "))
	return nil
}
