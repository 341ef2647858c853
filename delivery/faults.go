package delivery

import (
	"log/slog"
	"sync"
	"time"

	"hookyard/store"
)

// faultEpisodes logs write faults once per episode, not once per failed write: the first
// failure says what went wrong, the first success after it says how long it lasted and how
// many writes failed meanwhile.
type faultEpisodes struct {
	log  *slog.Logger
	what string // what was being written, for the log line

	mu     sync.Mutex
	since  time.Time // zero when healthy
	reason string
	count  int
}

// failed records a failed write (what overrides the default description).
func (f *faultEpisodes) failed(what string, err error) {
	if what == "" {
		what = f.what
	}
	reason := store.WriteFault(err)
	if reason == "" {
		reason = err.Error()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count++
	if f.since.IsZero() {
		f.since, f.reason = time.Now(), reason
		f.log.Error("database write failed; retrying until it works (logged once until then)",
			"what", what, "reason", reason, "err", err)
	}
}

// ok records a write that worked, ending any episode.
func (f *faultEpisodes) ok() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.since.IsZero() {
		return
	}
	f.log.Warn("database writes work again", "what", f.what, "reason", f.reason,
		"lasted", time.Since(f.since).Round(time.Millisecond), "failedWrites", f.count)
	f.since, f.reason, f.count = time.Time{}, "", 0
}

// fault returns the reason of the episode in progress, or "".
func (f *faultEpisodes) fault() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reason
}

// WriteFault reports why the engine cannot write right now ("" when it can): results are
// being kept until the database takes them again.
func (e *Engine) WriteFault() string { return e.results.fault.fault() }
