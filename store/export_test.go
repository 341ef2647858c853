package store

import "time"

// SetClock makes the store read the time from now; the contract suite moves it.
func SetClock(s *Store, now func() time.Time) { s.now = now }
