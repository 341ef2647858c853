package delivery_test

import (
	"bufio"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hookyard/delivery"
	"hookyard/store"
)

// fakeSMTP is a minimal SMTP server on loopback that keeps every message it is given.
type fakeSMTP struct {
	addr string
	mu   sync.Mutex
	msgs []smtpMessage
	got  chan struct{}
}

type smtpMessage struct{ from, to, data string }

func startFakeSMTP(t *testing.T) *fakeSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSMTP{addr: ln.Addr().String(), got: make(chan struct{}, 10)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *fakeSMTP) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(s string) { io.WriteString(c, s+"\r\n") }
	say("220 fake ESMTP")
	var m smtpMessage
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 fake")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			m.from = strings.TrimSpace(line[len("MAIL FROM:"):])
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			m.to = strings.TrimSpace(line[len("RCPT TO:"):])
			say("250 ok")
		case cmd == "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			m.data = b.String()
			f.mu.Lock()
			f.msgs = append(f.msgs, m)
			f.mu.Unlock()
			f.got <- struct{}{}
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

// When the engine switches a webhook off, its owner gets an e-mail with the reason and a link.
func TestMailerTellsOwnerWhenWebhookIsSwitchedOff(t *testing.T) {
	ctx := t.Context()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	owner := store.User{Email: "mia@example.com", Name: "Mia", Role: store.RoleMember, PasswordHash: "x"}
	if err := st.CreateUser(ctx, &owner); err != nil {
		t.Fatal(err)
	}
	w := store.Webhook{OwnerID: owner.ID, Name: "CRM <sync>", URL: "https://crm.example.com/hook", Secret: delivery.NewSecret()}
	if err := st.CreateWebhook(ctx, &w); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DisableWebhook(ctx, w.ID, store.StatusUnhealthy, "5 attempts failed for TODO_MOVED: HTTP 500 Internal Server Error"); err != nil {
		t.Fatal(err)
	}
	smtpd := startFakeSMTP(t)
	server, _ := url.Parse("smtp://" + smtpd.addr)
	m := delivery.NewMailer(server, "hookyard@example.com", "https://hooks.example.com/", st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	m.WebhooksDisabled(ctx, []string{w.ID})
	select {
	case <-smtpd.got:
	case <-time.After(5 * time.Second):
		t.Fatal("no e-mail arrived")
	}
	msg := smtpd.msgs[0]
	if !strings.HasPrefix(msg.to, "<mia@example.com>") || !strings.HasPrefix(msg.from, "<hookyard@example.com>") {
		t.Errorf("envelope from %s to %s", msg.from, msg.to)
	}
	// Read as a mail client would: headers decoded, the body by its transfer encoding.
	parsed, err := mail.ReadMessage(strings.NewReader(msg.data))
	if err != nil {
		t.Fatalf("not a mail message: %v\n%s", err, msg.data)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject"))
	if err != nil || subject != "Your webhook “CRM <sync>” was switched off" {
		t.Errorf("Subject %q (%v)", subject, err)
	}
	if mt, params, err := mime.ParseMediaType(parsed.Header.Get("Content-Type")); err != nil || mt != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
		t.Errorf("Content-Type %q, want text/plain in UTF-8", parsed.Header.Get("Content-Type"))
	}
	for _, h := range []string{"Message-Id", "Date", "From", "To"} {
		if parsed.Header.Get(h) == "" {
			t.Errorf("no %s header:\n%s", h, msg.data)
		}
	}
	var body io.Reader = parsed.Body
	if strings.EqualFold(parsed.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CRM <sync>", "5 attempts failed for “Record moved to another list”: HTTP 500", "https://hooks.example.com/webhooks/" + w.ID} {
		if !strings.Contains(string(text), want) {
			t.Errorf("message lacks %q:\n%s", want, text)
		}
	}
	if delivery.NewMailer(nil, "", "", st, nil) != nil {
		t.Error("a mailer without an SMTP server should be nil (no e-mail)")
	}
}
