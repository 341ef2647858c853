// Package testdb gives tests a database of their own on the engine the run asks for: an
// SQLite file, or a fresh PostgreSQL database on the server HOOKYARD_TEST_POSTGRES names.
//
// `make test` runs the chosen packages twice: as they are (SQLite), and with
// HOOKYARD_TEST_STORE=postgres.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "github.com/mattn/go-sqlite3"    // registers the "sqlite3" driver
)

// Engine is the engine this run's tests use: "postgres" when HOOKYARD_TEST_STORE says so,
// else "sqlite".
func Engine() string {
	if os.Getenv("HOOKYARD_TEST_STORE") == "postgres" {
		return "postgres"
	}
	return "sqlite"
}

// DSN returns what store.Open takes for a new, empty database of this run's engine: a file
// in a temporary folder, or a PostgreSQL database made for this test and dropped after it.
func DSN(t testing.TB) string {
	t.Helper()
	if Engine() == "postgres" {
		return Postgres(t)
	}
	return filepath.Join(t.TempDir(), "hookyard.db")
}

// Postgres creates a database for this test on the server HOOKYARD_TEST_POSTGRES names and
// returns its URL; it is dropped when the test ends. Without the variable the test skips
// with one loud line, except under CI=true, where it fails.
func Postgres(t testing.TB) string {
	t.Helper()
	server := PostgresServer(t)
	admin, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatalf("HOOKYARD_TEST_POSTGRES: %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A linguistic collation, as most servers have (initdb takes the system's locale): the
	// store must not depend on the C order this machine's cluster happens to use.
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE template0 ENCODING 'UTF8'
		LOCALE_PROVIDER icu ICU_LOCALE 'en-US'`); err != nil {
		t.Logf("the server has no ICU collations (%v): the test database gets the server's default locale", err)
		if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
			admin.Close()
			t.Fatalf("create test database on %s: %v", server, err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
		admin.Close()
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("HOOKYARD_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// PostgresServer returns the URL of the server HOOKYARD_TEST_POSTGRES names. Without the
// variable the test skips with one loud line, except under CI=true, where it fails; a test
// whose sub-tests each call Postgres calls it first, so that a run without a server says so
// once.
func PostgresServer(t testing.TB) string {
	t.Helper()
	server := os.Getenv("HOOKYARD_TEST_POSTGRES")
	if server == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("HOOKYARD_TEST_POSTGRES is not set: under CI=true the PostgreSQL tests must run (.ci/run sets it)")
		}
		t.Skip("SKIPPED LOUDLY: set HOOKYARD_TEST_POSTGRES=postgres://… to run the PostgreSQL tests")
	}
	return server
}

// Raw opens the database dsn names directly, for tests that read or change what no store
// method reaches (ageing a row, counting leftovers); q rewrites a query's ? parameters for
// its engine. The caller closes db.
func Raw(t testing.TB, dsn string) (db *sql.DB, q func(string) string) {
	t.Helper()
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err = sql.Open("pgx", dsn)
		q = func(s string) string {
			var b strings.Builder
			n := 0
			for _, c := range s {
				if c == '?' {
					n++
					b.WriteString("$" + strconv.Itoa(n))
					continue
				}
				b.WriteRune(c)
			}
			return b.String()
		}
	} else {
		db, err = sql.Open("sqlite3", "file:"+url.PathEscape(dsn)+"?_busy_timeout=5000&_txlock=immediate")
		q = func(s string) string { return s }
	}
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	return db, q
}
