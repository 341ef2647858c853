package storetest

import (
	"strings"
	"testing"
	"time"

	"hookyard/store"
)

var userCases = []testCase{
	{"CreateAndRead", testCreateUser},
	{"EmailTakenInAnyCase", testUserEmailConflict},
	{"ByEmailIgnoresCase", testUserByEmail},
	{"EmailCaseFoldsASCIILettersOnly", testUserEmailFoldsASCII},
	{"Update", testUpdateUser},
	{"LastAdminIsKept", testLastAdmin},
	{"DeleteTakesMembershipsTokensSessions", testDeleteUser},
	{"FirstAdminOnEmptyStore", testFirstAdminEmpty},
	{"FirstAdminRefusedAfterAUser", testFirstAdminRefused},
}

func testCreateUser(t *testing.T, f *fixture) {
	u := store.User{Email: "ada@example.com", Name: "Ada Lovelace", Role: store.RoleMember, PasswordHash: "hash"}
	f.must(f.s.CreateUser(f.ctx, &u), "CreateUser")
	if !strings.HasPrefix(u.ID, "usr_") || len(u.ID) != len("usr_")+26 {
		t.Errorf("ID = %q, want usr_ and 26 characters", u.ID)
	}
	if !u.CreatedAt.Equal(f.now()) || !u.UpdatedAt.Equal(f.now()) {
		t.Errorf("CreatedAt, UpdatedAt = %v, %v; want %v", u.CreatedAt, u.UpdatedAt, f.now())
	}
	got, err := f.s.UserByID(f.ctx, u.ID)
	f.must(err, "UserByID")
	check(t, "UserByID", got, u)
	if got.IsAdmin() {
		t.Error("a member reports IsAdmin")
	}
	if n, err := f.s.CountUsers(f.ctx); err != nil || n != 1 {
		t.Errorf("CountUsers = %d, %v; want 1", n, err)
	}
	f.user("bob@example.com", "Bob", store.RoleAdmin)
	if n, err := f.s.CountUsers(f.ctx); err != nil || n != 2 {
		t.Errorf("CountUsers = %d, %v; want 2", n, err)
	}
}

func testUserEmailConflict(t *testing.T, f *fixture) {
	f.user("ada@example.com", "Ada", store.RoleAdmin)
	for _, email := range []string{"ada@example.com", "ADA@EXAMPLE.COM", "Ada@Example.com"} {
		u := store.User{Email: email, Name: "Someone else", Role: store.RoleMember, PasswordHash: "x"}
		checkErr(t, "CreateUser "+email, f.s.CreateUser(f.ctx, &u), store.ErrConflict)
	}
	if n, _ := f.s.CountUsers(f.ctx); n != 1 {
		t.Errorf("CountUsers = %d after refused duplicates, want 1", n)
	}
	f.user("ada2@example.com", "Ada Two", store.RoleMember) // a different address is fine
}

func testUserByEmail(t *testing.T, f *fixture) {
	ada := f.user("Ada@Example.com", "Ada", store.RoleAdmin)
	f.user("bob@example.com", "Bob", store.RoleMember)
	for _, tc := range []struct {
		email  string
		wantID string
		err    error
	}{
		{"Ada@Example.com", ada.ID, nil},
		{"ada@example.com", ada.ID, nil},
		{"ADA@EXAMPLE.COM", ada.ID, nil},
		{"ada@example.org", "", store.ErrNotFound},
		{"", "", store.ErrNotFound},
	} {
		got, err := f.s.UserByEmail(f.ctx, tc.email)
		checkErr(t, "UserByEmail "+tc.email, err, tc.err)
		if got.ID != tc.wantID {
			t.Errorf("UserByEmail(%q) = %q, want %q", tc.email, got.ID, tc.wantID)
		}
		if err == nil && got != ada {
			t.Errorf("UserByEmail(%q) = %+v, want the user as stored %+v", tc.email, got, ada)
		}
	}
}

// E-mail addresses compare without the case of ASCII letters, and only those: every engine
// agrees with SQLite's NOCASE, whatever the database's locale. (Unicode case rules differ by
// locale and version, and domains are ASCII on the wire.)
func testUserEmailFoldsASCII(t *testing.T, f *fixture) {
	zoe := f.user("Zoë.Ærø@Example.com", "Zoë", store.RoleAdmin)
	for _, tc := range []struct {
		email  string
		wantID string
	}{
		{"Zoë.Ærø@Example.com", zoe.ID},
		{"zoë.Ærø@example.COM", zoe.ID},
		{"ZOë.ÆRø@EXAMPLE.COM", zoe.ID},
		{"ZOË.ÆRØ@EXAMPLE.COM", ""}, // Ë and Ø are other letters than ë and ø
		{"zoë.ærø@example.com", ""},
	} {
		got, err := f.s.UserByEmail(f.ctx, tc.email)
		if tc.wantID == "" {
			checkErr(t, "UserByEmail "+tc.email, err, store.ErrNotFound)
		} else if err != nil || got != zoe {
			t.Errorf("UserByEmail(%q) = %+v, %v; want %+v", tc.email, got, err, zoe)
		}
	}
	taken := store.User{Email: "zoë.Ærø@EXAMPLE.com", Name: "Other", Role: store.RoleMember, PasswordHash: "x"}
	checkErr(t, "CreateUser with only ASCII letters in another case", f.s.CreateUser(f.ctx, &taken), store.ErrConflict)
	other := f.user("ZOË.ærø@example.com", "Another Zoë", store.RoleMember)
	got, err := f.s.UserByEmail(f.ctx, "zoË.ærø@example.com")
	if err != nil || got.ID != other.ID {
		t.Errorf("UserByEmail of the second address = %+v, %v; want %s", got, err, other.ID)
	}
	_, err = f.s.UpdateUser(f.ctx, other.ID, store.UserChanges{Email: ptr("ZOë.Ærø@example.com")})
	checkErr(t, "UpdateUser to the first address in another ASCII case", err, store.ErrConflict)
}

func testUpdateUser(t *testing.T, f *fixture) {
	f.user("admin@example.com", "Admin", store.RoleAdmin)
	u := f.user("ada@example.com", "Ada", store.RoleMember)
	other := f.user("bob@example.com", "Bob", store.RoleMember)
	admin := store.RoleAdmin
	want := u
	for _, st := range []struct {
		name string
		ch   store.UserChanges
		want func(*store.User)
	}{
		{"name only", store.UserChanges{Name: ptr("Ada Lovelace")}, func(u *store.User) { u.Name = "Ada Lovelace" }},
		{"email only", store.UserChanges{Email: ptr("ada@lovelace.example")}, func(u *store.User) { u.Email = "ada@lovelace.example" }},
		{"email case only", store.UserChanges{Email: ptr("ADA@lovelace.example")}, func(u *store.User) { u.Email = "ADA@lovelace.example" }},
		{"role", store.UserChanges{Role: &admin}, func(u *store.User) { u.Role = store.RoleAdmin }},
		{"password", store.UserChanges{PasswordHash: ptr("new-hash")}, func(u *store.User) { u.PasswordHash = "new-hash" }},
		{"nothing", store.UserChanges{}, func(*store.User) {}},
	} {
		f.clock.Advance(time.Minute)
		got, err := f.s.UpdateUser(f.ctx, u.ID, st.ch)
		f.must(err, st.name+": UpdateUser")
		st.want(&want)
		want.UpdatedAt = f.now()
		check(t, st.name+": UpdateUser", got, want)
		stored, _ := f.s.UserByID(f.ctx, u.ID)
		check(t, st.name+": stored user", stored, want)
	}
	if !want.CreatedAt.Equal(u.CreatedAt) {
		t.Errorf("CreatedAt changed from %v to %v", u.CreatedAt, want.CreatedAt)
	}

	// Taking another user's address (in any case) is a conflict and changes nothing.
	_, err := f.s.UpdateUser(f.ctx, u.ID, store.UserChanges{Email: ptr("BOB@example.com"), Name: ptr("Bobby")})
	checkErr(t, "UpdateUser to a taken e-mail", err, store.ErrConflict)
	stored, _ := f.s.UserByID(f.ctx, u.ID)
	check(t, "user after a refused update", stored, want)
	stored, _ = f.s.UserByID(f.ctx, other.ID)
	check(t, "the other user", stored, other)

	_, err = f.s.UpdateUser(f.ctx, "usr_missing", store.UserChanges{Name: ptr("x")})
	checkErr(t, "UpdateUser(unknown)", err, store.ErrNotFound)
}

func testLastAdmin(t *testing.T, f *fixture) {
	admin := f.user("admin@example.com", "Admin", store.RoleAdmin)
	member := f.user("member@example.com", "Member", store.RoleMember)
	roleMember, roleAdmin := store.RoleMember, store.RoleAdmin

	_, err := f.s.UpdateUser(f.ctx, admin.ID, store.UserChanges{Role: &roleMember})
	checkErr(t, "demoting the only admin", err, store.ErrLastAdmin)
	checkErr(t, "deleting the only admin", f.s.DeleteUser(f.ctx, admin.ID), store.ErrLastAdmin)
	if got, err := f.s.UserByID(f.ctx, admin.ID); err != nil || got.Role != store.RoleAdmin {
		t.Fatalf("the only admin is now %+v, %v; want unchanged", got, err)
	}
	// Keeping the admin an admin is not a demotion; members are not guarded.
	_, err = f.s.UpdateUser(f.ctx, admin.ID, store.UserChanges{Role: &roleAdmin})
	checkErr(t, "re-setting the only admin's role to admin", err, nil)
	_, err = f.s.UpdateUser(f.ctx, member.ID, store.UserChanges{Role: &roleMember})
	checkErr(t, "setting a member's role to member", err, nil)

	// With a second admin, the first may be demoted; then the second is the last one.
	_, err = f.s.UpdateUser(f.ctx, member.ID, store.UserChanges{Role: &roleAdmin})
	f.must(err, "promoting")
	_, err = f.s.UpdateUser(f.ctx, admin.ID, store.UserChanges{Role: &roleMember})
	checkErr(t, "demoting one of two admins", err, nil)
	checkErr(t, "deleting the new only admin", f.s.DeleteUser(f.ctx, member.ID), store.ErrLastAdmin)

	// With two admins, one may be deleted.
	_, err = f.s.UpdateUser(f.ctx, admin.ID, store.UserChanges{Role: &roleAdmin})
	f.must(err, "promoting again")
	checkErr(t, "deleting one of two admins", f.s.DeleteUser(f.ctx, member.ID), nil)
	_, err = f.s.UserByID(f.ctx, member.ID)
	checkErr(t, "UserByID(deleted admin)", err, store.ErrNotFound)
	if n, _ := f.s.CountUsers(f.ctx); n != 1 {
		t.Errorf("CountUsers = %d, want 1", n)
	}
}

func testDeleteUser(t *testing.T, f *fixture) {
	admin := f.user("admin@example.com", "Admin", store.RoleAdmin)
	m := f.user("member@example.com", "Member", store.RoleMember)
	o := f.org("Acme")
	f.member(o.ID, m.ID)
	f.member(o.ID, admin.ID)
	tok, secret, err := f.s.CreateToken(f.ctx, m.ID, "script")
	f.must(err, "CreateToken")
	keptTok, _, err := f.s.CreateToken(f.ctx, admin.ID, "admin script")
	f.must(err, "CreateToken")
	session, err := f.s.CreateSession(f.ctx, m.ID, time.Hour)
	f.must(err, "CreateSession")
	hook, keptHook := f.webhook(m.ID, "members"), f.webhook(admin.ID, "admins")
	bin, err := f.s.CreateBin(f.ctx, m.ID, 0)
	f.must(err, "CreateBin")

	f.must(f.s.DeleteUser(f.ctx, m.ID), "DeleteUser(member)")
	_, err = f.s.UserByID(f.ctx, m.ID)
	checkErr(t, "UserByID after delete", err, store.ErrNotFound)
	if ok, _ := f.s.IsMember(f.ctx, o.ID, m.ID); ok {
		t.Error("the deleted user is still a member")
	}
	members, _ := f.s.Members(f.ctx, o.ID)
	check(t, "members left", ids(members, userName), []string{"Admin"})
	byUser, _ := f.s.MemberOrganizations(f.ctx)
	check(t, "MemberOrganizations", byUser, map[string][]string{admin.ID: {o.ID}})
	_, _, err = f.s.UserByToken(f.ctx, secret)
	checkErr(t, "token of the deleted user", err, store.ErrNotFound)
	_, err = f.s.Token(f.ctx, tok.ID)
	checkErr(t, "Token of the deleted user", err, store.ErrNotFound)
	all, _, _ := f.s.ListTokens(f.ctx, "", store.Page{})
	check(t, "tokens left", ids(all, func(t store.APIToken) string { return t.ID }), []string{keptTok.ID})
	_, err = f.s.Session(f.ctx, session)
	checkErr(t, "session of the deleted user", err, store.ErrNotFound)

	_, err = f.s.Webhook(f.ctx, hook.ID)
	checkErr(t, "webhook of the deleted user", err, store.ErrNotFound)
	hooks, _, _ := f.s.ListWebhooks(f.ctx, store.WebhookFilter{}, store.Page{})
	check(t, "webhooks left", ids(hooks, webhookID), []string{keptHook.ID})
	_, err = f.s.Bin(f.ctx, bin.ID)
	checkErr(t, "bin of the deleted user", err, store.ErrNotFound)

	checkErr(t, "deleting twice", f.s.DeleteUser(f.ctx, m.ID), store.ErrNotFound)
	checkErr(t, "DeleteUser(unknown)", f.s.DeleteUser(f.ctx, "usr_missing"), store.ErrNotFound)
}

func testFirstAdminEmpty(t *testing.T, f *fixture) {
	u := store.User{Email: "root@example.com", Name: "Root", Role: store.RoleMember, PasswordHash: "x"}
	f.must(f.s.CreateFirstAdmin(f.ctx, &u), "CreateFirstAdmin")
	if u.Role != store.RoleAdmin || !strings.HasPrefix(u.ID, "usr_") || !u.CreatedAt.Equal(f.now()) {
		t.Errorf("first admin = %+v, want an admin with a usr_ id made now", u)
	}
	got, _ := f.s.UserByID(f.ctx, u.ID)
	check(t, "stored first admin", got, u)

	again := store.User{Email: "second@example.com", Name: "Second", Role: store.RoleAdmin, PasswordHash: "x"}
	checkErr(t, "second CreateFirstAdmin", f.s.CreateFirstAdmin(f.ctx, &again), store.ErrSetupDone)
	if n, _ := f.s.CountUsers(f.ctx); n != 1 {
		t.Errorf("CountUsers = %d, want 1", n)
	}
}

func testFirstAdminRefused(t *testing.T, f *fixture) {
	f.user("member@example.com", "Member", store.RoleMember)
	u := store.User{Email: "root@example.com", Name: "Root", PasswordHash: "x"}
	checkErr(t, "CreateFirstAdmin with a user present", f.s.CreateFirstAdmin(f.ctx, &u), store.ErrSetupDone)
	_, err := f.s.UserByEmail(f.ctx, "root@example.com")
	checkErr(t, "the refused first admin", err, store.ErrNotFound)
}
