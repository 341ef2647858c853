package handlers

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"hookyard/store"
)

// passwordLimiter throttles every password check — signing in, changing one's password on
// the account page, and the API's currentPassword — so that no way in guesses faster than
// another. A check takes one try from each of three allowances: the account from this
// client, the account from anywhere (many addresses guessing one password), and this client
// for any account (one address trying many accounts). It is refused before the password is
// compared when any of them is used up, so a right password then says nothing. A right
// password gives its tries back: only wrong ones count.
type passwordLimiter struct {
	limits [3]passwordLimit

	mu      sync.Mutex
	buckets map[string]*passwordBucket
	swept   time.Time
}

// passwordLimit is one allowance: burst tries at once, then one more every 1/rate.
type passwordLimit struct {
	scope string // what the allowance counts, in words for people
	rate  rate.Limit
	burst int
}

func (l passwordLimit) String() string {
	return fmt.Sprintf("%d tries %s, then one every %s", l.burst, l.scope,
		time.Duration(float64(time.Second)/float64(l.rate)).Round(time.Millisecond))
}

// newPasswordLimiter allows burst tries per account from one client, then one per 1/every;
// an account from all clients together, and one client over all accounts, get four times that.
func newPasswordLimiter(every rate.Limit, burst int) *passwordLimiter {
	return &passwordLimiter{
		limits: [3]passwordLimit{
			{scope: "for one account from one address", rate: every, burst: burst},
			{scope: "for one account from all addresses", rate: 4 * every, burst: 4 * burst},
			{scope: "from one address over all accounts", rate: 4 * every, burst: 4 * burst},
		},
		buckets: map[string]*passwordBucket{},
	}
}

// passwordBucket is a token bucket of one allowance: tries left, as of last.
type passwordBucket struct {
	limit int // index into passwordLimiter.limits
	tries float64
	last  time.Time
}

// passwordTry is an allowed check; give it back when the password was right.
type passwordTry struct{ buckets []*passwordBucket }

// passwordThrottled is a refused check: which allowance is used up and when a try is back.
type passwordThrottled struct {
	limit passwordLimit
	wait  time.Duration
}

// retryAfter is the wait in whole seconds, for the Retry-After header and messages.
func (t *passwordThrottled) retryAfter() int {
	return max(1, int(math.Ceil(t.wait.Seconds())))
}

// waitText says how long to wait in words.
func (t *passwordThrottled) waitText() string {
	if n := t.retryAfter(); n >= 120 {
		return strconv.Itoa((n+59)/60) + " minutes"
	} else if n > 1 {
		return strconv.Itoa(n) + " seconds"
	}
	return "a second"
}

// problem is the API's answer: 429 naming the limit.
func (t *passwordThrottled) problem(field string) *Problem {
	return &Problem{Type: "urn:hookyard:too-many-password-attempts", Title: "Too many password attempts",
		Status: http.StatusTooManyRequests,
		Detail: field + " was not checked and nothing was changed: the limit is " + t.limit.String() +
			". Try again in " + t.waitText() + "."}
}

// take reserves one try for account from client, or says why not.
func (l *passwordLimiter) take(now time.Time, account, client string) (*passwordTry, *passwordThrottled) {
	keys := [3]string{"account+client|" + account + "|" + client, "account|" + account, "client|" + client}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	try := &passwordTry{}
	var refused *passwordThrottled
	for i, lim := range l.limits {
		b := l.buckets[keys[i]]
		if b == nil {
			b = &passwordBucket{limit: i, tries: float64(lim.burst), last: now}
			l.buckets[keys[i]] = b
		}
		b.refill(now, lim)
		if b.tries < 1 {
			wait := time.Duration((1 - b.tries) / float64(lim.rate) * float64(time.Second))
			if refused == nil || wait > refused.wait {
				refused = &passwordThrottled{limit: lim, wait: wait}
			}
		}
		try.buckets = append(try.buckets, b)
	}
	if refused != nil {
		return nil, refused
	}
	for _, b := range try.buckets {
		b.tries--
	}
	return try, nil
}

// giveBack returns the tries of a check whose password was right.
func (l *passwordLimiter) giveBack(try *passwordTry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range try.buckets {
		b.tries = min(b.tries+1, float64(l.limits[b.limit].burst))
	}
}

func (b *passwordBucket) refill(now time.Time, lim passwordLimit) {
	if now.After(b.last) {
		b.tries = min(float64(lim.burst), b.tries+now.Sub(b.last).Seconds()*float64(lim.rate))
		b.last = now
	}
}

// sweep forgets, once a minute, the buckets that are full again: they are the same as new,
// and keeping them would let made-up e-mail addresses grow the map without end.
func (l *passwordLimiter) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Minute {
		return
	}
	l.swept = now
	for key, b := range l.buckets {
		lim := l.limits[b.limit]
		if b.refill(now, lim); b.tries >= float64(lim.burst) {
			delete(l.buckets, key)
		}
	}
}

// checkPassword tells whether password is the account's, when the limiter allows a check
// now; otherwise it sets Retry-After and says which limit was reached, without comparing.
// account names whose password it is: a user id, or "email:" and what was typed at sign-in.
func (s *Server) checkPassword(c echo.Context, account, hash, password string) (bool, *passwordThrottled) {
	client := c.RealIP()
	try, refused := s.passwords.take(s.now(), account, client)
	if refused != nil {
		c.Response().Header().Set("Retry-After", strconv.Itoa(refused.retryAfter()))
		s.log.Warn("password checks throttled", "client", client, "limit", refused.limit.scope)
		return false, refused
	}
	if !store.PasswordMatches(hash, password) {
		return false, nil
	}
	s.passwords.giveBack(try)
	return true, nil
}
