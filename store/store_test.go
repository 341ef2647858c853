package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
)

// openTestStore opens a fresh database file in a temporary folder and closes it when the
// test ends.
func openTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "hookyard.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

var clockStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// testClock is a controllable clock for Store.now. With a step, every reading advances it,
// so rows made one after another get increasing times (and therefore increasing ids).
type testClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func useClock(s *Store, step time.Duration) *testClock {
	c := &testClock{t: clockStart, step: step}
	s.now = c.Now
	return c
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(c.step)
	return t
}

// Peek returns the time the next Now call will return, without advancing.
func (c *testClock) Peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// createUser stores a user without paying for bcrypt; the store never reads the hash.
func createUser(t *testing.T, s *Store, email, name string, role Role) User {
	t.Helper()
	u := User{Email: email, Name: name, Role: role, PasswordHash: "not-a-real-hash"}
	if err := s.CreateUser(t.Context(), &u); err != nil {
		t.Fatalf("CreateUser(%s): %v", email, err)
	}
	return u
}

func createOrg(t *testing.T, s *Store, name string) Organization {
	t.Helper()
	o, err := s.CreateOrganization(t.Context(), name)
	if err != nil {
		t.Fatalf("CreateOrganization(%s): %v", name, err)
	}
	return o
}

func createProject(t *testing.T, s *Store, orgID, name string) Project {
	t.Helper()
	p, err := s.CreateProject(t.Context(), orgID, name)
	if err != nil {
		t.Fatalf("CreateProject(%s): %v", name, err)
	}
	return p
}

// countRows counts the rows of a table straight from the write connection.
func countRows(t *testing.T, s *Store, table string, where string, args ...any) int {
	t.Helper()
	q := `SELECT COUNT(*) FROM ` + table
	if where != "" {
		q += ` WHERE ` + where
	}
	var n int
	if err := s.write.QueryRowContext(t.Context(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// migrationFiles returns the names of the migration files on disk, in order.
func migrationFiles(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		t.Fatal("no migration files found")
	}
	return names
}

func tableNames(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.write.QueryContext(t.Context(),
		`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	names, err := collect(rows, err, func(r scanner) (string, error) {
		var n string
		return n, r.Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

var schemaTables = []string{"api_tokens", "attempts", "bin_requests", "bins", "deliveries", "event_types", "events", "goose_db_version",
	"health_checks", "idempotency_keys", "memberships", "missed_events", "nodes", "notifications", "organizations", "projects", "sessions",
	"settings", "shard_leases", "users", "webhook_events", "webhook_hourly", "webhook_projects", "webhooks"}

func TestMigrationFilesAreNumberedWithoutGaps(t *testing.T) {
	for i, name := range migrationFiles(t) {
		prefix, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil || v != i+1 {
			t.Errorf("migration %d is %q; want it numbered %05d_…", i, name, i+1)
		}
	}
}

func TestOpenEmptyFileAppliesAllMigrations(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	want := int64(len(migrationFiles(t)))

	v, err := s.SchemaVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if v != want {
		t.Errorf("SchemaVersion = %d, want %d (one per file in migrations/)", v, want)
	}
	if n := countRows(t, s, "goose_db_version", "version_id > 0 AND is_applied = 1"); n != int(want) {
		t.Errorf("goose_db_version has %d applied migrations, want %d", n, want)
	}
	if got := tableNames(t, s); !slices.Equal(got, schemaTables) {
		t.Errorf("tables = %v, want %v", got, schemaTables)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func TestOpenCreatesMissingFolders(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data", "nested", "hookyard.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not created: %v", err)
	}
}

// The database holds webhook secrets and the session key: the file and its -wal and -shm
// companions are for the owner only, whether Open creates them or finds them readable.
func TestOpenMakesTheDatabaseFilesPrivate(t *testing.T) {
	t.Parallel()
	for _, existing := range []bool{false, true} {
		t.Run(fmt.Sprintf("existing=%v", existing), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "hookyard.db")
			if existing {
				for _, f := range []string{path, path + "-wal", path + "-shm"} {
					if err := os.WriteFile(f, nil, 0o644); err != nil {
						t.Fatal(err)
					}
					if err := os.Chmod(f, 0o644); err != nil { // whatever the umask
						t.Fatal(err)
					}
				}
			}
			s, err := Open(t.Context(), path)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			createOrg(t, s, "Acme") // a write, so the WAL files exist
			for _, f := range []string{path, path + "-wal", path + "-shm"} {
				fi, err := os.Stat(f)
				if err != nil {
					t.Fatalf("stat %s: %v", filepath.Base(f), err)
				}
				if mode := fi.Mode().Perm(); mode != 0o600 {
					t.Errorf("%s has mode %04o, want 0600", filepath.Base(f), mode)
				}
			}
		})
	}
}

func TestOpenPathWithSpecialCharacters(t *testing.T) {
	t.Parallel()
	// The path goes into a file: URI, so characters with a meaning there must be escaped.
	path := filepath.Join(t.TempDir(), "my data #1 ?x=y%20", "hook yard.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	createOrg(t, s, "Acme")
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not created at the given path: %v", err)
	}
	orgs, _, err := s.ListOrganizations(t.Context(), "", Page{})
	if err != nil || len(orgs) != 1 {
		t.Errorf("read pool sees %d organisations (err %v), want 1: reads and writes use different files", len(orgs), err)
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hookyard.db")

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("first Open: %v", err)
	}
	u := createUser(t, s, "ada@example.com", "Ada", RoleAdmin)
	o := createOrg(t, s, "Acme")
	p := createProject(t, s, o.ID, "Website")
	if err := s.AddMember(ctx, o.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	for i := range 2 { // an up-to-date database opens again, and again
		s, err = Open(ctx, path)
		if err != nil {
			t.Fatalf("reopen %d: %v", i+1, err)
		}
		v, err := s.SchemaVersion(ctx)
		if err != nil || v != int64(len(migrationFiles(t))) {
			t.Errorf("reopen %d: SchemaVersion = %d, %v; want %d", i+1, v, err, len(migrationFiles(t)))
		}
		if n := countRows(t, s, "goose_db_version", "version_id > 0"); n != len(migrationFiles(t)) {
			t.Errorf("reopen %d: %d migration rows, want %d (migrations applied twice?)", i+1, n, len(migrationFiles(t)))
		}
		if n := countRows(t, s, "event_types", ""); n != 38 {
			t.Errorf("reopen %d: %d event types, want 38", i+1, n)
		}
		if got, err := s.UserByEmail(ctx, "ada@example.com"); err != nil || got.ID != u.ID {
			t.Errorf("reopen %d: UserByEmail = %v, %v; want id %s", i+1, got.ID, err, u.ID)
		}
		if got, err := s.Project(ctx, p.ID); err != nil || got.Name != "Website" || got.OrganizationName != "Acme" {
			t.Errorf("reopen %d: Project = %+v, %v", i+1, got, err)
		}
		if ok, err := s.IsMember(ctx, o.ID, u.ID); err != nil || !ok {
			t.Errorf("reopen %d: IsMember = %v, %v; want true", i+1, ok, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

func TestMigrationsRollBackAndReapply(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTestStore(t)
	p, err := goose.NewProvider(goose.DialectSQLite3, s.write.db, mustSub(migrations, "migrations/sqlite"),
		goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 0); err != nil {
		t.Fatalf("DownTo(0): %v", err)
	}
	if got := tableNames(t, s); !slices.Equal(got, []string{"goose_db_version"}) {
		t.Errorf("after rolling back everything, tables = %v; want only goose_db_version", got)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != 0 {
		t.Errorf("SchemaVersion after rollback = %d, %v; want 0", v, err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("Up again: %v", err)
	}
	if got := tableNames(t, s); !slices.Equal(got, schemaTables) {
		t.Errorf("tables after re-applying = %v, want %v", got, schemaTables)
	}
	if n := countRows(t, s, "event_types", "builtin = 1"); n != 38 {
		t.Errorf("%d built-in event types after re-applying, want 38", n)
	}
}

func TestPragmas(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	for _, tc := range []struct {
		pool   string
		pragma string
		want   string
	}{
		{"write", "journal_mode", "wal"},
		{"write", "foreign_keys", "1"},
		{"write", "busy_timeout", "5000"},
		{"write", "synchronous", "1"}, // NORMAL
		{"write", "auto_vacuum", "2"}, // INCREMENTAL: a new database can give space back
		{"read", "journal_mode", "wal"},
		{"read", "foreign_keys", "1"},
		{"read", "busy_timeout", "5000"},
	} {
		t.Run(tc.pool+"/"+tc.pragma, func(t *testing.T) {
			db := s.write
			if tc.pool == "read" {
				db = s.read
			}
			var got string
			if err := db.QueryRowContext(t.Context(), "PRAGMA "+tc.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("PRAGMA %s = %q, want %q", tc.pragma, got, tc.want)
			}
		})
	}
	if st := s.write.db.Stats(); st.MaxOpenConnections != 1 {
		t.Errorf("write pool allows %d connections, want 1", st.MaxOpenConnections)
	}
}

func TestReadPoolIsReadOnly(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	_, err := s.read.ExecContext(t.Context(),
		`INSERT INTO organizations (id, name, created_at, updated_at) VALUES ('org_x', 'x', 0, 0)`)
	if err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Errorf("insert through the read pool: err = %v, want a read-only error", err)
	}
	if n := countRows(t, s, "organizations", ""); n != 0 {
		t.Errorf("%d organisations after a refused insert, want 0", n)
	}
}

func TestForeignKeysAreEnforced(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	_, err := s.write.ExecContext(t.Context(), `INSERT INTO projects (id, organization_id, name, created_at, updated_at)
		VALUES ('prj_x', 'org_missing', 'x', 0, 0)`)
	if err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
		t.Errorf("project in a missing organisation: err = %v, want a FOREIGN KEY error", err)
	}
}

func TestWithTxRollsBackOnError(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTestStore(t)
	boom := errors.New("boom")
	err := s.WithTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO organizations (id, name, created_at, updated_at)
			VALUES ('org_tx', 'x', 0, 0)`); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Errorf("WithTx err = %v, want the function's error", err)
	}
	if n := countRows(t, s, "organizations", ""); n != 0 {
		t.Errorf("%d organisations after a rolled-back transaction, want 0", n)
	}

	if err := s.WithTx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO organizations (id, name, created_at, updated_at)
			VALUES ('org_tx', 'x', 0, 0)`)
		return err
	}); err != nil {
		t.Fatalf("WithTx: %v", err)
	}
	if _, err := s.Organization(ctx, "org_tx"); err != nil {
		t.Errorf("committed row not readable: %v", err)
	}
}

func TestNewIDShape(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"usr", "org", "prj", "tok", "wh", "evt", "dlv"} {
		t.Run(prefix, func(t *testing.T) {
			id := NewID(prefix, clockStart)
			rest, ok := strings.CutPrefix(id, prefix+"_")
			if !ok {
				t.Fatalf("NewID(%q) = %q, want prefix %q", prefix, id, prefix+"_")
			}
			if len(rest) != 26 {
				t.Errorf("NewID(%q) = %q: %d characters after the prefix, want 26", prefix, id, len(rest))
			}
			if i := strings.IndexFunc(rest, func(r rune) bool { return !strings.ContainsRune(crockford, r) }); i >= 0 {
				t.Errorf("NewID(%q) = %q: character %q is not Crockford base32", prefix, id, rest[i])
			}
			if !IsID(id) {
				t.Errorf("IsID(%q) = false for an id NewID made", id)
			}
		})
	}
}

// decodeIDTime reads the milliseconds back out of the first 10 characters (50 bits: two zero
// bits, then 48 bits of time).
func decodeIDTime(t *testing.T, id string) int64 {
	t.Helper()
	_, rest, _ := strings.Cut(id, "_")
	var v int64
	for _, c := range rest[:10] {
		v = v<<5 | int64(strings.IndexRune(crockford, c))
	}
	return v
}

func TestNewIDEncodesTime(t *testing.T) {
	t.Parallel()
	for _, tm := range []time.Time{
		time.UnixMilli(0),
		time.UnixMilli(1),
		clockStart,
		clockStart.Add(999 * time.Millisecond),
		time.Date(2100, 12, 31, 23, 59, 59, 999e6, time.UTC),
		time.UnixMilli(1<<48 - 1),
	} {
		id := NewID("x", tm)
		if got := decodeIDTime(t, id); got != tm.UnixMilli() {
			t.Errorf("NewID at %v = %s encodes %d ms, want %d", tm, id, got, tm.UnixMilli())
		}
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	t.Parallel()
	var times []time.Time
	for i := range 2000 { // consecutive milliseconds
		times = append(times, clockStart.Add(time.Duration(i)*time.Millisecond))
	}
	for i := range 200 { // and long gaps, across decades
		times = append(times, times[len(times)-1].Add(time.Duration(i+1)*37*24*time.Hour+time.Duration(i)*time.Millisecond))
	}
	prev := NewID("org", time.UnixMilli(0))
	for _, tm := range times {
		id := NewID("org", tm)
		if id <= prev {
			t.Fatalf("id at %v = %s does not sort after the previous %s", tm, id, prev)
		}
		prev = id
	}
}

func TestNewIDUnique(t *testing.T) {
	t.Parallel()
	const n = 100_000
	seen := make(map[string]struct{}, n)
	for range n { // all in the same millisecond: only the random part differs
		id := NewID("evt", clockStart)
		if _, dup := seen[id]; dup {
			t.Fatalf("duplicate id %s after %d calls", id, len(seen))
		}
		seen[id] = struct{}{}
	}
}

func TestPageClamp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ limit, want int }{
		{-1, 50}, {0, 50}, {1, 1}, {50, 50}, {499, 499}, {500, 500}, {501, 500}, {1000, 500},
	} {
		got := Page{Limit: tc.limit, Cursor: "org_abc"}.clamp()
		if got.Limit != tc.want || got.Cursor != "org_abc" {
			t.Errorf("Page{Limit: %d}.clamp() = %+v, want Limit %d and the cursor kept", tc.limit, got, tc.want)
		}
	}
}
