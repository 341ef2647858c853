package storetest

import (
	"strings"
	"testing"
	"time"

	"hookyard/store"
)

var sessionCases = []testCase{
	{"Lifecycle", testSessions},
	{"Expire", testSessionExpiry},
}

var tokenCases = []testCase{
	{"Create", testCreateToken},
	{"UserByToken", testUserByToken},
	{"Delete", testDeleteToken},
	{"List", testListTokens},
}

func testSessions(t *testing.T, f *fixture) {
	ada := f.user("ada@example.com", "Ada", store.RoleAdmin)
	bob := f.user("bob@example.com", "Bob", store.RoleMember)
	newSession := func(u store.User) string {
		t.Helper()
		tok, err := f.s.CreateSession(f.ctx, u.ID, time.Hour)
		f.must(err, "CreateSession")
		return tok
	}
	// csrf is the CSRF token each session was first read with: it stays the session's own.
	csrf := map[string]string{}
	works := func(what, token string, want store.User) {
		t.Helper()
		sess, err := f.s.Session(f.ctx, token)
		if err != nil || sess.User != want {
			t.Errorf("%s: Session = %+v, %v; want %+v", what, sess.User, err, want)
		}
		if first, ok := csrf[token]; ok && sess.CSRFToken != first {
			t.Errorf("%s: CSRF token %q, was %q: want it kept for the session's life", what, sess.CSRFToken, first)
		}
		csrf[token] = sess.CSRFToken
	}
	ended := func(what, token string) {
		t.Helper()
		_, err := f.s.Session(f.ctx, token)
		checkErr(t, what, err, store.ErrNotFound)
	}

	a1, a2, b1 := newSession(ada), newSession(ada), newSession(bob)
	if a1 == a2 || len(a1) < 43 {
		t.Errorf("session tokens %q and %q: want two different tokens of 32 random bytes", a1, a2)
	}
	works("a1", a1, ada)
	works("a2", a2, ada)
	works("b1", b1, bob)
	works("a1 read again", a1, ada)
	// Every session has a CSRF token of its own (also two of one user), long, and not the
	// session token.
	for _, tok := range []string{a1, a2, b1} {
		c := csrf[tok]
		if len(c) < 43 || c == tok {
			t.Errorf("CSRF token %q of session %q: want 32 random bytes, not the session token", c, tok)
		}
		for _, other := range []string{a1, a2, b1} {
			if other != tok && (c == csrf[other] || c == other) {
				t.Errorf("session %q has the CSRF token %q, the same as session %q's or its token", tok, c, other)
			}
		}
	}
	ended("unknown token", "not-a-session")
	ended("empty token", "")

	f.must(f.s.DeleteSession(f.ctx, a1), "DeleteSession")
	ended("signed-out session", a1)
	works("another session of the same user", a2, ada)

	a3 := newSession(ada)
	f.must(f.s.DeleteUserSessions(f.ctx, ada.ID, a3), "DeleteUserSessions")
	ended("a session DeleteUserSessions did not keep", a2)
	works("the kept session", a3, ada)
	works("another user's session", b1, bob)

	f.must(f.s.DeleteUserSessions(f.ctx, ada.ID, ""), "DeleteUserSessions keeping none")
	ended("keeping none", a3)
	works("another user's session after keeping none", b1, bob)

	_, err := f.s.CreateSession(f.ctx, "usr_missing", time.Hour)
	checkErr(t, "session for an unknown user", err, store.ErrNotFound)
}

func testSessionExpiry(t *testing.T, f *fixture) {
	ada := f.user("ada@example.com", "Ada", store.RoleAdmin)
	short, err := f.s.CreateSession(f.ctx, ada.ID, time.Hour)
	f.must(err, "CreateSession")
	long, err := f.s.CreateSession(f.ctx, ada.ID, 2*time.Hour)
	f.must(err, "CreateSession")

	f.clock.Advance(time.Hour - time.Millisecond)
	if _, err := f.s.Session(f.ctx, short); err != nil {
		t.Errorf("a session a millisecond before it ends: %v", err)
	}
	f.clock.Advance(time.Millisecond)
	_, err = f.s.Session(f.ctx, short)
	checkErr(t, "a session at its end", err, store.ErrNotFound)
	if _, err := f.s.Session(f.ctx, long); err != nil {
		t.Errorf("a session with time left: %v", err)
	}
	// A new sign-in clears expired sessions and leaves live ones.
	fresh, err := f.s.CreateSession(f.ctx, ada.ID, time.Hour)
	f.must(err, "CreateSession")
	for _, tok := range []string{long, fresh} {
		if _, err := f.s.Session(f.ctx, tok); err != nil {
			t.Errorf("live session after a new sign-in: %v", err)
		}
	}
}

func testCreateToken(t *testing.T, f *fixture) {
	u := f.user("ada@example.com", "Ada", store.RoleMember)
	tok, secret, err := f.s.CreateToken(f.ctx, u.ID, "CI deploys")
	f.must(err, "CreateToken")
	if !strings.HasPrefix(secret, store.TokenPrefix) || len(secret) != len("hyk_")+43 {
		t.Errorf("secret = %q, want hyk_ and 43 base64url characters (32 bytes)", secret)
	}
	if !strings.HasPrefix(tok.ID, "tok_") || len(tok.ID) != len("tok_")+26 {
		t.Errorf("ID = %q, want tok_ and 26 characters", tok.ID)
	}
	want := store.APIToken{ID: tok.ID, UserID: u.ID, UserEmail: "ada@example.com", Name: "CI deploys",
		Prefix: secret[:10], CreatedAt: f.now()}
	check(t, "CreateToken", tok, want)
	got, err := f.s.Token(f.ctx, tok.ID)
	f.must(err, "Token")
	check(t, "Token", got, want)

	_, secret2, err := f.s.CreateToken(f.ctx, u.ID, "CI deploys") // the same name is allowed
	f.must(err, "second CreateToken")
	if secret2 == secret {
		t.Error("two tokens got the same secret")
	}
	_, _, err = f.s.CreateToken(f.ctx, "usr_missing", "x")
	checkErr(t, "CreateToken for an unknown user", err, store.ErrNotFound)
}

func testUserByToken(t *testing.T, f *fixture) {
	u := f.user("ada@example.com", "Ada", store.RoleMember)
	tok, secret, err := f.s.CreateToken(f.ctx, u.ID, "script")
	f.must(err, "CreateToken")

	use := func(wantLastUsed time.Time) {
		t.Helper()
		gotU, gotT, err := f.s.UserByToken(f.ctx, secret)
		f.must(err, "UserByToken")
		check(t, "UserByToken user", gotU, u)
		want := tok
		want.LastUsedAt = &wantLastUsed
		check(t, "UserByToken token", gotT, want)
		stored, err := f.s.Token(f.ctx, tok.ID)
		f.must(err, "Token")
		check(t, "stored token", stored, want)
	}
	f.clock.Advance(10 * time.Second)
	first := f.now()
	use(first)
	f.clock.Advance(30 * time.Second)
	use(first) // used again within a minute: not rewritten
	f.clock.Advance(2 * time.Minute)
	use(f.now())

	for _, bad := range []string{
		"", "hyk_", "hyk_garbage", secret[len("hyk_"):], "Bearer " + secret, secret + "x",
		secret[:len(secret)-1], strings.ToUpper(secret[:4]) + secret[4:], tok.Prefix, tok.ID,
	} {
		_, _, err := f.s.UserByToken(f.ctx, bad)
		checkErr(t, "UserByToken("+bad+")", err, store.ErrNotFound)
	}
}

func testDeleteToken(t *testing.T, f *fixture) {
	u := f.user("ada@example.com", "Ada", store.RoleMember)
	revoked, secret1, err := f.s.CreateToken(f.ctx, u.ID, "old")
	f.must(err, "CreateToken")
	kept, secret2, err := f.s.CreateToken(f.ctx, u.ID, "new")
	f.must(err, "CreateToken")
	if _, _, err := f.s.UserByToken(f.ctx, secret1); err != nil {
		t.Fatalf("token before revoking: %v", err)
	}
	f.must(f.s.DeleteToken(f.ctx, revoked.ID), "DeleteToken")
	_, _, err = f.s.UserByToken(f.ctx, secret1)
	checkErr(t, "revoked token", err, store.ErrNotFound)
	_, err = f.s.Token(f.ctx, revoked.ID)
	checkErr(t, "Token(revoked)", err, store.ErrNotFound)
	if _, got, err := f.s.UserByToken(f.ctx, secret2); err != nil || got.ID != kept.ID {
		t.Errorf("the other token: %s, %v; want %s", got.ID, err, kept.ID)
	}
	checkErr(t, "DeleteToken twice", f.s.DeleteToken(f.ctx, revoked.ID), store.ErrNotFound)
}

func testListTokens(t *testing.T, f *fixture) {
	ada := f.user("ada@example.com", "Ada", store.RoleMember)
	bob := f.user("bob@example.com", "Bob", store.RoleMember)
	for _, m := range []struct {
		u    store.User
		name string
	}{{ada, "ada-1"}, {bob, "bob-1"}, {ada, "ada-2"}} {
		_, _, err := f.s.CreateToken(f.ctx, m.u.ID, m.name)
		f.must(err, "CreateToken")
	}
	for _, tc := range []struct {
		userID string
		want   []string
	}{
		{ada.ID, []string{"ada-2", "ada-1"}}, // newest first, even within one millisecond
		{bob.ID, []string{"bob-1"}},
		{"", []string{"ada-2", "bob-1", "ada-1"}},
		{"usr_missing", []string{}},
	} {
		got, next, err := f.s.ListTokens(f.ctx, tc.userID, store.Page{})
		f.must(err, "ListTokens")
		check(t, "ListTokens("+tc.userID+")", ids(got, tokenName), tc.want)
		check(t, "next cursor of a short list", next, "")
		n, err := f.s.CountTokens(f.ctx, tc.userID)
		f.must(err, "CountTokens")
		check(t, "CountTokens("+tc.userID+")", n, len(tc.want))
		for _, tok := range got {
			want := map[string]string{"ada": "ada@example.com", "bob": "bob@example.com"}[tok.Name[:3]]
			if tok.UserEmail != want || tok.LastUsedAt != nil || !tok.CreatedAt.Equal(f.now()) {
				t.Errorf("token %s: %+v, want e-mail %s, made now, never used", tok.Name, tok, want)
			}
		}
	}
}
