package delivery

import (
	"context"
	"log/slog"
	"time"

	"hookyard/store"
)

// pruneBatch is how many events one delete removes: small, so the single SQLite writer is
// never held long enough to delay sending.
const pruneBatch = 500

// RunRetention deletes events (with their deliveries and attempts) older than retention,
// every interval, in small batches, until ctx ends.
func RunRetention(ctx context.Context, st *store.Store, retention, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		total, err := PruneOnce(ctx, st, time.Now().Add(-retention))
		if err != nil && ctx.Err() == nil {
			log.Error("retention: prune failed", "err", err)
		} else if total > 0 {
			log.Info("retention: old events removed", "count", total)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PruneOnce removes everything older than cutoff, batch by batch, and reports how many
// events went.
func PruneOnce(ctx context.Context, st *store.Store, cutoff time.Time) (int, error) {
	total := 0
	for {
		n, err := st.PruneEvents(ctx, cutoff, pruneBatch)
		total += n
		if err != nil || n < pruneBatch {
			if err == nil {
				err = st.PruneHourly(ctx, cutoff)
			}
			if err == nil && total > 0 {
				err = reclaim(ctx, st)
			}
			return total, err
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(10 * time.Millisecond): // let the sender's writes in between batches
		}
	}
}

// reclaim gives the space of pruned rows back to the filesystem in small steps, with pauses
// that let the sender's writes in.
func reclaim(ctx context.Context, st *store.Store) error {
	for {
		free, err := st.ReclaimSpace(ctx, 500)
		if err != nil || free == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
