package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
)

// crockford is Crockford's base32 alphabet in lower case: ids read well and sort by time.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// NewID returns prefix + "_" + 26 characters: 48 bits of milliseconds then 80 random bits,
// so ids sort by creation time (to the millisecond) and serve directly as pagination cursors.
func NewID(prefix string, now time.Time) string {
	var r [10]byte
	_, _ = rand.Read(r[:])
	return encodeID(prefix, now.UnixMilli(), r)
}

// idSource hands out ids that sort in creation order even within one millisecond: a later
// id in the same millisecond is the previous one plus one.
type idSource struct {
	mu     sync.Mutex
	lastMS int64
	last   [10]byte
}

func (g *idSource) next(prefix string, now time.Time) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	t := now.UnixMilli()
	if t <= g.lastMS {
		t = g.lastMS
		for i := len(g.last) - 1; i >= 0; i-- {
			g.last[i]++
			if g.last[i] != 0 {
				break
			}
		}
	} else {
		g.lastMS = t
		_, _ = rand.Read(g.last[:])
	}
	return encodeID(prefix, t, g.last)
}

func encodeID(prefix string, ms int64, random [10]byte) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(ms)<<16)
	copy(b[6:], random[:])
	var out [26]byte
	// 128 bits as 26 base32 digits, most significant first (the top two bits are zero).
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return prefix + "_" + string(out[:])
}

// IsID reports whether s has the shape of an id NewID makes: a lower-case prefix, "_", and 26
// characters of the alphabet holding 128 bits. List cursors are ids, so a cursor of another
// shape was not issued by Hookyard.
func IsID(s string) bool {
	prefix, rest, ok := strings.Cut(s, "_")
	if !ok || prefix == "" || len(prefix) > 16 || len(rest) != 26 || rest[0] > '7' {
		return false
	}
	for _, c := range prefix {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	for _, c := range rest {
		if !strings.ContainsRune(crockford, c) {
			return false
		}
	}
	return true
}

// NextID returns a new id that sorts after every id this store made before.
func (s *Store) NextID(prefix string) string { return s.ids.next(prefix, s.now()) }

// MadeAfter reports whether the row with id a was created after the row with id b, even in
// the same millisecond: ids from one store sort by creation whatever their prefixes.
func MadeAfter(a, b string) bool {
	_, sa, _ := strings.Cut(a, "_")
	_, sb, _ := strings.Cut(b, "_")
	return sa > sb
}

// newID is the store's id for a row created at now.
func (s *Store) newID(prefix string, now int64) string { return s.ids.next(prefix, fromMS(now)) }

func ms(t time.Time) int64 { return t.UnixMilli() }

// nowMS is the store's clock in the unit every time column uses.
func (s *Store) nowMS() int64 { return ms(s.now()) }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// nullMS scans a time column that may be NULL.
type nullMS struct{ sql.NullInt64 }

func (v nullMS) time() *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

// notFound maps sql.ErrNoRows to ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation, on either engine.
func isUnique(err error) bool {
	var se sqlite3.Error
	var pe *pgconn.PgError
	return (errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique ||
		se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)) ||
		(errors.As(err, &pe) && pe.Code == "23505")
}

// checkAffected turns "no row changed" into ErrNotFound.
func checkAffected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// Page selects one page of a list ordered by id: rows after Cursor, at most Limit of them.
type Page struct {
	Limit  int
	Cursor string
}

// ErrBadCursor is returned for a page cursor the list did not issue.
var ErrBadCursor = errors.New("not a cursor this list issued")

// forList applies the list defaults and refuses a cursor that is not an id of the list's kind
// (prefix): the lists issue only those as cursors.
func (p Page) forList(prefix string) (Page, error) {
	if p.Cursor != "" && !isID(prefix, p.Cursor) {
		return p, ErrBadCursor
	}
	return p.clamp(), nil
}

// isID reports whether s has the shape of an id made with prefix.
func isID(prefix, s string) bool {
	rest, ok := strings.CutPrefix(s, prefix+"_")
	if !ok || len(rest) != 26 {
		return false
	}
	for _, c := range rest {
		if !strings.ContainsRune(crockford, c) {
			return false
		}
	}
	return true
}

// clamp applies the list defaults: 50 rows, never more than 500.
func (p Page) clamp() Page {
	if p.Limit <= 0 {
		p.Limit = 50
	}
	if p.Limit > 500 {
		p.Limit = 500
	}
	return p
}

// underQuota returns ErrQuotaReached when countQuery, run in tx, counts max rows or more;
// max 0 means no limit. Counting in the creating transaction keeps concurrent creates honest.
func underQuota(ctx context.Context, tx *Tx, max int, countQuery string, args ...any) error {
	if max <= 0 {
		return nil
	}
	if err := tx.Serialize(ctx, "quota "+countQuery+fmt.Sprint(args...)); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, countQuery, args...).Scan(&n); err != nil {
		return err
	}
	if n >= max {
		return ErrQuotaReached
	}
	return nil
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // the embedded folder is fixed at build time
	}
	return sub
}

// placeholders returns "?,?,…" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface{ Scan(...any) error }

// collect reads every row of a query with scan.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// collectPage reads a page query that asked for Limit+1 rows and returns the page and the
// cursor of the next one ("" when this is the last).
func collectPage[T any](rows *sql.Rows, err error, p Page, scan func(scanner) (T, error), id func(T) string) ([]T, string, error) {
	out, err := collect(rows, err, scan)
	if err != nil {
		return nil, "", err
	}
	if len(out) <= p.Limit {
		return out, "", nil
	}
	out = out[:p.Limit]
	return out, id(out[len(out)-1]), nil
}

// prefixed qualifies each column of a comma-separated list with a table alias.
func prefixed(alias, columns string) string {
	cols := strings.Split(columns, ", ")
	for i, c := range cols {
		cols[i] = alias + c
	}
	return strings.Join(cols, ", ")
}
