package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestCreateUser(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTestStore(t)
	clock := useClock(s, 0)

	u := User{Email: "ada@example.com", Name: "Ada Lovelace", Role: RoleMember, PasswordHash: "hash"}
	if err := s.CreateUser(ctx, &u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if !strings.HasPrefix(u.ID, "usr_") || len(u.ID) != len("usr_")+26 {
		t.Errorf("ID = %q, want usr_ and 26 characters", u.ID)
	}
	if !u.CreatedAt.Equal(clock.Peek()) || !u.UpdatedAt.Equal(clock.Peek()) {
		t.Errorf("CreatedAt, UpdatedAt = %v, %v; want %v", u.CreatedAt, u.UpdatedAt, clock.Peek())
	}

	got, err := s.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatalf("UserByID: %v", err)
	}
	if got != u {
		t.Errorf("UserByID = %+v, want %+v", got, u)
	}
	if got.IsAdmin() {
		t.Error("a member reports IsAdmin")
	}
	if n, err := s.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("CountUsers = %d, %v; want 1", n, err)
	}
	if _, err := s.UserByID(ctx, "usr_missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("UserByID(unknown) err = %v, want ErrNotFound", err)
	}
}

func TestCreateUserDuplicateEmail(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	createUser(t, s, "ada@example.com", "Ada", RoleAdmin)

	for _, email := range []string{"ada@example.com", "ADA@EXAMPLE.COM", "Ada@Example.com"} {
		u := User{Email: email, Name: "Someone else", Role: RoleMember, PasswordHash: "x"}
		if err := s.CreateUser(t.Context(), &u); !errors.Is(err, ErrConflict) {
			t.Errorf("CreateUser(%q) err = %v, want ErrConflict", email, err)
		}
	}
	if n, _ := s.CountUsers(t.Context()); n != 1 {
		t.Errorf("CountUsers = %d after refused duplicates, want 1", n)
	}
	createUser(t, s, "ada2@example.com", "Ada Two", RoleMember) // a different address is fine
}

func TestUserByEmailIgnoresCase(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	ada := createUser(t, s, "Ada@Example.com", "Ada", RoleAdmin)
	createUser(t, s, "bob@example.com", "Bob", RoleMember)

	for _, tc := range []struct {
		email  string
		wantID string
		err    error
	}{
		{"Ada@Example.com", ada.ID, nil},
		{"ada@example.com", ada.ID, nil},
		{"ADA@EXAMPLE.COM", ada.ID, nil},
		{"ada@example.org", "", ErrNotFound},
		{"", "", ErrNotFound},
	} {
		got, err := s.UserByEmail(t.Context(), tc.email)
		if !errors.Is(err, tc.err) || got.ID != tc.wantID {
			t.Errorf("UserByEmail(%q) = %q, %v; want %q, %v", tc.email, got.ID, err, tc.wantID, tc.err)
		}
		if err == nil && got.Email != "Ada@Example.com" {
			t.Errorf("UserByEmail(%q).Email = %q, want the address as stored", tc.email, got.Email)
		}
	}
}

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTestStore(t)
	clock := useClock(s, 0)
	createUser(t, s, "admin@example.com", "Admin", RoleAdmin)
	u := createUser(t, s, "ada@example.com", "Ada", RoleMember)
	other := createUser(t, s, "bob@example.com", "Bob", RoleMember)
	created := u.CreatedAt

	ptr := func(s string) *string { return &s }
	admin := RoleAdmin
	steps := []struct {
		name string
		ch   UserChanges
		want func(*User) // how the expected user changes
	}{
		{"name only", UserChanges{Name: ptr("Ada Lovelace")}, func(u *User) { u.Name = "Ada Lovelace" }},
		{"email only", UserChanges{Email: ptr("ada@lovelace.example")}, func(u *User) { u.Email = "ada@lovelace.example" }},
		{"email case only", UserChanges{Email: ptr("ADA@lovelace.example")}, func(u *User) { u.Email = "ADA@lovelace.example" }},
		{"role", UserChanges{Role: &admin}, func(u *User) { u.Role = RoleAdmin }},
		{"password", UserChanges{PasswordHash: ptr("new-hash")}, func(u *User) { u.PasswordHash = "new-hash" }},
		{"nothing", UserChanges{}, func(*User) {}},
	}
	want := u
	for _, st := range steps {
		clock.Advance(time.Minute)
		got, err := s.UpdateUser(ctx, u.ID, st.ch)
		if err != nil {
			t.Fatalf("%s: UpdateUser: %v", st.name, err)
		}
		st.want(&want)
		want.UpdatedAt = clock.Peek()
		if got != want {
			t.Errorf("%s: UpdateUser = %+v, want %+v", st.name, got, want)
		}
		if stored, _ := s.UserByID(ctx, u.ID); stored != want {
			t.Errorf("%s: stored user = %+v, want %+v", st.name, stored, want)
		}
	}
	if !want.CreatedAt.Equal(created) {
		t.Errorf("CreatedAt changed from %v to %v", created, want.CreatedAt)
	}

	// Taking another user's address (in any case) is a conflict and changes nothing.
	if _, err := s.UpdateUser(ctx, u.ID, UserChanges{Email: ptr("BOB@example.com"), Name: ptr("Bobby")}); !errors.Is(err, ErrConflict) {
		t.Errorf("UpdateUser to a taken e-mail: err = %v, want ErrConflict", err)
	}
	if stored, _ := s.UserByID(ctx, u.ID); stored != want {
		t.Errorf("after a refused update the user is %+v, want %+v", stored, want)
	}
	if stored, _ := s.UserByID(ctx, other.ID); stored != other {
		t.Errorf("the other user changed: %+v, want %+v", stored, other)
	}

	if _, err := s.UpdateUser(ctx, "usr_missing", UserChanges{Name: ptr("x")}); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateUser(unknown) err = %v, want ErrNotFound", err)
	}
}

func TestLastAdminIsKept(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTestStore(t)
	admin := createUser(t, s, "admin@example.com", "Admin", RoleAdmin)
	member := createUser(t, s, "member@example.com", "Member", RoleMember)
	roleMember, roleAdmin := RoleMember, RoleAdmin

	if _, err := s.UpdateUser(ctx, admin.ID, UserChanges{Role: &roleMember}); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("demoting the only admin: err = %v, want ErrLastAdmin", err)
	}
	if err := s.DeleteUser(ctx, admin.ID); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("deleting the only admin: err = %v, want ErrLastAdmin", err)
	}
	if got, err := s.UserByID(ctx, admin.ID); err != nil || got.Role != RoleAdmin {
		t.Fatalf("the only admin is now %+v, %v; want unchanged", got, err)
	}
	// Keeping the admin an admin, or editing other fields, is not a demotion.
	if _, err := s.UpdateUser(ctx, admin.ID, UserChanges{Role: &roleAdmin}); err != nil {
		t.Errorf("re-setting the only admin's role to admin: %v", err)
	}
	// Members are not guarded.
	if _, err := s.UpdateUser(ctx, member.ID, UserChanges{Role: &roleMember}); err != nil {
		t.Errorf("setting a member's role to member: %v", err)
	}

	// With a second admin, the first may be demoted; then the second is the last one.
	if _, err := s.UpdateUser(ctx, member.ID, UserChanges{Role: &roleAdmin}); err != nil {
		t.Fatalf("promoting: %v", err)
	}
	if _, err := s.UpdateUser(ctx, admin.ID, UserChanges{Role: &roleMember}); err != nil {
		t.Errorf("demoting one of two admins: %v", err)
	}
	if err := s.DeleteUser(ctx, member.ID); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("deleting the new only admin: err = %v, want ErrLastAdmin", err)
	}

	// With two admins, one may be deleted.
	if _, err := s.UpdateUser(ctx, admin.ID, UserChanges{Role: &roleAdmin}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, member.ID); err != nil {
		t.Errorf("deleting one of two admins: %v", err)
	}
	if _, err := s.UserByID(ctx, member.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted admin still found: %v", err)
	}
	if n, _ := s.CountUsers(ctx); n != 1 {
		t.Errorf("CountUsers = %d, want 1", n)
	}
}

func TestDeleteUser(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTestStore(t)
	createUser(t, s, "admin@example.com", "Admin", RoleAdmin)
	m := createUser(t, s, "member@example.com", "Member", RoleMember)
	o := createOrg(t, s, "Acme")
	if err := s.AddMember(ctx, o.ID, m.ID); err != nil {
		t.Fatal(err)
	}

	if err := s.DeleteUser(ctx, m.ID); err != nil {
		t.Fatalf("DeleteUser(member): %v", err)
	}
	if _, err := s.UserByID(ctx, m.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("UserByID after delete: err = %v, want ErrNotFound", err)
	}
	if n := countRows(t, s, "memberships", "user_id = ?", m.ID); n != 0 {
		t.Errorf("%d memberships left for the deleted user, want 0", n)
	}
	if err := s.DeleteUser(ctx, m.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting twice: err = %v, want ErrNotFound", err)
	}
	if err := s.DeleteUser(ctx, "usr_missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteUser(unknown) err = %v, want ErrNotFound", err)
	}
}

func TestCreateFirstAdmin(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	t.Run("empty database", func(t *testing.T) {
		s := openTestStore(t)
		u := User{Email: "root@example.com", Name: "Root", Role: RoleMember, PasswordHash: "x"}
		if err := s.CreateFirstAdmin(ctx, &u); err != nil {
			t.Fatalf("CreateFirstAdmin: %v", err)
		}
		if u.Role != RoleAdmin || u.ID == "" {
			t.Errorf("first admin = %+v, want an admin with an id", u)
		}
		if got, _ := s.UserByID(ctx, u.ID); got.Role != RoleAdmin {
			t.Errorf("stored role = %q, want admin", got.Role)
		}

		again := User{Email: "second@example.com", Name: "Second", Role: RoleAdmin, PasswordHash: "x"}
		if err := s.CreateFirstAdmin(ctx, &again); !errors.Is(err, ErrSetupDone) {
			t.Errorf("second CreateFirstAdmin: err = %v, want ErrSetupDone", err)
		}
		if n, _ := s.CountUsers(ctx); n != 1 {
			t.Errorf("CountUsers = %d, want 1", n)
		}
	})

	t.Run("database with a member", func(t *testing.T) {
		s := openTestStore(t)
		createUser(t, s, "member@example.com", "Member", RoleMember)
		u := User{Email: "root@example.com", Name: "Root", PasswordHash: "x"}
		if err := s.CreateFirstAdmin(ctx, &u); !errors.Is(err, ErrSetupDone) {
			t.Errorf("CreateFirstAdmin with a user present: err = %v, want ErrSetupDone", err)
		}
		if _, err := s.UserByEmail(ctx, "root@example.com"); !errors.Is(err, ErrNotFound) {
			t.Errorf("refused first admin was stored: %v", err)
		}
	})
}

func TestListUsersPages(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	useClock(s, time.Millisecond)
	var want []string
	for _, name := range []string{"e", "d", "c", "b", "a"} {
		want = append(want, createUser(t, s, name+"@example.com", name, RoleMember).ID)
	}
	pages := walkPages(t, 2, func(p Page) ([]User, string, error) { return s.ListUsers(t.Context(), p) },
		func(u User) string { return u.ID })
	if got := pageSizes(pages); !slices.Equal(got, []int{2, 2, 1}) {
		t.Errorf("page sizes = %v, want [2 2 1]", got)
	}
	if got := flatten(pages); !slices.Equal(got, want) {
		t.Errorf("users = %v, want creation order %v", got, want)
	}
}

func TestPasswordHashing(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	if s.passwordCost != 12 || DefaultPasswordCost != 12 {
		t.Errorf("a new store hashes at cost %d (default %d), want 12", s.passwordCost, DefaultPasswordCost)
	}
	s.SetPasswordCost(bcrypt.MinCost) // a cost-12 hash takes seconds under -race

	const pw = "correct horse battery staple"
	hash, err := s.HashPassword(pw)
	if err != nil {
		t.Fatalf("HashPassword: %v", err)
	}
	if strings.Contains(hash, pw) {
		t.Error("hash contains the password")
	}
	if cost, err := bcrypt.Cost([]byte(hash)); err != nil || cost != bcrypt.MinCost {
		t.Errorf("bcrypt cost = %d, %v; want the configured %d", cost, err, bcrypt.MinCost)
	}
	if again, _ := s.HashPassword(pw); again == hash {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, tc := range []struct {
		hash, password string
		want           bool
	}{
		{hash, pw, true},
		{hash, pw + " ", false},
		{hash, strings.ToUpper(pw), false},
		{hash, "", false},
		{"not a bcrypt hash", pw, false},
		{"", "", false},
	} {
		if got := PasswordMatches(tc.hash, tc.password); got != tc.want {
			t.Errorf("PasswordMatches(%.10q…, %q) = %v, want %v", tc.hash, tc.password, got, tc.want)
		}
	}
	if _, err := s.HashPassword(strings.Repeat("a", 73)); err == nil {
		t.Error("HashPassword accepted 73 bytes; bcrypt would ignore the tail")
	}
}

func TestValidatePassword(t *testing.T) {
	t.Parallel()
	const short, long = "Use at least 8 characters.", "Use at most 72 bytes (bcrypt ignores anything longer)."
	for _, tc := range []struct {
		name, password, want string
	}{
		{"empty", "", short},
		{"7 characters", "1234567", short},
		{"8 characters", "12345678", ""},
		{"7 two-byte characters", strings.Repeat("é", 7), short},
		{"8 two-byte characters", strings.Repeat("é", 8), ""},
		{"72 bytes", strings.Repeat("a", 72), ""},
		{"73 bytes", strings.Repeat("a", 73), long},
		{"37 two-byte characters (74 bytes)", strings.Repeat("é", 37), long},
	} {
		if got := ValidatePassword(tc.password); got != tc.want {
			t.Errorf("%s: ValidatePassword = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestValidateEmail(t *testing.T) {
	t.Parallel()
	const empty, bad = "Enter an e-mail address.", "Enter an e-mail address like name@example.com."
	long := strings.Repeat("a", 64) + "@" + strings.Repeat(strings.Repeat("b", 60)+".", 3) + "example.com" // 270 bytes
	for _, tc := range []struct {
		email, want string
	}{
		{"", empty},
		{"name@example.com", ""},
		{"first.last+tag@sub.example.co.uk", ""},
		{"Name@Example.COM", ""},
		{"name", bad},
		{"name@", bad},
		{"@example.com", bad},
		{"a@b@example.com", bad},
		{"Name <name@example.com>", bad},
		{"<name@example.com>", bad},
		{" name@example.com", bad},
		{"name@example.com ", bad},
		{"name@example.com, other@example.com", bad},
		{long, bad},
	} {
		if got := ValidateEmail(tc.email); got != tc.want {
			t.Errorf("ValidateEmail(%q) = %q, want %q", tc.email, got, tc.want)
		}
	}
}

func TestValidateName(t *testing.T) {
	t.Parallel()
	const empty, long = "Enter a name.", "Use at most 200 characters."
	const (
		control = "Use only printable characters: line breaks, tabs and other control characters cannot be part of a name."
		invalid = "This is not valid text (it has bytes that are not UTF-8); type it again."
	)
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", empty},
		{"blank", " \t\n ", empty},
		{"plain", "Ada Lovelace", ""},
		{"200 multibyte characters", strings.Repeat("ü", 200), ""},
		{"201 characters", strings.Repeat("a", 201), long},
		{"only a NUL", "\x00", empty},
		{"only invisible spaces", "\u200b\u00a0\u3000", empty},
		{"NUL inside", "Ada\x00Lovelace", control},
		{"line break inside", "Ada\nLovelace", control},
		{"escape sequence", "Ada \x1b[31mred", control},
		{"C1 control", "Ada\u0085", control},
		{"direction override", "Ada \u202egpj.exe", control},
		{"invalid UTF-8", "Ada \xff\xfe", invalid},
		{"truncated UTF-8", "Ad\xc3", invalid},
		{"emoji with joiner", "Team 👩\u200d💻", ""},
		{"accents and scripts", "Zoë 山田", ""},
	} {
		if got := ValidateName(tc.in); got != tc.want {
			t.Errorf("%s: ValidateName = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestRoleValid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		role Role
		want bool
	}{
		{RoleAdmin, true}, {RoleMember, true}, {"", false}, {"Admin", false}, {"owner", false},
	} {
		if got := tc.role.Valid(); got != tc.want {
			t.Errorf("Role(%q).Valid() = %v, want %v", tc.role, got, tc.want)
		}
	}
}
