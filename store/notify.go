package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Notifications between nodes on one PostgreSQL database (LISTEN/NOTIFY). Under SQLite
// there is one node and nothing to tell.
const (
	// ChannelWork carries webhook ids with new queued deliveries, for the node sending them.
	ChannelWork = "hookyard_work"
	// ChannelShards says a node gave shards up (or stopped): the others take them now.
	ChannelShards = "hookyard_shards"
	// channelChanges carries store changes (webhooks, memberships…) to the other nodes' caches.
	channelChanges = "hookyard_changes"
	// notifyMax keeps a payload under PostgreSQL's 8,000-byte limit.
	notifyMax = 7000
)

// Shared reports whether several nodes may use this database at once (PostgreSQL).
func (s *Store) Shared() bool { return s.dsn != "" }

// Notify sends payloads on a channel, in one statement; nothing under SQLite.
func (s *Store) Notify(ctx context.Context, channel string, payloads ...string) error {
	if s.dsn == "" || len(payloads) == 0 {
		return nil
	}
	q := `SELECT ` + strings.TrimSuffix(strings.Repeat(`pg_notify(CAST(? AS TEXT), CAST(? AS TEXT)), `, len(payloads)), `, `)
	args := make([]any, 0, 2*len(payloads))
	for _, p := range payloads {
		args = append(args, channel, p)
	}
	_, err := s.write.ExecContext(ctx, q, args...)
	return err
}

// NotifyWork tells the nodes that these webhooks have new queued deliveries.
func (s *Store) NotifyWork(ctx context.Context, webhookIDs []string) error {
	if s.dsn == "" || len(webhookIDs) == 0 {
		return nil
	}
	var payloads []string
	var b strings.Builder
	for _, id := range webhookIDs {
		if b.Len()+len(id)+1 > notifyMax {
			payloads = append(payloads, b.String())
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(id)
	}
	payloads = append(payloads, b.String())
	return s.Notify(ctx, ChannelWork, payloads...)
}

// Listen hands every notification on channels to fn until ctx ends, on a connection of its
// own, reconnecting after a failure. After each (re)connection fn gets channel "" (whatever
// was sent meanwhile is lost: catch up), and the store's change log a ChangedAll. Changes
// other nodes report are applied to the change log here. Under SQLite it returns at once.
func (s *Store) Listen(ctx context.Context, channels []string, fn func(channel, payload string)) error {
	if s.dsn == "" {
		return nil
	}
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, channels, fn)
		if ctx.Err() != nil {
			return nil
		}
		_ = err
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}

func (s *Store) listenOnce(ctx context.Context, channels []string, fn func(channel, payload string)) error {
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, ch := range append([]string{channelChanges}, channels...) {
		if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{ch}.Sanitize()); err != nil {
			return err
		}
	}
	s.log.add(Change{Kind: ChangedAll})
	fn("", "")
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Channel == channelChanges {
			s.applyRemoteChange(n.Payload)
			continue
		}
		fn(n.Channel, n.Payload)
	}
}

// applyRemoteChange records a change another node made ("instance|kind|id").
func (s *Store) applyRemoteChange(payload string) {
	parts := strings.SplitN(payload, "|", 3)
	if len(parts) != 3 || parts[0] == s.instance {
		return
	}
	kind, err := strconv.Atoi(parts[1])
	if err != nil {
		kind = int(ChangedAll)
	}
	s.log.add(Change{Kind: ChangeKind(kind), ID: parts[2]})
}
