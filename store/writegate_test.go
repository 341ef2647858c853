package store

import (
	"context"
	"testing"
	"time"
)

// The sender's writes (results, claims) get SQLite's writer before publishes waiting longer.
func TestWriteGateServesUrgentFirst(t *testing.T) {
	var g writeGate
	ctx := context.Background()
	if err := g.acquire(ctx, false); err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 3)
	start := func(name string, urgent bool) {
		go func() {
			if err := g.acquire(ctx, urgent); err != nil {
				t.Error(err)
				return
			}
			order <- name
			g.release()
		}()
	}
	start("publish 1", false)
	waitQueued(t, &g, 0, 1)
	start("publish 2", false)
	waitQueued(t, &g, 0, 2)
	start("results", true)
	waitQueued(t, &g, 1, 2)
	g.release()
	for i, want := range []string{"results", "publish 1", "publish 2"} {
		if got := <-order; got != want {
			t.Fatalf("writer %d went to %q, want %q", i+1, got, want)
		}
	}
	// A waiter that gives up leaves the queue, and the gate is free afterwards.
	if err := g.acquire(ctx, false); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := g.acquire(short, true); err == nil {
		t.Fatal("acquire on a busy gate returned before its context ended")
	}
	g.release()
	if err := g.acquire(ctx, false); err != nil {
		t.Fatalf("after a waiter gave up the gate is not free: %v", err)
	}
}

func waitQueued(t *testing.T, g *writeGate, urgent, other int) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(time.Millisecond) {
		g.mu.Lock()
		u, o := len(g.urgent), len(g.otherwise)
		g.mu.Unlock()
		if u == urgent && o == other {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queued %d urgent and %d other, want %d and %d", u, o, urgent, other)
		}
	}
}
