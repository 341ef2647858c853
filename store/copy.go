package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Copy moves a whole installation from one store to another, on either engine (SPEC §8,
// `hookyard copy`): what it reads is one snapshot of the source, written to the target in
// batches, one transaction each, table by table in the order of copyTables.

// copyTable is one table as Copy moves it. Its columns are read from the databases, so a
// column a later migration adds is copied without a change here.
type copyTable struct {
	name string
	// key is the primary key: rows are read in its order, each batch after the last key of
	// the one before, so no read holds more than a batch.
	key []string
	// only selects the rows that move, when not all of them do.
	only string
	// cleared columns arrive as NULL.
	cleared []string
	// identity is the column the database numbers itself, whose counter must then move
	// past the copied ids so that new rows do not collide with them.
	identity string
}

// copyTables is every table of an installation, parents before children, so that the
// foreign keys hold after every batch. Left behind: sign-in sessions (SPEC §8; people sign in
// again on the new store), and with them the session_key setting that signs their cookies
// (the target makes its own, and the cookies name sessions it does not have anyway), and
// write_probe, each store's own health-check row; and the nodes and their shard leases, which
// belong to the processes serving a database. TestCopyTablesCoverTheSchema keeps this
// list complete.
var copyTables = []copyTable{
	{name: "users", key: []string{"id"}},
	{name: "organizations", key: []string{"id"}},
	{name: "projects", key: []string{"id"}},
	{name: "memberships", key: []string{"organization_id", "user_id"}},
	// Built-in types come with the target's migrations.
	{name: "event_types", key: []string{"name"}, only: "builtin = 0"},
	{name: "api_tokens", key: []string{"id"}},
	{name: "settings", key: []string{"key"}, only: "key NOT IN ('session_key', 'write_probe')"},
	{name: "webhooks", key: []string{"id"}},
	{name: "webhook_events", key: []string{"webhook_id", "event_type"}},
	{name: "webhook_projects", key: []string{"webhook_id", "project_id"}},
	{name: "events", key: []string{"id"}},
	{name: "idempotency_keys", key: []string{"user_id", "key"}},
	// Pending deliveries stay pending; a lease belonged to the source's sender.
	{name: "deliveries", key: []string{"id"}, cleared: []string{"lease_until", "lease_owner"}},
	{name: "attempts", key: []string{"id"}, identity: "id"},
	{name: "missed_events", key: []string{"webhook_id", "event_id"}},
	{name: "webhook_hourly", key: []string{"webhook_id", "hour"}},
	{name: "health_checks", key: []string{"webhook_id"}},
	{name: "notifications", key: []string{"id"}},
	{name: "bins", key: []string{"id"}},
	{name: "bin_requests", key: []string{"id"}, identity: "id"},
}

// notCopiedTables are the tables Copy leaves behind on purpose.
var notCopiedTables = []string{"sessions", "goose_db_version", "nodes", "shard_leases"}

// ErrTargetNotEmpty is returned by Copy for a target that already holds data.
var ErrTargetNotEmpty = errors.New("the target already holds data")

// copyLimits bound one batch: at most rows rows, and no more rows once bytes bytes of
// values are read (a batch of large bodies stays small in memory).
type copyLimits struct{ rows, bytes int }

var defaultCopyLimits = copyLimits{rows: 1000, bytes: 8 << 20}

// copyInsertRows is how many rows one INSERT statement carries (well under either engine's
// limit on parameters, for the widest table).
const copyInsertRows = 100

// Copy copies every table of src (but sign-in sessions) into dst, which must hold no data
// yet (ErrTargetNotEmpty), then checks that each table has as many rows on both sides.
// progress, if not nil, is told how far each table is: first with done 0, then after each
// batch. The source is read as one snapshot; what is written to it meanwhile is not copied.
// A copy that fails part-way leaves the target partly filled.
func Copy(ctx context.Context, src, dst *Store, progress func(table string, done, total int)) error {
	return copyStore(ctx, src, dst, progress, defaultCopyLimits)
}

func copyStore(ctx context.Context, src, dst *Store, progress func(table string, done, total int), limits copyLimits) error {
	if progress == nil {
		progress = func(string, int, int) {}
	}
	if err := refuseData(ctx, dst); err != nil {
		return err
	}
	snap, err := src.read.db.BeginTx(ctx, src.d.snapshot)
	if err != nil {
		return fmt.Errorf("read the source: %w", err)
	}
	defer snap.Rollback()
	from := &Tx{tx: snap, d: src.d}
	totals := make([]int, len(copyTables))
	for i, t := range copyTables {
		if totals[i], err = t.count(ctx, from); err != nil {
			return fmt.Errorf("count the source's %s: %w", t.name, err)
		}
	}
	for i, t := range copyTables {
		if err := t.copy(ctx, from, dst, totals[i], limits, progress); err != nil {
			return fmt.Errorf("copy %s: %w (the target now holds part of the installation: empty or recreate it before trying again)", t.name, err)
		}
	}
	var wrong []string
	for i, t := range copyTables {
		n, err := t.count(ctx, dst.write)
		if err != nil {
			return fmt.Errorf("count the target's %s: %w", t.name, err)
		}
		if n != totals[i] {
			wrong = append(wrong, fmt.Sprintf("%s: %d in the source, %d in the target", t.name, totals[i], n))
		}
	}
	if len(wrong) > 0 {
		return fmt.Errorf("the copy is incomplete (%s): was the target written to meanwhile?", strings.Join(wrong, "; "))
	}
	return nil
}

// refuseData returns ErrTargetNotEmpty, saying what is there, when any table Copy writes
// already has rows in dst.
func refuseData(ctx context.Context, dst *Store) error {
	var found []string
	for _, t := range copyTables {
		n, err := t.count(ctx, dst.write)
		if err != nil {
			return fmt.Errorf("look into the target's %s: %w", t.name, err)
		}
		if n > 0 {
			found = append(found, fmt.Sprintf("%d in %s", n, t.name))
		}
	}
	if len(found) > 0 {
		return fmt.Errorf("%w (rows: %s): copy into a new, empty database", ErrTargetNotEmpty, strings.Join(found, ", "))
	}
	return nil
}

// rowQuerier is what a pool and a transaction have in common, for reads.
type rowQuerier interface {
	querier
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (t copyTable) count(ctx context.Context, q rowQuerier) (int, error) {
	query := `SELECT COUNT(*) FROM ` + t.name
	if t.only != "" {
		query += ` WHERE ` + t.only
	}
	var n int
	err := q.QueryRowContext(ctx, query).Scan(&n)
	return n, err
}

// columns returns the table's column names in q's database, and which of them hold bytes.
func (t copyTable) columns(ctx context.Context, q querier) ([]string, map[string]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT * FROM `+t.name+` WHERE 1 = 0`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, len(types))
	binary := map[string]bool{}
	for i, ct := range types {
		names[i] = ct.Name()
		switch strings.ToUpper(ct.DatabaseTypeName()) {
		case "BLOB", "BYTEA":
			binary[ct.Name()] = true
		}
	}
	return names, binary, rows.Err()
}

// copy moves the table's rows from the snapshot to dst, batch by batch.
func (t copyTable) copy(ctx context.Context, from *Tx, dst *Store, total int, limits copyLimits,
	progress func(string, int, int)) error {
	cols, _, err := t.columns(ctx, from)
	if err != nil {
		return err
	}
	targetCols, binary, err := t.columns(ctx, dst.write)
	if err != nil {
		return err
	}
	a, b := slices.Sorted(slices.Values(cols)), slices.Sorted(slices.Values(targetCols))
	if !slices.Equal(a, b) {
		return fmt.Errorf("the two databases' %s tables differ (source: %s; target: %s): are both from the same Hookyard version?",
			t.name, strings.Join(a, ", "), strings.Join(b, ", "))
	}
	keyAt := make([]int, len(t.key))
	for i, k := range t.key {
		keyAt[i] = slices.Index(cols, k)
		if keyAt[i] < 0 {
			return fmt.Errorf("no column %s", k)
		}
	}
	read := t.readQuery(cols)
	var after []any // the key of the last row copied
	done := 0
	progress(t.name, 0, total)
	for {
		batch, err := t.readBatch(ctx, from, read(after != nil), append(slices.Clone(after), limits.rows),
			cols, binary, limits.bytes)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		if err := dst.WithTx(ctx, func(tx *Tx) error { return t.insert(ctx, tx, cols, batch) }); err != nil {
			return err
		}
		last := batch[len(batch)-1]
		after = make([]any, len(keyAt))
		for i, at := range keyAt {
			after[i] = last[at]
		}
		done += len(batch)
		progress(t.name, done, total)
	}
	if t.identity != "" && dst.d.restartIdentity != "" {
		if _, err := dst.write.ExecContext(ctx, fmt.Sprintf(dst.d.restartIdentity, t.name, t.identity)); err != nil {
			return fmt.Errorf("move the counter of %s.%s past the copied ids: %w", t.name, t.identity, err)
		}
	}
	return nil
}

// readQuery returns the query of one batch: the first one, or one after a key.
func (t copyTable) readQuery(cols []string) func(afterKey bool) string {
	var conds []string
	if t.only != "" {
		conds = append(conds, t.only)
	}
	head := `SELECT ` + quoteNames(cols) + ` FROM ` + t.name
	tail := ` ORDER BY ` + quoteNames(t.key) + ` LIMIT ?`
	first := head + where(conds) + tail
	next := head + where(append(conds, `(`+quoteNames(t.key)+`) > (`+placeholders(len(t.key))+`)`)) + tail
	return func(afterKey bool) string {
		if afterKey {
			return next
		}
		return first
	}
}

func where(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return ` WHERE ` + strings.Join(conds, ` AND `)
}

// readBatch reads one batch of rows, stopping early once maxBytes of values are read, with
// each value as the target's column takes it.
func (t copyTable) readBatch(ctx context.Context, from *Tx, query string, args []any, cols []string,
	binary map[string]bool, maxBytes int) ([][]any, error) {
	rows, err := from.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var batch [][]any
	size := 0
	for rows.Next() {
		row := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, c := range cols {
			switch v := row[i].(type) {
			case string:
				size += len(v)
				if binary[c] {
					row[i] = []byte(v)
				}
			case []byte:
				size += len(v)
				if !binary[c] {
					row[i] = string(v)
				}
			}
			if slices.Contains(t.cleared, c) {
				row[i] = nil
			}
		}
		batch = append(batch, row)
		if size >= maxBytes {
			break
		}
	}
	return batch, rows.Err()
}

// insert writes rows in statements of up to copyInsertRows rows each (two statement texts
// per table, so the dialect's cache of rewritten queries stays small).
func (t copyTable) insert(ctx context.Context, tx *Tx, cols []string, rows [][]any) error {
	one := `(` + placeholders(len(cols)) + `)`
	head := `INSERT INTO ` + t.name + ` (` + quoteNames(cols) + `) VALUES `
	full := head + strings.TrimSuffix(strings.Repeat(one+`,`, copyInsertRows), ",")
	for len(rows) > 0 {
		n, query := 1, head+one
		if len(rows) >= copyInsertRows {
			n, query = copyInsertRows, full
		}
		args := make([]any, 0, n*len(cols))
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// quoteNames lists column names quoted, so that a name that is also a keyword stays a name.
func quoteNames(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = `"` + n + `"`
	}
	return strings.Join(q, ", ")
}
