package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"
)

// LatencyBuckets are the upper bounds of the latency histogram kept per webhook and hour; a
// last bucket holds everything slower.
var LatencyBuckets = []time.Duration{
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond,
	25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond,
	500 * time.Millisecond, time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// Histogram counts attempt durations per LatencyBuckets bucket.
type Histogram []int64

func newHistogram() Histogram { return make(Histogram, len(LatencyBuckets)+1) }

// Add counts one duration.
func (h Histogram) Add(d time.Duration) {
	for i, b := range LatencyBuckets {
		if d <= b {
			h[i]++
			return
		}
	}
	h[len(LatencyBuckets)]++
}

// Merge adds another histogram's counts.
func (h Histogram) Merge(o Histogram) {
	for i := range h {
		if i < len(o) {
			h[i] += o[i]
		}
	}
}

// Quantile estimates the q-quantile (0 < q ≤ 1) by interpolating inside its bucket; 0 when
// the histogram is empty.
func (h Histogram) Quantile(q float64) time.Duration {
	var total int64
	for _, n := range h {
		total += n
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	var seen int64
	for i, n := range h {
		if n == 0 || float64(seen+n) < rank {
			seen += n
			continue
		}
		lo := time.Duration(0)
		if i > 0 {
			lo = LatencyBuckets[i-1]
		}
		if i == len(LatencyBuckets) {
			return lo
		}
		frac := (rank - float64(seen)) / float64(n)
		return lo + time.Duration(frac*float64(LatencyBuckets[i]-lo))
	}
	return LatencyBuckets[len(LatencyBuckets)-1]
}

// HourStats is one webhook's activity in one hour.
type HourStats struct {
	Hour      time.Time
	Attempts  int
	Failures  int // failed attempts
	Succeeded int // deliveries that succeeded in this hour
	Failed    int // deliveries that ran out of attempts in this hour
	Latency   Histogram
}

// WebhookHours returns a webhook's hourly figures since the given time, oldest first.
func (s *Store) WebhookHours(ctx context.Context, webhookID string, since time.Time) ([]HourStats, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT hour, attempts, failures, succeeded, failed, latency
		FROM webhook_hourly WHERE webhook_id = ? AND hour >= ? ORDER BY hour`, webhookID, ms(since.Truncate(time.Hour)))
	return collect(rows, err, scanHour)
}

func scanHour(row scanner) (HourStats, error) {
	var h HourStats
	var hour int64
	var lat string
	err := row.Scan(&hour, &h.Attempts, &h.Failures, &h.Succeeded, &h.Failed, &lat)
	h.Hour, h.Latency = fromMS(hour), newHistogram()
	var stored Histogram
	_ = json.Unmarshal([]byte(lat), &stored)
	h.Latency.Merge(stored)
	return h, err
}

// addHour folds one batch's figures for a webhook and hour into the stored row.
func addHour(ctx context.Context, tx *Tx, webhookID string, h HourStats) error {
	var lat string
	err := tx.QueryRowContext(ctx, `SELECT latency FROM webhook_hourly WHERE webhook_id = ? AND hour = ?`,
		webhookID, ms(h.Hour)).Scan(&lat)
	if err != nil && err != sql.ErrNoRows {
		return err
	}
	merged := newHistogram()
	var stored Histogram
	_ = json.Unmarshal([]byte(lat), &stored)
	merged.Merge(stored)
	merged.Merge(h.Latency)
	latJSON, _ := json.Marshal(merged)
	_, err = tx.ExecContext(ctx, `INSERT INTO webhook_hourly (webhook_id, hour, attempts, failures, succeeded, failed, latency)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (webhook_id, hour) DO UPDATE SET attempts = webhook_hourly.attempts + excluded.attempts,
			failures = webhook_hourly.failures + excluded.failures, succeeded = webhook_hourly.succeeded + excluded.succeeded,
			failed = webhook_hourly.failed + excluded.failed, latency = excluded.latency`,
		webhookID, ms(h.Hour), h.Attempts, h.Failures, h.Succeeded, h.Failed, string(latJSON))
	return err
}

// PruneHourly removes hourly figures older than cutoff.
func (s *Store) PruneHourly(ctx context.Context, cutoff time.Time) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM webhook_hourly WHERE hour < ?`, ms(cutoff.Truncate(time.Hour)))
	return err
}

// OwnerHours returns the hourly figures since the given time of every webhook of one owner
// (all webhooks with ownerID ""), one row per webhook and hour.
func (s *Store) OwnerHours(ctx context.Context, ownerID string, since time.Time) ([]HourStats, error) {
	q, args := `SELECT hour, attempts, failures, succeeded, failed, latency FROM webhook_hourly WHERE hour >= ?`,
		[]any{ms(since.Truncate(time.Hour))}
	if ownerID != "" {
		q += ` AND webhook_id IN (SELECT id FROM webhooks WHERE owner_id = ?)`
		args = append(args, ownerID)
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY hour`, args...)
	return collect(rows, err, scanHour)
}
