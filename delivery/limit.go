package delivery

// concurrencyLimit is a webhook's limit of requests in flight (SPEC §2 "Isolation"): it
// starts at the configured maximum, drops to 1 the moment a request fails or times out, and
// grows back by one with each success, so a struggling receiver gets one request at a time
// until it answers again.
type concurrencyLimit struct{ cur, max int }

func newConcurrencyLimit(max int) concurrencyLimit { return concurrencyLimit{cur: max, max: max} }

// signal is what one finished request says about its receiver.
type signal int

const (
	signalNone    signal = iota // nothing was sent (cancelled, or shutdown cut it short)
	signalSuccess               // a 2xx
	signalFailure               // any failure: status, timeout, refused connection
)

func (l *concurrencyLimit) observe(s signal) {
	switch s {
	case signalSuccess:
		l.cur = min(l.cur+1, l.max)
	case signalFailure:
		l.cur = 1
	}
}

// full reports whether the limit is back at its maximum (nothing to remember).
func (l concurrencyLimit) full() bool { return l.cur == l.max }
