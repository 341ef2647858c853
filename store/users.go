package store

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Role is what a user may do: admins manage everything, members see their organisations.
type Role string

const (
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleMember }

// ErrLastAdmin is returned when a change would leave the installation without an admin.
var ErrLastAdmin = errors.New("this is the only admin; make another user an admin first")

// ErrSetupDone is returned when the first admin is created twice.
var ErrSetupDone = errors.New("setup is already complete")

// User is a person who signs in to Hookyard.
type User struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	Role         Role      `json:"role"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// IsAdmin reports whether u manages the whole installation.
func (u User) IsAdmin() bool { return u.Role == RoleAdmin }

// DefaultPasswordCost is bcrypt's work factor: about 0.2 s a hash on the reference machine.
const DefaultPasswordCost = 12

// SetPasswordCost changes the bcrypt work factor of new hashes. Tests lower it (a cost-12
// hash takes seconds under the race detector); nothing else should.
func (s *Store) SetPasswordCost(cost int) { s.passwordCost = cost }

// HashPassword returns the bcrypt hash of a password already checked by ValidatePassword.
func (s *Store) HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.passwordCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// PasswordMatches reports whether password is the one hashed into hash.
func PasswordMatches(hash, password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// ValidatePassword returns a plain-language problem with a new password, or "".
func ValidatePassword(p string) string {
	switch {
	case utf8.RuneCountInString(p) < 8:
		return "Use at least 8 characters."
	case len(p) > 72:
		return "Use at most 72 bytes (bcrypt ignores anything longer)."
	}
	return ""
}

// ValidateEmail returns a plain-language problem with an e-mail address, or "".
func ValidateEmail(e string) string {
	if e == "" {
		return "Enter an e-mail address."
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || !strings.Contains(e, "@") || len(e) > 254 {
		return "Enter an e-mail address like name@example.com."
	}
	return ""
}

// ValidateName returns a plain-language problem with a display name, or "".
func ValidateName(n string) string { return NameProblem(n, "Enter a name.", 200) }

// NameProblem is the one rule for a name a person gives something (a user, webhook,
// organisation, project, event type label, token): valid UTF-8 text with something visible
// in it, no control characters (NUL, line breaks, tabs, escapes) or direction overrides, and
// at most max characters. ifBlank is the message for an empty or blank name. It returns ""
// when the name is fine.
func NameProblem(name, ifBlank string, max int) string {
	if !utf8.ValidString(name) {
		return "This is not valid text (it has bytes that are not UTF-8); type it again."
	}
	visible, control := false, false
	for _, r := range name {
		control = control || unicode.IsControl(r) || isDirectionOverride(r)
		visible = visible || unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S)
	}
	switch {
	case !visible:
		return ifBlank
	case control:
		return "Use only printable characters: line breaks, tabs and other control characters cannot be part of a name."
	case utf8.RuneCountInString(name) > max:
		return fmt.Sprintf("Use at most %d characters.", max)
	}
	return ""
}

// isDirectionOverride reports the invisible characters that reorder the text shown around
// them, with which a name could pose as another.
func isDirectionOverride(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

const userColumns = `id, email, name, role, password_hash, created_at, updated_at`

func scanUser(row scanner) (User, error) {
	var u User
	var created, updated int64
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &created, &updated)
	u.CreatedAt, u.UpdatedAt = fromMS(created), fromMS(updated)
	return u, notFound(err)
}

// CountUsers returns how many users exist (zero means setup has not run).
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}

// CreateUser stores u, filling in its id and timestamps. ErrConflict means the e-mail is taken.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	return s.WithTx(ctx, func(tx *Tx) error { return s.insertUser(ctx, tx, u) })
}

// CreateFirstAdmin stores u as an admin only if no user exists yet; otherwise ErrSetupDone.
func (s *Store) CreateFirstAdmin(ctx context.Context, u *User) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if err := tx.Serialize(ctx, "first admin"); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ErrSetupDone
		}
		u.Role = RoleAdmin
		return s.insertUser(ctx, tx, u)
	})
}

func (s *Store) insertUser(ctx context.Context, tx *Tx, u *User) error {
	now := s.nowMS()
	u.ID = s.newID("usr", now)
	u.CreatedAt, u.UpdatedAt = fromMS(now), fromMS(now)
	_, err := tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.Name, u.Role, u.PasswordHash, now, now)
	if isUnique(err) {
		return ErrConflict
	}
	return err
}

// UserByID returns one user or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id string) (User, error) {
	return scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
}

// UserByEmail returns one user (e-mail compared without the case of ASCII letters) or
// ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	return scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE lower(email) = ?`, lowerASCII(email)))
}

// lowerASCII folds A-Z to a-z and leaves every other character as it is: the case folding
// of e-mail addresses, the same as lower() of the users.email column on both engines (SQLite
// folds ASCII only; PostgreSQL too under the column's "C" collation, whatever the locale).
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// ListUsers returns one page of users in creation order.
func (s *Store) ListUsers(ctx context.Context, p Page) ([]User, string, error) {
	p, err := p.forList("usr")
	if err != nil {
		return nil, "", err
	}
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE id > ? ORDER BY id LIMIT ?`, p.Cursor, p.Limit+1)
	return collectPage(rows, err, p, scanUser, func(u User) string { return u.ID })
}

// UserChanges lists the fields of a user to change; nil fields stay as they are.
type UserChanges struct {
	Email        *string
	Name         *string
	Role         *Role
	PasswordHash *string
}

// UpdateUser applies ch to the user and returns the result. Demoting the last admin is
// ErrLastAdmin; an e-mail already taken is ErrConflict.
func (s *Store) UpdateUser(ctx context.Context, id string, ch UserChanges) (User, error) {
	defer s.changedUser(id)
	var u User
	err := s.WithTx(ctx, func(tx *Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
		if err != nil {
			return err
		}
		if ch.Role != nil && *ch.Role != RoleAdmin && u.Role == RoleAdmin {
			if err := lastAdminGuard(ctx, tx); err != nil {
				return err
			}
		}
		if ch.Email != nil {
			u.Email = *ch.Email
		}
		if ch.Name != nil {
			u.Name = *ch.Name
		}
		if ch.Role != nil {
			u.Role = *ch.Role
		}
		if ch.PasswordHash != nil {
			u.PasswordHash = *ch.PasswordHash
		}
		now := s.nowMS()
		u.UpdatedAt = fromMS(now)
		_, err = tx.ExecContext(ctx,
			`UPDATE users SET email = ?, name = ?, role = ?, password_hash = ?, updated_at = ? WHERE id = ?`,
			u.Email, u.Name, u.Role, u.PasswordHash, now, id)
		if isUnique(err) {
			return ErrConflict
		}
		return err
	})
	return u, err
}

// DeleteUser removes a user with their tokens and memberships. Removing the last admin is
// ErrLastAdmin.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	defer s.changedUser(id)
	return s.WithTx(ctx, func(tx *Tx) error {
		var role Role
		if err := tx.QueryRowContext(ctx, `SELECT role FROM users WHERE id = ?`, id).Scan(&role); err != nil {
			return notFound(err)
		}
		if role == RoleAdmin {
			if err := lastAdminGuard(ctx, tx); err != nil {
				return err
			}
		}
		return checkAffected(tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id))
	})
}

func lastAdminGuard(ctx context.Context, tx *Tx) error {
	if err := tx.Serialize(ctx, "admins"); err != nil {
		return err
	}
	var admins int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = 'admin'`).Scan(&admins); err != nil {
		return err
	}
	if admins <= 1 {
		return ErrLastAdmin
	}
	return nil
}
