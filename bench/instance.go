package main

import (
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

// instance starts a server of its own on a database of its own, for a run that needs a
// seeded database, a restart or a kill. seed, when given, writes into the database before
// the server starts (userID is the bench user's) and returns the projects to publish to;
// without it the instance gets an organisation and a project through the API.
func (b *bench) instance(name string, seed func(db, userID string) ([]string, error)) (*bench, error) {
	return b.instanceOn(name, filepath.Join(b.dir, name+".db"), seed)
}

// instanceOn is instance on the given database: an SQLite file or a postgres:// URL (a
// database of its own, which close drops).
func (b *bench) instanceOn(name, db string, seed func(db, userID string) ([]string, error)) (*bench, error) {
	token, userID, err := prepareDB(b.bin, db)
	if err != nil {
		return nil, err
	}
	in := &bench{o: b.o, dir: b.dir, bin: b.bin, db: db, name: name, recv: b.recv, hold: b.hold, rep: b.rep, fig: b.fig}
	if seed != nil {
		if in.projects, err = seed(db, userID); err != nil {
			return nil, fmt.Errorf("seed the %s database: %w", name, err)
		}
	}
	if err := in.start(); err != nil {
		return nil, err
	}
	in.api = newClient(in.srv.base, token, 512)
	if len(in.projects) > 0 {
		in.prj = in.projects[0]
		return in, nil
	}
	if err := in.project(); err != nil {
		in.close()
		return nil, err
	}
	return in, nil
}

// start starts the instance's server on its database (again, after a stop or a kill); it
// returns once the server listens.
func (b *bench) start(extra ...string) error {
	b.starts++
	srv, err := startServer(b.bin, b.db, filepath.Join(b.dir, fmt.Sprintf("%s-%d.log", b.name, b.starts)),
		b.o.cpuProfile != "", append(b.o.serveArgs(), extra...))
	if err != nil {
		return err
	}
	b.srv = srv
	if b.api != nil {
		b.api.base = srv.base
	}
	fmt.Fprintf(os.Stderr, "  %s server pid %d at %s\n", b.name, srv.cmd.Process.Pid, srv.base)
	return nil
}

// close stops the instance's server and removes its database.
func (b *bench) close() {
	b.srv.stop()
	if isPostgres(b.db) {
		dropDatabase(b.db)
		return
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(b.db + suffix)
	}
}

// waitHealthy polls /healthz until it answers 200.
func (s *server) waitHealthy(within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("/healthz did not answer 200 within %s (last: %v)", within, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// serveFlag is the value of an integer hookyard serve flag as -serve-flags sets it, or def.
func (o options) serveFlag(name string, def int) int {
	f := strings.Fields(o.serveFlags)
	for i, a := range f {
		a = "--" + strings.TrimLeft(a, "-")
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			if n, err := strconv.Atoi(v); err == nil {
				def = n
			}
		} else if a == "--"+name && i+1 < len(f) {
			if n, err := strconv.Atoi(f[i+1]); err == nil {
				def = n
			}
		}
	}
	return def
}

// openSeed opens a server's database for writing rows straight into it (the server is not
// running, or waits for the lock).
func openSeed(db string) (*sql.DB, error) {
	return sql.Open("sqlite3", "file:"+db+"?_busy_timeout=30000&_foreign_keys=on&_txlock=immediate")
}

// seedWebhooks stores, straight into the database (as the schema of store/migrations has
// it), an organisation with the given number of projects and total webhooks of the owner,
// each choosing one project in turn, so that an event in a project matches
// total/projects of them. It returns the projects' ids.
func seedWebhooks(db, ownerID, url string, total, projects int) ([]string, error) {
	conn, err := openSeed(db)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var key [32]byte
	_, _ = rand.Read(key[:])
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key[:])
	now := time.Now().UnixMilli()
	const org = "org_0bench00000000000000000001"
	tx, err := conn.Begin()
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	steps := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO organizations (id, name, created_at, updated_at) VALUES (?, 'Matching', ?, ?)`, []any{org, now, now}},
		{`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
			INSERT INTO projects (id, organization_id, name, created_at, updated_at)
			SELECT printf('prj_0bench%020d', i), ?, printf('Project %05d', i), ?, ? FROM n`, []any{projects, org, now, now}},
		{`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
			INSERT INTO webhooks (id, owner_id, name, url, secret, enabled, status, created_at, updated_at)
			SELECT printf('wh_0bench%020d', i), ?, printf('Matching %06d', i), ?, ?, 1, 'HEALTHY', ?, ? FROM n`,
			[]any{total, ownerID, url, secret, now, now}},
		{`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
			INSERT INTO webhook_projects (webhook_id, project_id)
			SELECT printf('wh_0bench%020d', i), printf('prj_0bench%020d', i % ?) FROM n`, []any{total, projects}},
	}
	for _, s := range steps {
		if _, err := tx.Exec(s.sql, s.args...); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	ids := make([]string, projects)
	for i := range ids {
		ids[i] = fmt.Sprintf("prj_0bench%020d", i)
	}
	return ids, nil
}
