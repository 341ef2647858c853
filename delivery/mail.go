package delivery

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"hookyard/store"
)

// Mailer tells owners by e-mail when their webhook is switched off (--smtp-url, --smtp-from).
type Mailer struct {
	server  *url.URL // smtp://user:pass@host:587 (STARTTLS when offered) or smtps://host:465
	from    string
	baseURL string
	store   *store.Store
	log     *slog.Logger
}

// NewMailer returns a mailer, or nil when no SMTP server is configured.
func NewMailer(server *url.URL, from, baseURL string, st *store.Store, log *slog.Logger) *Mailer {
	if server == nil || from == "" {
		return nil
	}
	return &Mailer{server: server, from: from, baseURL: strings.TrimSuffix(baseURL, "/"), store: st, log: log}
}

// WebhooksDisabled e-mails the owner of each webhook that was just switched off. Failures
// are logged: the in-app notice is already stored.
func (m *Mailer) WebhooksDisabled(ctx context.Context, ids []string) {
	if m == nil {
		return
	}
	labels := map[string]string{}
	if types, err := m.store.ListEventTypes(ctx); err == nil {
		for _, t := range types {
			labels[t.Name] = t.Label
		}
	}
	label := func(name string) (string, bool) { l, ok := labels[name]; return l, ok }
	for _, id := range ids {
		w, err := m.store.Webhook(ctx, id)
		if err != nil {
			m.log.Error("mail: load webhook", "webhook", id, "err", err)
			continue
		}
		owner, err := m.store.UserByID(ctx, w.OwnerID)
		if err != nil {
			m.log.Error("mail: load owner", "webhook", id, "err", err)
			continue
		}
		subject := fmt.Sprintf("Your webhook “%s” was switched off", w.Name)
		body := fmt.Sprintf("Hello %s,\r\n\r\nHookyard switched off your webhook “%s” (%s) because its deliveries kept failing:\r\n\r\n  %s\r\n\r\n"+
			"Nothing is lost: events that match it are kept. When the receiver works again, open\r\n\r\n  %s/webhooks/%s\r\n\r\n"+
			"and choose “Check the URL and turn back on”, then replay what it missed.\r\n\r\n— Hookyard\r\n",
			owner.Name, w.Name, w.URL, NamesInWords(w.DisabledReason, label), m.baseURL, w.ID)
		if err := m.send(owner.Email, subject, body); err != nil {
			m.log.Error("mail: send notice", "webhook", id, "err", err)
		}
	}
}

// send delivers one plain-text message.
func (m *Mailer) send(to, subject, body string) error {
	host := m.server.Hostname()
	port := m.server.Port()
	if port == "" {
		port = map[string]string{"smtps": "465"}[m.server.Scheme]
		if port == "" {
			port = "587"
		}
	}
	addr := net.JoinHostPort(host, port)
	var conn net.Conn
	var err error
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	if m.server.Scheme == "smtps" {
		conn, err = tls.DialWithDialer(dialer, "tcp", addr, &tls.Config{ServerName: host})
	} else {
		conn, err = dialer.Dial("tcp", addr)
	}
	if err != nil {
		return err
	}
	// The whole conversation must finish in time: a server that accepts and then stalls must
	// not hold up anything else (such as shutdown).
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok && m.server.Scheme == "smtp" {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return err
		}
	}
	if u := m.server.User; u != nil {
		pass, _ := u.Password()
		if err := c.Auth(smtp.PlainAuth("", u.Username(), pass, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(m.from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	wc, err := c.Data()
	if err != nil {
		return err
	}
	msg := "From: " + (&mail.Address{Name: "Hookyard", Address: m.from}).String() + "\r\n" +
		"To: " + to + "\r\n" +
		"Subject: " + mimeHeader(subject) + "\r\n" +
		"Date: " + time.Now().UTC().Format(time.RFC1123Z) + "\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body
	if _, err := wc.Write([]byte(msg)); err != nil {
		return err
	}
	if err := wc.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func mimeHeader(s string) string {
	return mime.QEncoding.Encode("utf-8", s)
}
