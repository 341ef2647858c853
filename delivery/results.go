package delivery

import (
	"context"
	"time"

	"hookyard/store"
)

// resultWriter stores attempt outcomes in batches: one transaction per batch keeps up with
// thousands of attempts a second, and writing each batch as soon as the previous one is
// stored means a crash loses only the results of the last few milliseconds. When the
// database cannot take a batch (disk full, read-only, locked) the writer keeps it, pauses
// sending and tries again until it can: a result is never dropped, so nothing the receiver
// already answered is sent again once the fault clears.
type resultWriter struct {
	e     *Engine
	in    chan store.AttemptOutcome
	fault faultEpisodes
	quit  chan struct{} // closed when shutdown stops waiting for a fault to clear
}

func newResultWriter(e *Engine, size int) *resultWriter {
	return &resultWriter{e: e, in: make(chan store.AttemptOutcome, size), quit: make(chan struct{}),
		fault: faultEpisodes{log: e.log, what: "store attempt results"}}
}

func (w *resultWriter) put(o store.AttemptOutcome) { w.in <- o }

// close lets the writer store what it has and stop; if the database still refuses when ctx
// ends, the writer gives up (those deliveries stay held and are sent again after a restart).
func (w *resultWriter) close(ctx context.Context) {
	close(w.in)
	go func() {
		<-ctx.Done()
		close(w.quit)
	}()
}

const resultBatch = 256

func (w *resultWriter) run() {
	batch := make([]store.AttemptOutcome, 0, resultBatch)
	for first := range w.in {
		batch = append(batch[:0], first)
	collect:
		for len(batch) < cap(batch) {
			select {
			case o, ok := <-w.in:
				if !ok {
					break collect
				}
				batch = append(batch, o)
			default:
				break collect
			}
		}
		w.write(batch)
		clear(batch)
	}
}

// write stores one batch, waiting out a fault episode if there is one.
func (w *resultWriter) write(batch []store.AttemptOutcome) {
	e := w.e
	disabled, err := e.store.RecordAttempts(context.Background(), batch)
	for backoff := 50 * time.Millisecond; err != nil && store.WriteFault(err) != ""; backoff = min(2*backoff, 5*time.Second) {
		w.fault.failed("", err)
		e.disp.pause(true)
		select {
		case <-w.quit:
			e.log.Error("shutting down with attempt results not stored; those deliveries will be sent again after the next start",
				"count", len(batch), "err", err)
			return
		case <-time.After(backoff):
		}
		disabled, err = e.store.RecordAttempts(context.Background(), batch)
	}
	if err == nil {
		if w.fault.fault() != "" {
			w.fault.ok()
			e.disp.pause(false)
		}
	} else {
		// Not a passing fault: one bad outcome must not lose the others, so store them one by one.
		e.log.Error("record attempts; retrying one by one", "count", len(batch), "err", err)
		disabled = disabled[:0]
		for _, o := range batch {
			d, err := e.store.RecordAttempts(context.Background(), []store.AttemptOutcome{o})
			if err != nil {
				e.log.Error("record attempt", "delivery", o.Attempt.DeliveryID, "err", err)
			}
			disabled = append(disabled, d...)
		}
	}
	for _, id := range disabled {
		e.log.Warn("webhook switched off after failures", "webhook", id)
	}
	e.cfg.Metrics.switchedOff(disabled, batch)
	settled := make([]string, len(batch))
	for i, o := range batch {
		settled[i] = o.Attempt.WebhookID
		// Stored: a retry now waits queued in the database, due at its time.
		if o.Status == store.DeliveryPending && o.NextAttemptAt != nil && o.Cancel == "" {
			e.disp.queuedWork(o.Attempt.WebhookID, *o.NextAttemptAt)
		}
		// The index now shows what was switched off, and an outcome whose switch-off did not
		// happen (its delivery was cancelled meanwhile) must not keep blocking.
		if mark, ok := e.marks.LoadAndDelete(o.Attempt.DeliveryID); ok {
			e.switchedOff.CompareAndDelete(o.Attempt.WebhookID, mark)
		}
	}
	e.disp.settled(settled)
	if len(disabled) > 0 && e.cfg.OnDisabled != nil {
		e.notices.Add(1)
		go func(ids []string) {
			defer e.notices.Done()
			e.cfg.OnDisabled(context.Background(), ids)
		}(append([]string(nil), disabled...))
	}
}
