package delivery_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"hookyard/delivery"
	"hookyard/store"
)

func TestEngineSmoke(t *testing.T) {
	ctx := t.Context()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var got, fails atomic.Int32
	arrived := make(chan time.Time, 10)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/fail" {
			fails.Add(1)
			w.WriteHeader(500)
			return
		}
		got.Add(1)
		arrived <- time.Now()
	}))
	defer recv.Close()
	u := store.User{Email: "a@example.com", Name: "A", Role: store.RoleAdmin, PasswordHash: "x"}
	if err := st.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	o, _ := st.CreateOrganization(ctx, "Acme")
	p, _ := st.CreateProject(ctx, o.ID, "Web")
	ok := store.Webhook{OwnerID: u.ID, Name: "ok", URL: recv.URL + "/ok", Secret: delivery.NewSecret()}
	bad := store.Webhook{OwnerID: u.ID, Name: "bad", URL: recv.URL + "/fail", Secret: delivery.NewSecret()}
	if err := st.CreateWebhook(ctx, &ok); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateWebhook(ctx, &bad); err != nil {
		t.Fatal(err)
	}
	eng := delivery.NewEngine(st, delivery.NewClient(delivery.ClientOptions{AllowPrivate: true, Timeout: time.Second}),
		delivery.Config{RetrySchedule: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond},
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, _, err := eng.Publish(ctx, u.ID, []delivery.EventInput{{Type: "TODO_CREATED", ProjectID: p.ID, OrganizationID: o.ID,
		CurrentValue: json.RawMessage(`{"a":1}`)}}, nil)
	if err != nil || out[0].Deliveries != 2 {
		t.Fatalf("publish: %+v %v", out, err)
	}
	select {
	case at := <-arrived:
		t.Logf("arrived after %v", at.Sub(start))
	case <-time.After(2 * time.Second):
		t.Fatal("nothing arrived")
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		w, _ := st.Webhook(ctx, bad.ID)
		if !w.Enabled {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	w, _ := st.Webhook(ctx, bad.ID)
	if w.Enabled || w.Status != store.StatusUnhealthy || fails.Load() != 5 {
		t.Fatalf("bad webhook: enabled %v status %s reason %q after %d attempts", w.Enabled, w.Status, w.DisabledReason, fails.Load())
	}
	t.Logf("disabled: %s", w.DisabledReason)
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	eng.Stop(sctx)
}
