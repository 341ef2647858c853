package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"hookyard/handlers"
	"hookyard/store"
)

// fewPasswordTries allows three password checks per account and client, and no more for
// the rest of the test.
func fewPasswordTries(o *handlers.Options) {
	o.LoginBurst = 3
	o.LoginRate = rate.Every(time.Hour)
}

// passwordWays are the three places a password is checked, each trying password for Mia
// (whose API token is token) and answering whether it was throttled and whether it worked.
type passwordWay struct {
	name string
	try  func(t *testing.T, password string) (throttled, worked bool)
}

func passwordWays(f *apiFixture) []passwordWay {
	page := f.signedInAs(f.mia) // signed in before any guess
	return []passwordWay{
		{"sign-in", func(t *testing.T, password string) (bool, bool) {
			t.Helper()
			p := f.browser().within(t).post("/login", url.Values{"email": {f.mia.Email}, "password": {password}})
			if p.StatusCode == http.StatusTooManyRequests {
				wantRetryAfter(t, p.Header)
				if msg := alertText(p); !strings.Contains(strings.ToLower(msg), "too many") {
					t.Errorf("sign-in says %q, want that there were too many attempts", msg)
				}
				return true, false
			}
			return false, p.StatusCode == http.StatusSeeOther
		}},
		{"account page", func(t *testing.T, password string) (bool, bool) {
			t.Helper()
			p := page.within(t).post("/account/password", url.Values{"current_password": {password}, "password": {password}})
			if p.StatusCode == http.StatusTooManyRequests {
				wantRetryAfter(t, p.Header)
				if msg := alertText(p); !strings.Contains(strings.ToLower(msg), "too many") {
					t.Errorf("account page says %q, want that there were too many attempts", msg)
				}
				return true, false
			}
			return false, p.StatusCode == http.StatusSeeOther
		}},
		{"API currentPassword", func(t *testing.T, password string) (bool, bool) {
			t.Helper()
			r := f.api(f.miaToken, http.MethodPatch, "/api/v1/users/"+f.mia.ID,
				map[string]string{"password": password, "currentPassword": password})
			if r.Status == http.StatusTooManyRequests {
				wantRetryAfter(t, r.Header)
				p := wantProblem(t, r, http.StatusTooManyRequests)
				if !strings.Contains(p.Detail, "3 tries for one account from one address") {
					t.Errorf("429 detail %q does not name the limit", p.Detail)
				}
				return true, false
			}
			return false, r.Status == http.StatusOK
		}},
	}
}

func wantRetryAfter(t *testing.T, h http.Header) {
	t.Helper()
	if n, err := strconv.Atoi(h.Get("Retry-After")); err != nil || n <= 0 {
		t.Errorf("Retry-After %q, want a positive number of seconds", h.Get("Retry-After"))
	}
}

// Wrong guesses through any of the three ways use up one allowance; after that every way
// refuses to check, the right password included, so a throttled answer says nothing.
func TestPasswordChecksShareOneLimit(t *testing.T) {
	for start := range 3 {
		f := newAPIFixture(t, fewPasswordTries)
		ways := passwordWays(f)
		t.Run("starting with "+ways[start].name, func(t *testing.T) {
			for i := range 3 { // one wrong guess through each way, in turn
				w := ways[(start+i)%3]
				if throttled, worked := w.try(t, "wrong guess "+strconv.Itoa(i)); throttled || worked {
					t.Fatalf("wrong guess %d through %s: throttled %v, worked %v; want a plain refusal", i+1, w.name, throttled, worked)
				}
			}
			for _, w := range ways {
				if throttled, worked := w.try(t, testPassword); !throttled || worked {
					t.Errorf("the right password through %s after 3 wrong ones: throttled %v, worked %v; want throttled", w.name, throttled, worked)
				}
			}
			u, err := f.store.UserByID(t.Context(), f.mia.ID)
			if err != nil || !store.PasswordMatches(u.PasswordHash, testPassword) {
				t.Errorf("Mia's password changed while throttled (%v)", err)
			}
		})
	}
}

// Right passwords do not count, and only the account guessed at is held back.
func TestPasswordLimitCountsWrongGuessesOfOneAccount(t *testing.T) {
	f := newAPIFixture(t, fewPasswordTries)
	for range 5 {
		f.browser().login(f.mia.Email)
	}
	ways := passwordWays(f)
	for i := range 3 {
		if throttled, _ := ways[0].try(t, "wrong "+strconv.Itoa(i)); throttled {
			t.Fatalf("wrong guess %d throttled after only right ones before", i+1)
		}
	}
	if throttled, _ := ways[0].try(t, testPassword); !throttled {
		t.Fatalf("fourth guess not throttled")
	}
	f.browser().login(f.otto.Email) // another account from the same address

	// An admin resetting Mia's password checks no password of theirs, so is not held back.
	f.call(t, f.adminToken, http.MethodPatch, "/api/v1/users/"+f.mia.ID, map[string]string{"password": "reset by the admin"}, http.StatusOK)
	wantSeeOther(t, f.signedInAs(f.admin).post("/users/"+f.mia.ID+"/password", url.Values{"password": {"reset again by the admin"}}), "/users/"+f.mia.ID)
}
