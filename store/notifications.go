package store

import (
	"context"
	"time"
)

// Notification is an in-app notice for one person, such as "your webhook was switched off".
type Notification struct {
	ID        string     `json:"id"`
	WebhookID string     `json:"webhookId"`
	Text      string     `json:"text"`
	CreatedAt time.Time  `json:"createdAt"`
	ReadAt    *time.Time `json:"readAt"`
}

// UnreadNotifications returns a person's unread notices, newest first.
func (s *Store) UnreadNotifications(ctx context.Context, userID string) ([]Notification, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, COALESCE(webhook_id, ''), text, created_at, read_at
		FROM notifications WHERE user_id = ? AND read_at IS NULL ORDER BY id DESC LIMIT 50`, userID)
	return collect(rows, err, func(r scanner) (Notification, error) {
		var n Notification
		var created int64
		var read nullMS
		err := r.Scan(&n.ID, &n.WebhookID, &n.Text, &created, &read)
		n.CreatedAt, n.ReadAt = fromMS(created), read.time()
		return n, err
	})
}

// MarkNotificationRead dismisses one of a person's notices; ErrNotFound if it is not theirs.
func (s *Store) MarkNotificationRead(ctx context.Context, userID, id string) error {
	return checkAffected(s.write.ExecContext(ctx, `UPDATE notifications SET read_at = ? WHERE id = ? AND user_id = ? AND read_at IS NULL`,
		s.nowMS(), id, userID))
}
