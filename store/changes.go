package store

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// ChangeKind says what a recorded change touched.
type ChangeKind int

const (
	// ChangedAll means anything may have changed (an organisation deleted, event types).
	ChangedAll ChangeKind = iota
	// ChangedWebhook: one webhook was created, edited, switched on or off, or deleted.
	ChangedWebhook
	// ChangedUser: one user's role or memberships changed, or the user was deleted.
	ChangedUser
)

// Change is one write that can change who receives an event.
type Change struct {
	Kind ChangeKind
	ID   string
}

// changeLog numbers the changes this process made and keeps the latest, so that caches
// (the engine's match index) apply just those instead of reloading everything.
type changeLog struct {
	mu   sync.Mutex
	seq  int64
	ring [1024]Change
}

func (l *changeLog) add(c Change) {
	l.mu.Lock()
	l.seq++
	l.ring[l.seq%int64(len(l.ring))] = c
	l.mu.Unlock()
}

// Changes returns a number that grows whenever webhooks, memberships, roles or event types
// change.
func (s *Store) Changes() int64 {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return s.log.seq
}

// ChangesSince returns the changes made after version v and the current version; complete is
// false when too many happened to list them (reload everything then).
func (s *Store) ChangesSince(v int64) (changes []Change, now int64, complete bool) {
	l := &s.log
	l.mu.Lock()
	defer l.mu.Unlock()
	if v > l.seq || l.seq-v > int64(len(l.ring)) {
		return nil, l.seq, false
	}
	for i := v + 1; i <= l.seq; i++ {
		c := l.ring[i%int64(len(l.ring))]
		if c.Kind == ChangedAll {
			return nil, l.seq, false
		}
		changes = append(changes, c)
	}
	return changes, l.seq, true
}

func (s *Store) changed()                  { s.record(Change{Kind: ChangedAll}) }
func (s *Store) changedWebhook(id string)  { s.record(Change{Kind: ChangedWebhook, ID: id}) }
func (s *Store) changedUser(userID string) { s.record(Change{Kind: ChangedUser, ID: userID}) }

// record notes a change here and, on a shared database, tells the other nodes (Listen
// applies it there). A lost notice is caught up when a listener reconnects (ChangedAll).
func (s *Store) record(c Change) {
	s.log.add(c)
	if s.dsn == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.Notify(ctx, channelChanges, s.instance+"|"+strconv.Itoa(int(c.Kind))+"|"+c.ID)
}

// OrganizationsOf returns the ids of the organisations a user belongs to.
func (s *Store) OrganizationsOf(ctx context.Context, userID string) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT organization_id FROM memberships WHERE user_id = ?`, userID)
	return collect(rows, err, func(r scanner) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
}
