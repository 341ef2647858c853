package delivery

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

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
		if err := m.send(ctx, owner.Email, subject, body); err != nil {
			m.log.Error("mail: send notice", "webhook", id, "err", err)
		}
	}
}

// send delivers one plain-text message. go-mail speaks SMTP: STARTTLS when the server offers
// it (smtps: TLS from the start), the strongest login the server offers, and a message with
// Message-ID, Date and a body and subject encoded for any server.
func (m *Mailer) send(ctx context.Context, to, subject, body string) error {
	port, _ := strconv.Atoi(m.server.Port())
	opts := []gomail.Option{gomail.WithTimeout(10 * time.Second), gomail.WithTLSPolicy(gomail.TLSOpportunistic)}
	switch {
	case m.server.Scheme == "smtps":
		opts = append(opts, gomail.WithSSL())
		port = cmp.Or(port, 465)
	default:
		port = cmp.Or(port, 587)
	}
	opts = append(opts, gomail.WithPort(port))
	if u := m.server.User; u != nil {
		pass, _ := u.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(u.Username()), gomail.WithPassword(pass))
	}
	c, err := gomail.NewClient(m.server.Hostname(), opts...)
	if err != nil {
		return err
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.FromFormat("Hookyard", m.from); err != nil {
		return err
	}
	if err := msg.To(to); err != nil {
		return err
	}
	msg.Subject(subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, body)
	// The whole conversation must finish in time: a server that accepts and then stalls must
	// not hold up anything else (such as shutdown).
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return c.DialAndSendWithContext(ctx, msg)
}
