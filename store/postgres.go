package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
)

// openPostgres opens the PostgreSQL database at the URL dsn (15 or newer).
func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", redactURL(dsn), err)
	}
	db.SetMaxOpenConns(12) // a few writers (publishes, results, claims, leases) and reads; 12 × nodes stay well under max_connections
	db.SetMaxIdleConns(12)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, postgresOpenProblem(dsn, err)
	}
	d := newPostgresDialect()
	c := &conn{db: db, d: d}
	s := &Store{write: c, read: c, d: d, now: time.Now, passwordCost: DefaultPasswordCost,
		dsn: dsn, instance: randomToken()[:12]}
	if err := s.migrate(ctx, db, goose.DialectPostgres, "migrations/postgres"); err != nil {
		db.Close()
		return nil, postgresOpenProblem(dsn, err)
	}
	if err := s.CheckWritable(ctx); err != nil {
		db.Close()
		return nil, postgresOpenProblem(dsn, err)
	}
	return s, nil
}

// postgresOpenProblem explains why a PostgreSQL database could not be used, without the
// password of the URL.
func postgresOpenProblem(dsn string, err error) error {
	where := redactURL(dsn)
	var pe *pgconn.PgError
	var ne *net.OpError
	switch {
	case errors.As(err, &pe) && pe.Code == "3D000":
		return fmt.Errorf("cannot use the database %s: it does not exist (create it first, e.g. with createdb) (%w)", where, err)
	case errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000"):
		return fmt.Errorf("cannot use the database %s: the server refused the user or password (%w)", where, err)
	case errors.As(err, &pe) && pe.Code == "25006":
		return fmt.Errorf("cannot use the database %s: it is read-only (a standby?): point --db at the primary (%w)", where, err)
	case errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("cannot reach the PostgreSQL server of %s: is it running, and is the address right? (%w)", where, err)
	}
	if reason := WriteFault(err); reason != "" {
		return fmt.Errorf("cannot use the database %s: %s (%w)", where, reason, err)
	}
	return fmt.Errorf("open database %s: %w", where, err)
}

// RedactDSN returns what Open takes as it may be shown in messages and logs: a PostgreSQL
// URL without its password, a file path as it is.
func RedactDSN(dsn string) string {
	if IsPostgres(dsn) {
		return redactURL(dsn)
	}
	return dsn
}

// redactURL hides the password of a database URL, for messages and logs.
func redactURL(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(a PostgreSQL URL)"
	}
	return u.Redacted()
}
