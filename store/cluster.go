package store

import (
	"context"
	"database/sql"
	"errors"
	"hash/fnv"
	"time"
)

// Shards is the number of parts the webhooks are divided into between nodes. Each webhook
// belongs to one shard for ever; a node sends only for the shards it holds a lease on.
const Shards = 64

// ShardOf returns the shard a webhook belongs to.
func ShardOf(webhookID string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(webhookID))
	return int(h.Sum32() % Shards)
}

// Node is one `hookyard serve` process sharing the database.
type Node struct {
	Name        string    `json:"name"`
	StartedAt   time.Time `json:"startedAt"`
	HeartbeatAt time.Time `json:"heartbeatAt"`
	Shards      int       `json:"shards"` // shards it holds a live lease on
}

// ShardLease is who sends one shard, until when, and the lease's epoch (it grows with every
// change of holder, and fences off a former holder's late writes).
type ShardLease struct {
	Shard     int
	Node      string
	Epoch     int64
	ExpiresAt time.Time
}

// Heartbeat records that node is alive.
func (s *Store) Heartbeat(ctx context.Context, node string, startedAt time.Time) error {
	now := s.nowMS()
	_, err := s.write.ExecContext(ctx, `INSERT INTO nodes (name, started_at, heartbeat_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`, node, ms(startedAt), now)
	return err
}

// Nodes returns the nodes whose last heartbeat is after since, with the shards they hold.
func (s *Store) Nodes(ctx context.Context, since time.Time) ([]Node, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT n.name, n.started_at, n.heartbeat_at,
		(SELECT COUNT(*) FROM shard_leases l WHERE l.node = n.name AND l.expires_at >= ?)
		FROM nodes n WHERE n.heartbeat_at >= ? ORDER BY n.name`, s.nowMS(), ms(since))
	return collect(rows, err, func(r scanner) (Node, error) {
		var n Node
		var started, beat int64
		err := r.Scan(&n.Name, &started, &beat, &n.Shards)
		n.StartedAt, n.HeartbeatAt = fromMS(started), fromMS(beat)
		return n, err
	})
}

// ForgetNode removes a node that stopped, with its shard leases.
func (s *Store) ForgetNode(ctx context.Context, node string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE shard_leases SET node = NULL, expires_at = 0 WHERE node = ?`, node); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM nodes WHERE name = ?`, node)
		return err
	})
}

// ShardLeases returns every shard's lease.
func (s *Store) ShardLeases(ctx context.Context) ([]ShardLease, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT shard, COALESCE(node, ''), epoch, expires_at FROM shard_leases ORDER BY shard`)
	return collect(rows, err, func(r scanner) (ShardLease, error) {
		var l ShardLease
		var exp int64
		err := r.Scan(&l.Shard, &l.Node, &l.Epoch, &exp)
		l.ExpiresAt = fromMS(exp)
		return l, err
	})
}

// TakeShards gives node the leases of those of shards that are free, expired or already its
// own, until until, and returns the leases it now holds among them. Taking a shard from
// another holder (expired) raises its epoch.
func (s *Store) TakeShards(ctx context.Context, node string, shards []int, until time.Time) ([]ShardLease, error) {
	var got []ShardLease
	err := s.WithTx(ctx, func(tx *Tx) error {
		got = got[:0]
		now := s.nowMS()
		for _, sh := range shards {
			var l ShardLease
			var exp int64
			err := tx.QueryRowContext(ctx, `UPDATE shard_leases SET
				epoch = CASE WHEN node = ? AND expires_at >= ? THEN epoch ELSE epoch + 1 END,
				node = ?, expires_at = ?
				WHERE shard = ? AND (node IS NULL OR node = ? OR expires_at < ?)
				RETURNING shard, node, epoch, expires_at`, node, now, node, ms(until), sh, node, now).
				Scan(&l.Shard, &l.Node, &l.Epoch, &exp)
			if errors.Is(err, sql.ErrNoRows) {
				continue // someone else holds it
			}
			if err != nil {
				return err
			}
			l.ExpiresAt = fromMS(exp)
			got = append(got, l)
		}
		return nil
	})
	return got, err
}

// ReleaseShards gives up node's leases of shards at once (for another node to take).
func (s *Store) ReleaseShards(ctx context.Context, node string, shards []int) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		for _, sh := range shards {
			if _, err := tx.ExecContext(ctx, `UPDATE shard_leases SET node = NULL, expires_at = 0
				WHERE shard = ? AND node = ?`, sh, node); err != nil {
				return err
			}
		}
		return nil
	})
}

// ReleaseHeldOf puts back in the queue the held deliveries of the given webhooks that a
// holder other than owner leased (a node that died or gave the shard up); owner then claims
// them in their turn.
func (s *Store) ReleaseHeldOf(ctx context.Context, webhookIDs []string, owner string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		for len(webhookIDs) > 0 {
			n := min(len(webhookIDs), 200)
			args := []any{owner}
			for _, id := range webhookIDs[:n] {
				args = append(args, id)
			}
			// Held deliveries are few (the senders' windows): the lease index finds them.
			if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET lease_until = NULL, lease_owner = NULL
				WHERE lease_until IS NOT NULL AND status = 'pending' AND (lease_owner IS NULL OR lease_owner <> ?)
				AND webhook_id IN (`+placeholders(n)+`)`, args...); err != nil {
				return err
			}
			webhookIDs = webhookIDs[n:]
		}
		return nil
	})
}
