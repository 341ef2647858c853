package delivery_test

import (
	"slices"
	"testing"
	"time"
)

// BenchmarkEnginePublishToReceiver measures the time from Publish to the receiver's handler
// (SPEC §2 Speed: p50 < 2 ms, p99 < 10 ms on the reference machine) and reports p50 and p99.
func BenchmarkEnginePublishToReceiver(b *testing.B) {
	w := newWorld(b)
	rcv := newHookServer(b, nil)
	w.hook("fast", rcv.URL+"/hook", nil)
	e := w.start(engineOpts{})
	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		at := time.Now()
		w.publish(e, w.ev("TODO_CREATED"))
		waitUntil(b, "the request", func() bool { return rcv.count() == i+1 })
		latencies = append(latencies, rcv.requests()[i].at.Sub(at))
	}
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
}
