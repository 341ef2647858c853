package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strconv"
	"strings"
	"sync"
)

// The two engines differ in a few named places, all in this file and dialect_*.go: how a
// query marks its parameters, how a claim skips rows another transaction holds, how a
// transaction serialises with others where SQLite's single writer did it for free, and how
// errors read. Every query is written once, in SQL both engines take: `?` parameters (turned
// into `$1…` for PostgreSQL here), `ON CONFLICT … DO NOTHING`, `CASE` instead of two-argument
// MAX, integers for booleans and Unix-millisecond times.

// dialect is what differs between SQLite and PostgreSQL.
type dialect struct {
	name string // "sqlite" or "postgres"
	// numbered: parameters are $1, $2, … rather than ?.
	numbered bool
	// skipLocked is appended to the inner SELECT of a claim, so that concurrent claims take
	// different rows instead of waiting (PostgreSQL); SQLite's writer is alone anyway.
	skipLocked string
	// lockKey serialises transactions that check then write (the last admin, quotas, a
	// replay): PostgreSQL runs transactions side by side, SQLite one writer at a time.
	lockKey string
	// bools: booleans are passed as integers (PostgreSQL's integer columns take no bool).
	boolsAsInts bool
	// snapshot begins a read transaction that sees the whole database as it was at one
	// moment, however long it reads (Copy): SQLite's deferred read transaction does so
	// already under WAL; PostgreSQL needs REPEATABLE READ.
	snapshot *sql.TxOptions
	// restartIdentity, given a table (%[1]s) and its identity column (%[2]s), moves the
	// column's counter past the largest id, once rows were written with ids of their own
	// (Copy). SQLite numbers an INTEGER PRIMARY KEY from the largest id anyway.
	restartIdentity string

	mu      sync.RWMutex
	rebound map[string]string
}

var sqliteDialect = &dialect{name: "sqlite"}

func newPostgresDialect() *dialect {
	return &dialect{name: "postgres", numbered: true, skipLocked: ` FOR UPDATE SKIP LOCKED`,
		lockKey: `SELECT pg_advisory_xact_lock(hashtext(?))`, boolsAsInts: true,
		snapshot:        &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
		restartIdentity: `SELECT setval(pg_get_serial_sequence('%[1]s', '%[2]s'), COALESCE(MAX(%[2]s), 0) + 1, false) FROM %[1]s`,
		rebound:         map[string]string{}}
}

// rebind rewrites ? parameters as $n, outside quoted strings; cached per query text.
func (d *dialect) rebind(q string) string {
	if !d.numbered {
		return q
	}
	d.mu.RLock()
	r, ok := d.rebound[q]
	d.mu.RUnlock()
	if ok {
		return r
	}
	var b strings.Builder
	n, quoted := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	r = b.String()
	d.mu.Lock()
	d.rebound[q] = r
	d.mu.Unlock()
	return r
}

// args converts arguments the engine's driver would refuse.
func (d *dialect) args(args []any) []any {
	if !d.boolsAsInts {
		return args
	}
	for i, a := range args {
		switch v := a.(type) {
		case bool:
			if v {
				args[i] = int64(1)
			} else {
				args[i] = int64(0)
			}
		case string, int, int64, []byte, nil, float64:
		default:
			// Named types (DeliveryStatus, Role…) as their underlying kind.
			if cv, err := driver.DefaultParameterConverter.ConvertValue(a); err == nil {
				if b, ok := cv.(bool); ok {
					cv = map[bool]int64{true: 1, false: 0}[b]
				}
				args[i] = cv
			}
		}
	}
	return args
}

// conn is a pool with the dialect applied to every query.
type conn struct {
	db *sql.DB
	d  *dialect
}

func (c *conn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return c.db.ExecContext(ctx, c.d.rebind(q), c.d.args(args)...)
}

func (c *conn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return c.db.QueryContext(ctx, c.d.rebind(q), c.d.args(args)...)
}

func (c *conn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return c.db.QueryRowContext(ctx, c.d.rebind(q), c.d.args(args)...)
}

func (c *conn) Close() error { return c.db.Close() }

// Tx is one write transaction, with the dialect applied to every query.
type Tx struct {
	tx *sql.Tx
	d  *dialect
}

func (t *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.d.rebind(q), t.d.args(args)...)
}

func (t *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.d.rebind(q), t.d.args(args)...)
}

func (t *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.d.rebind(q), t.d.args(args)...)
}

// PrepareContext prepares a statement; run it through Stmt so arguments are converted.
func (t *Tx) PrepareContext(ctx context.Context, q string) (*Stmt, error) {
	st, err := t.tx.PrepareContext(ctx, t.d.rebind(q))
	if err != nil {
		return nil, err
	}
	return &Stmt{st: st, d: t.d}, nil
}

// Serialize makes this transaction wait for any other holding the same key until it ends:
// for a check followed by a write that must see every earlier such write (the last admin,
// a quota, a replay). Under SQLite every write transaction is alone already.
func (t *Tx) Serialize(ctx context.Context, key string) error {
	if t.d.lockKey == "" {
		return nil
	}
	_, err := t.ExecContext(ctx, t.d.lockKey, key)
	return err
}

// Stmt is a prepared statement of a Tx.
type Stmt struct {
	st *sql.Stmt
	d  *dialect
}

func (s *Stmt) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return s.st.ExecContext(ctx, s.d.args(args)...)
}

func (s *Stmt) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	return s.st.QueryContext(ctx, s.d.args(args)...)
}

func (s *Stmt) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	return s.st.QueryRowContext(ctx, s.d.args(args)...)
}

func (s *Stmt) Close() error { return s.st.Close() }
