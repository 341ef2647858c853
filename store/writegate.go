package store

import (
	"context"
	"sync"
)

// writeGate decides who gets SQLite's single writer next when several wait: the sender's
// work (attempt results and claims) before publishes and page edits. Without it a steady
// stream of publish groups keeps results waiting, and a crash then re-sends what was
// answered but not yet recorded; and claims starve, so a backlog drains slowly. PostgreSQL
// writes side by side and needs no gate.
type writeGate struct {
	mu        sync.Mutex
	busy      bool
	urgent    []chan struct{}
	otherwise []chan struct{}
}

// acquire waits for the writer; urgent callers go first.
func (g *writeGate) acquire(ctx context.Context, urgent bool) error {
	g.mu.Lock()
	if !g.busy {
		g.busy = true
		g.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	if urgent {
		g.urgent = append(g.urgent, ch)
	} else {
		g.otherwise = append(g.otherwise, ch)
	}
	g.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		defer g.mu.Unlock()
		select {
		case <-ch: // granted meanwhile: pass it on
			g.handOver()
		default:
			g.urgent = without(g.urgent, ch)
			g.otherwise = without(g.otherwise, ch)
		}
		return ctx.Err()
	}
}

// release passes the writer to the next waiter.
func (g *writeGate) release() {
	g.mu.Lock()
	g.handOver()
	g.mu.Unlock()
}

func (g *writeGate) handOver() {
	switch {
	case len(g.urgent) > 0:
		close(g.urgent[0])
		g.urgent = g.urgent[1:]
	case len(g.otherwise) > 0:
		close(g.otherwise[0])
		g.otherwise = g.otherwise[1:]
	default:
		g.busy = false
	}
}

func without(q []chan struct{}, ch chan struct{}) []chan struct{} {
	for i, c := range q {
		if c == ch {
			return append(q[:i], q[i+1:]...)
		}
	}
	return q
}
