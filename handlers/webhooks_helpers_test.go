package handlers_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"hookyard/delivery"
	"hookyard/handlers"
	"hookyard/store"
)

// Helpers of the webhook tests (webhooks_*_test.go): the API cast on an app with chosen
// options, a receiver that records what reaches it, signature checks and typed webhooks.

// publicURL passes the default outbound guard without any DNS lookup; nothing ever calls it.
const publicURL = "https://93.184.215.14/hooks/hookyard"

// allowPrivate builds the app with --allow-private-targets, so loopback receivers work.
func allowPrivate(o *handlers.Options) { o.AllowPrivateTargets = true }

// newWebhookFixture is the cast of newAPIFixture on an app built with opts.
func newWebhookFixture(t *testing.T, opts ...func(*handlers.Options)) *apiFixture {
	t.Helper()
	return newAPIFixture(t, opts...)
}

// received is one request that reached a receiver.
type received struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// receiver is a webhook endpoint on loopback that records every request and answers with
// the status and body it is set to.
type receiver struct {
	URL string

	mu     sync.Mutex
	status int
	body   string
	got    []received
}

func newReceiver(t *testing.T, status int, body string) *receiver {
	t.Helper()
	r := &receiver{status: status, body: body}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{Method: req.Method, Path: req.URL.Path, Header: req.Header.Clone(), Body: b})
		status, body := r.status, r.body
		r.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/hook"
	return r
}

// answer changes what the receiver answers from now on.
func (r *receiver) answer(status int, body string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status, r.body = status, body
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// last is the newest request, failing t when n requests have not arrived in all.
func (r *receiver) last(t *testing.T, n int) received {
	t.Helper()
	got := r.requests()
	if len(got) != n {
		t.Fatalf("receiver got %d requests, want %d", len(got), n)
	}
	return got[n-1]
}

// checkSigned fails unless req carries the request headers of SPEC §2, with exactly one
// webhook-signature entry per secret (current first, then rotated-out ones, newest first) and
// X-Signature made with the last: the oldest still signing.
func checkSigned(t *testing.T, req received, event string, secrets ...string) {
	t.Helper()
	if req.Method != http.MethodPost {
		t.Errorf("method %s, want POST", req.Method)
	}
	h := req.Header
	if ct := h.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if ua := h.Get("User-Agent"); !strings.HasPrefix(ua, "Hookyard/") || ua == "Hookyard/" {
		t.Errorf("User-Agent %q, want Hookyard/<version>", ua)
	}
	if got := h.Get("X-Hookyard-Event"); got != event {
		t.Errorf("X-Hookyard-Event %q, want %q", got, event)
	}
	if got := h.Get("X-Hookyard-Attempt"); got != "1" {
		t.Errorf("X-Hookyard-Attempt %q, want 1", got)
	}
	id := h.Get("webhook-id")
	if id == "" {
		t.Errorf("no webhook-id header")
	}
	ts, err := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64)
	if err != nil {
		t.Fatalf("webhook-timestamp %q is not Unix seconds", h.Get("webhook-timestamp"))
	}
	if d := time.Since(time.Unix(ts, 0)); d < -time.Minute || d > time.Minute {
		t.Errorf("webhook-timestamp %d is %v away from now", ts, d)
	}
	if got, want := h.Get("X-Signature"), delivery.BlueSignature(secrets[len(secrets)-1], req.Body); got != want {
		t.Errorf("X-Signature %q, want hex HMAC of the body keyed by the oldest secret still signing (%q)", got, want)
	}
	entries := strings.Fields(h.Get("webhook-signature"))
	if len(entries) != len(secrets) {
		t.Fatalf("webhook-signature %q has %d entries, want %d", h.Get("webhook-signature"), len(entries), len(secrets))
	}
	for _, s := range secrets {
		want, err := delivery.StandardSignature(s, id, ts, req.Body)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(entries, want) {
			t.Errorf("webhook-signature %q has no entry made with secret %s…", h.Get("webhook-signature"), s[:10])
		}
	}
	for _, s := range secrets {
		if strings.Contains(string(req.Body), s) {
			t.Errorf("the payload carries the secret")
		}
	}
	if strings.Contains(strings.ToLower(string(req.Body)), `"secret"`) {
		t.Errorf("the payload has a secret field: %s", req.Body)
	}
}

// payloadOf decodes a delivered body (SPEC §3), failing when a field of the contract is absent.
func payloadOf(t *testing.T, req received) delivery.Payload {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(req.Body, &raw); err != nil {
		t.Fatalf("payload is not a JSON object: %v\n%s", err, req.Body)
	}
	for _, k := range []string{"id", "event", "timestamp", "organizationId", "projectId", "webhook", "previousValue", "currentValue"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("payload has no %q field: %s", k, req.Body)
		}
	}
	var p delivery.Payload
	if err := json.Unmarshal(req.Body, &p); err != nil {
		t.Fatalf("payload: %v\n%s", err, req.Body)
	}
	if !strings.HasPrefix(p.ID, "evt_") {
		t.Errorf("payload id %q, want evt_…", p.ID)
	}
	if _, err := time.Parse(time.RFC3339Nano, p.Timestamp); err != nil || !strings.HasSuffix(p.Timestamp, "Z") {
		t.Errorf("payload timestamp %q, want RFC 3339 UTC", p.Timestamp)
	}
	return p
}

// apiWebhook is the webhook object of the API.
type apiWebhook struct {
	ID                     string     `json:"id"`
	OwnerID                string     `json:"ownerId"`
	Name                   string     `json:"name"`
	URL                    string     `json:"url"`
	Secret                 string     `json:"secret"`
	Events                 []string   `json:"events"`
	ProjectIDs             []string   `json:"projectIds"`
	Enabled                bool       `json:"enabled"`
	Status                 string     `json:"status"`
	DisabledReason         string     `json:"disabledReason"`
	DisabledAt             *time.Time `json:"disabledAt"`
	CreatedAt              time.Time  `json:"createdAt"`
	UpdatedAt              time.Time  `json:"updatedAt"`
	RotationEndsAt         *time.Time `json:"rotationEndsAt"`
	InaccessibleProjectIDs []string   `json:"inaccessibleProjectIds"`
}

func webhookID(w apiWebhook) string { return w.ID }

// createWebhook creates a webhook through the API as the token's user and returns it.
func (a *testApp) createWebhook(t *testing.T, token string, body map[string]any) apiWebhook {
	t.Helper()
	r := a.call(t, token, http.MethodPost, "/api/v1/webhooks", body, http.StatusCreated)
	return decode[apiWebhook](t, r)
}

// storedWebhook reads a webhook straight from the database.
func (a *testApp) storedWebhook(t *testing.T, id string) store.Webhook {
	t.Helper()
	w, err := a.store.Webhook(t.Context(), id)
	if err != nil {
		t.Fatalf("webhook %s: %v", id, err)
	}
	return w
}

// putWebhook stores a webhook for owner directly, past the checks of the API (as if DNS had
// changed since it was saved).
func (a *testApp) putWebhook(t *testing.T, owner store.User, name, url string, events, projectIDs []string) store.Webhook {
	t.Helper()
	w := store.Webhook{OwnerID: owner.ID, Name: name, URL: url, Secret: delivery.NewSecret(), Events: events, ProjectIDs: projectIDs}
	if err := a.store.CreateWebhook(t.Context(), &w); err != nil {
		t.Fatal(err)
	}
	return w
}

// webhookOf stores a webhook owned by u for the access table of api_access_test.go. Its
// loopback URL is refused by the default outbound guard, so a test request reports a failure
// and a re-enable is refused (409) without any network.
func (f *apiFixture) webhookOf(u store.User) string {
	return f.putWebhook(f.t, u, u.Name+"'s hook", "http://127.0.0.1:9/hook", nil, nil).ID
}

// allWebhooks is every stored webhook.
func (a *testApp) allWebhooks(t *testing.T) []store.Webhook {
	t.Helper()
	hooks, _, err := a.store.ListWebhooks(t.Context(), store.WebhookFilter{}, store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return hooks
}

// webhookState describes a webhook including its secrets, to prove a refused request
// changed nothing.
func (a *testApp) webhookState(t *testing.T, id string) string {
	t.Helper()
	w, err := a.store.Webhook(t.Context(), id)
	if err != nil {
		return "error: " + err.Error()
	}
	b, _ := json.Marshal(struct {
		store.Webhook
		Secret   string
		Previous []store.PreviousSecret
	}{w, w.Secret, w.PreviousSecrets})
	return string(b)
}

// wantSecretFormat fails unless s is whsec_ + base64 of 32 bytes.
func wantSecretFormat(t *testing.T, s string) {
	t.Helper()
	rest, ok := strings.CutPrefix(s, delivery.SecretPrefix)
	if !ok {
		t.Fatalf("secret %q does not start with whsec_", s)
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(key) != 32 {
		t.Fatalf("secret %q is not whsec_ + base64 of 32 bytes (%d bytes, %v)", s, len(key), err)
	}
}

// sorted returns a sorted copy, for comparing selections.
func sorted(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return out
}

// checkedValues are the values of the ticked checkboxes of that name on a page.
func checkedValues(p page, name string) []string {
	var out []string
	p.Doc.Find(`input[type="checkbox"][name="` + name + `"]`).Each(func(_ int, s *goquery.Selection) {
		if _, ok := s.Attr("checked"); ok {
			v, _ := s.Attr("value")
			out = append(out, v)
		}
	})
	slices.Sort(out)
	return out
}

// isChecked reports whether the checkbox with that id is ticked.
func isChecked(p page, id string) bool {
	_, ok := p.Doc.Find("input#" + id).Attr("checked")
	return ok
}

// legends are the group names of the fieldsets inside container, without the select-all text.
func legends(p page, container string) []string {
	var out []string
	p.Doc.Find(container + " fieldset").Each(func(_ int, s *goquery.Selection) {
		out = append(out, groupName(s))
	})
	return out
}

// groupName is the name in a fieldset's legend, without the select-all text.
func groupName(fieldset *goquery.Selection) string {
	c := fieldset.ChildrenFiltered("legend").Clone()
	c.Find("label").Remove()
	return squash(c.Text())
}

// squash collapses runs of white space, for comparing rendered text.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }
