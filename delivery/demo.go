package delivery

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"hookyard/store"
)

// RunDemo publishes a sample event into a random project every interval or so, until ctx
// ends, so a demo installation's dashboard, charts and logs have life in them (--demo).
func RunDemo(ctx context.Context, e *Engine, st *store.Store, interval time.Duration, log *slog.Logger) {
	types := make([]string, 0, len(samples))
	for t := range samples {
		types = append(types, t)
	}
	slices.Sort(types)
	for {
		wait := time.Duration(float64(interval) * (0.5 + rand.Float64()))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		projects, _, err := st.ListProjects(ctx, store.ProjectFilter{}, store.Page{Limit: 500})
		if err != nil || len(projects) == 0 {
			continue
		}
		p := projects[rand.IntN(len(projects))]
		typ := types[rand.IntN(len(types))]
		s := SampleFor(typ)
		if _, _, err := e.Publish(ctx, "demo", []EventInput{{Type: typ, OrganizationID: p.OrganizationID, ProjectID: p.ID,
			PreviousValue: s.PreviousValue, CurrentValue: s.CurrentValue}}, nil); err != nil && ctx.Err() == nil {
			log.Warn("demo: publish a sample event", "err", err)
		}
	}
}
