package delivery_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"hookyard/delivery"
)

// The demo trickle publishes realistic sample events into existing projects until stopped.
func TestRunDemoPublishesSamplesUntilStopped(t *testing.T) {
	w := newWorld(t)
	e := w.start(engineOpts{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		delivery.RunDemo(ctx, e.Engine, w.st, 10*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(done)
	}()
	waitUntil(t, "three demo events", func() bool { return w.countEvents() >= 3 })
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("RunDemo did not stop when its context ended")
	}
	after := w.countEvents()
	time.Sleep(50 * time.Millisecond)
	if w.countEvents() != after {
		t.Error("events still published after the demo stopped")
	}
	for _, typ := range []string{w.sqlString(`SELECT event_type FROM events ORDER BY id LIMIT 1`)} {
		if !delivery.HasSample(typ) {
			t.Errorf("demo published %q, which has no sample", typ)
		}
	}
	if n := w.sqlCount(`SELECT COUNT(*) FROM events WHERE project_id != ? OR current_value IS NULL AND previous_value IS NULL`, w.prj.ID); n != 0 {
		t.Errorf("%d demo events outside the project or without values", n)
	}
}
