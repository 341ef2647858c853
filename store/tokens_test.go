package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCreateToken(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hookyard.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	clock := useClock(s, 0)
	u := createUser(t, s, "ada@example.com", "Ada", RoleMember)

	tok, secret, err := s.CreateToken(ctx, u.ID, "CI deploys")
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if !strings.HasPrefix(secret, "hyk_") || len(secret) != len("hyk_")+43 {
		t.Errorf("secret = %q, want hyk_ and 43 base64url characters (32 bytes)", secret)
	}
	want := APIToken{ID: tok.ID, UserID: u.ID, UserEmail: "ada@example.com", Name: "CI deploys",
		Prefix: secret[:10], CreatedAt: clock.Peek()}
	if !strings.HasPrefix(tok.ID, "tok_") || tok.LastUsedAt != nil || !tokensEqual(tok, want) {
		t.Errorf("CreateToken = %+v, want %+v with a tok_ id and no LastUsedAt", tok, want)
	}
	if got, err := s.Token(ctx, tok.ID); err != nil || !tokensEqual(got, want) {
		t.Errorf("Token = %+v, %v; want %+v", got, err, want)
	}

	_, secret2, err := s.CreateToken(ctx, u.ID, "CI deploys") // same name is allowed
	if err != nil {
		t.Fatalf("second CreateToken: %v", err)
	}
	if secret2 == secret {
		t.Error("two tokens got the same secret")
	}

	// Only a hash is kept: the secret is nowhere in the table, nor in the files on disk.
	rows, err := s.write.QueryContext(ctx, `SELECT id, user_id, name, token_hash, prefix FROM api_tokens`)
	stored, err := collect(rows, err, func(r scanner) (string, error) {
		var a, b, c, d, e string
		err := r.Scan(&a, &b, &c, &d, &e)
		return strings.Join([]string{a, b, c, d, e}, "|"), err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 2 {
		t.Fatalf("%d token rows, want 2", len(stored))
	}
	hidden := secret[len(want.Prefix):] // what is never shown again
	for _, row := range stored {
		if strings.Contains(row, secret) || strings.Contains(row, hidden) {
			t.Errorf("token row %q contains the secret %q", row, secret)
		}
	}
	if n := countRows(t, s, "api_tokens", "instr(token_hash, ?) > 0 OR token_hash = ?", hidden, secret); n != 0 {
		t.Errorf("%d rows hold the secret in token_hash", n)
	}
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(hidden)) {
			t.Errorf("%s contains the token secret", filepath.Base(f))
		}
	}
}

func TestUserByToken(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTestStore(t)
	clock := useClock(s, 0)
	u := createUser(t, s, "ada@example.com", "Ada", RoleMember)
	tok, secret, err := s.CreateToken(ctx, u.ID, "script")
	if err != nil {
		t.Fatal(err)
	}

	use := func(wantLastUsed time.Time) {
		t.Helper()
		gotU, gotT, err := s.UserByToken(ctx, secret)
		if err != nil {
			t.Fatalf("UserByToken: %v", err)
		}
		if gotU != u {
			t.Errorf("UserByToken user = %+v, want %+v", gotU, u)
		}
		if gotT.ID != tok.ID || gotT.LastUsedAt == nil || !gotT.LastUsedAt.Equal(wantLastUsed) {
			t.Errorf("UserByToken token = %s used %v, want %s used %v", gotT.ID, gotT.LastUsedAt, tok.ID, wantLastUsed)
		}
		stored, err := s.Token(ctx, tok.ID)
		if err != nil || stored.LastUsedAt == nil || !stored.LastUsedAt.Equal(wantLastUsed) {
			t.Errorf("stored LastUsedAt = %v (%v), want %v", stored.LastUsedAt, err, wantLastUsed)
		}
	}

	clock.Advance(10 * time.Second)
	first := clock.Peek()
	use(first)
	clock.Advance(30 * time.Second)
	use(first) // used again within a minute: not rewritten
	clock.Advance(2 * time.Minute)
	use(clock.Peek())

	for _, bad := range []string{
		"",
		"hyk_",
		"hyk_garbage",
		secret[len("hyk_"):],
		"Bearer " + secret,
		secret + "x",
		secret[:len(secret)-1],
		strings.ToUpper(secret[:4]) + secret[4:],
		tok.Prefix,
		tok.ID,
	} {
		if _, _, err := s.UserByToken(ctx, bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("UserByToken(%q) err = %v, want ErrNotFound", bad, err)
		}
	}
}

func TestDeleteToken(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTestStore(t)
	u := createUser(t, s, "ada@example.com", "Ada", RoleMember)
	revoked, secret1, err := s.CreateToken(ctx, u.ID, "old")
	if err != nil {
		t.Fatal(err)
	}
	kept, secret2, err := s.CreateToken(ctx, u.ID, "new")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UserByToken(ctx, secret1); err != nil {
		t.Fatalf("token works before revoking: %v", err)
	}

	if err := s.DeleteToken(ctx, revoked.ID); err != nil {
		t.Fatalf("DeleteToken: %v", err)
	}
	if _, _, err := s.UserByToken(ctx, secret1); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoked token: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Token(ctx, revoked.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Token(revoked) err = %v, want ErrNotFound", err)
	}
	if _, gotT, err := s.UserByToken(ctx, secret2); err != nil || gotT.ID != kept.ID {
		t.Errorf("the other token: %s, %v; want %s", gotT.ID, err, kept.ID)
	}
	if err := s.DeleteToken(ctx, revoked.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteToken twice: err = %v, want ErrNotFound", err)
	}
}

func TestListTokens(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTestStore(t)
	useClock(s, time.Millisecond)
	ada := createUser(t, s, "ada@example.com", "Ada", RoleMember)
	bob := createUser(t, s, "bob@example.com", "Bob", RoleMember)
	mk := func(u User, name string) string {
		tok, _, err := s.CreateToken(ctx, u.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		return tok.Name
	}
	mk(ada, "ada-1")
	mk(bob, "bob-1")
	mk(ada, "ada-2")

	for _, tc := range []struct {
		userID string
		want   []string
	}{
		{ada.ID, []string{"ada-2", "ada-1"}}, // newest first
		{bob.ID, []string{"bob-1"}},
		{"", []string{"ada-2", "bob-1", "ada-1"}},
		{"usr_missing", nil},
	} {
		got, _, err := s.ListTokens(ctx, tc.userID, Page{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tok := range got {
			names = append(names, tok.Name)
			wantEmail := map[string]string{"ada": "ada@example.com", "bob": "bob@example.com"}[tok.Name[:3]]
			if tok.UserEmail != wantEmail {
				t.Errorf("token %s: UserEmail %q, want %q", tok.Name, tok.UserEmail, wantEmail)
			}
		}
		if !slices.Equal(names, tc.want) {
			t.Errorf("ListTokens(%q) = %v, want %v", tc.userID, names, tc.want)
		}
	}
}

func TestDeleteUserRemovesTokens(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTestStore(t)
	createUser(t, s, "admin@example.com", "Admin", RoleAdmin)
	u := createUser(t, s, "ada@example.com", "Ada", RoleMember)
	tok, secret, err := s.CreateToken(ctx, u.ID, "script")
	if err != nil {
		t.Fatal(err)
	}

	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UserByToken(ctx, secret); !errors.Is(err, ErrNotFound) {
		t.Errorf("token of a deleted user: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Token(ctx, tok.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Token of a deleted user: err = %v, want ErrNotFound", err)
	}
	if n := countRows(t, s, "api_tokens", ""); n != 0 {
		t.Errorf("%d token rows left, want 0", n)
	}
}

// tokensEqual compares tokens by value (LastUsedAt is a pointer).
func tokensEqual(a, b APIToken) bool {
	if (a.LastUsedAt == nil) != (b.LastUsedAt == nil) ||
		(a.LastUsedAt != nil && !a.LastUsedAt.Equal(*b.LastUsedAt)) {
		return false
	}
	a.LastUsedAt, b.LastUsedAt = nil, nil
	return a == b
}
