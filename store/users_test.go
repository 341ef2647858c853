package store

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

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
