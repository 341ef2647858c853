package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hookyard/store"
)

func TestParseServeDefaults(t *testing.T) {
	var stderr bytes.Buffer
	cfg, err := parseServe(nil, nil, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{10 * time.Second, time.Minute, 10 * time.Minute, time.Hour}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Addr", cfg.Addr, ":8080"},
		{"DB", cfg.DB, "data/hookyard.db"},
		{"AllowPrivateTargets", cfg.AllowPrivateTargets, false},
		{"RequestTimeout", cfg.RequestTimeout, 10 * time.Second},
		{"Workers", cfg.Workers, 256},
		{"PerWebhookConcurrency", cfg.PerWebhookConcurrency, 8},
		{"MaxPayload", cfg.MaxPayload, int64(262144)},
		{"Retention", cfg.Retention, 720 * time.Hour},
		{"Demo", cfg.Demo, false},
		{"LogFormat", cfg.LogFormat, "text"},
		{"SMTPFrom", cfg.SMTPFrom, ""},
		{"TrustedProxies", len(cfg.TrustedProxies), 0},
		{"MetricsToken", cfg.MetricsToken, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !slices.Equal(cfg.RetrySchedule, want) {
		t.Errorf("RetrySchedule = %v, want %v", cfg.RetrySchedule, want)
	}
	if cfg.BaseURL != nil {
		t.Errorf("BaseURL = %v, want nil (derived from the listener)", cfg.BaseURL)
	}
	if cfg.SMTPURL != nil {
		t.Errorf("SMTPURL = %v, want nil", cfg.SMTPURL)
	}
	if stderr.Len() != 0 {
		t.Errorf("wrote to stderr: %s", stderr.String())
	}
}

func TestParseServeFlags(t *testing.T) {
	cfg, err := parseServe([]string{
		"--addr", "127.0.0.1:9000", "--db", "/tmp/h.db", "--base-url", "https://hooks.example.com/",
		"--allow-private-targets", "--retry-schedule", "1s, 2m", "--request-timeout", "3s",
		"--workers", "10", "--per-webhook-concurrency", "10", "--max-payload", "1MiB",
		"--retention", "48h", "--demo", "--log-format", "json",
		"--smtp-url", "smtp://user:pass@mail.example.com:587", "--smtp-from", "hooks@example.com",
		"--trusted-proxies", "10.0.0.0/8, 192.0.2.7,2001:db8::/32", "--metrics-token", "scrape-me",
	}, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Addr", cfg.Addr, "127.0.0.1:9000"},
		{"DB", cfg.DB, "/tmp/h.db"},
		{"BaseURL", cfg.BaseURL.String(), "https://hooks.example.com"},
		{"AllowPrivateTargets", cfg.AllowPrivateTargets, true},
		{"RequestTimeout", cfg.RequestTimeout, 3 * time.Second},
		{"Workers", cfg.Workers, 10},
		{"PerWebhookConcurrency", cfg.PerWebhookConcurrency, 10},
		{"MaxPayload", cfg.MaxPayload, int64(1 << 20)},
		{"Retention", cfg.Retention, 48 * time.Hour},
		{"Demo", cfg.Demo, true},
		{"LogFormat", cfg.LogFormat, "json"},
		{"SMTPURL", cfg.SMTPURL.Host, "mail.example.com:587"},
		{"SMTPFrom", cfg.SMTPFrom, "hooks@example.com"},
		{"TrustedProxies", fmt.Sprint(cfg.TrustedProxies), "[10.0.0.0/8 192.0.2.7/32 2001:db8::/32]"},
		{"MetricsToken", cfg.MetricsToken, "scrape-me"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if want := []time.Duration{time.Second, 2 * time.Minute}; !slices.Equal(cfg.RetrySchedule, want) {
		t.Errorf("RetrySchedule = %v, want %v", cfg.RetrySchedule, want)
	}
}

func TestParseServeEnvironment(t *testing.T) {
	env := []string{
		"PATH=/usr/bin", // not ours: ignored
		"HOOKYARD_ALLOW_PRIVATE_TARGETS=true",
		"HOOKYARD_MAX_PAYLOAD=1MiB",
		"HOOKYARD_WORKERS=32",
		"HOOKYARD_DB=/var/lib/hookyard/h.db",
		"HOOKYARD_RETRY_SCHEDULE=5s",
		"HOOKYARD_BASE_URL=http://hooks.internal:8080",
		"HOOKYARD_LOG_FORMAT=json",
		"HOOKYARD_TRUSTED_PROXIES=127.0.0.1/32",
		"HOOKYARD_METRICS_TOKEN=from-env",
	}
	cfg, err := parseServe(nil, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.AllowPrivateTargets || cfg.MaxPayload != 1<<20 || cfg.Workers != 32 || cfg.DB != "/var/lib/hookyard/h.db" ||
		!slices.Equal(cfg.RetrySchedule, []time.Duration{5 * time.Second}) ||
		cfg.BaseURL == nil || cfg.BaseURL.String() != "http://hooks.internal:8080" || cfg.LogFormat != "json" ||
		fmt.Sprint(cfg.TrustedProxies) != "[127.0.0.1/32]" || cfg.MetricsToken != "from-env" {
		t.Errorf("environment not applied: %+v", cfg)
	}

	// A flag on the command line beats its variable; the other variables still apply.
	cfg, err = parseServe([]string{"--workers", "64", "--allow-private-targets=false"}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Workers != 64 || cfg.AllowPrivateTargets {
		t.Errorf("flags did not beat the environment: workers %d, allow private %v", cfg.Workers, cfg.AllowPrivateTargets)
	}
	if cfg.MaxPayload != 1<<20 {
		t.Errorf("MaxPayload = %d, want the environment's 1MiB", cfg.MaxPayload)
	}
}

func TestParseServeRejects(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  []string
		want []string // each must appear in the error
	}{
		{"addr without port", []string{"--addr", "localhost"}, nil, []string{"--addr", `"localhost"`}},
		{"base-url not http", []string{"--base-url", "ftp://x"}, nil, []string{"--base-url", "ftp://x"}},
		{"base-url relative", []string{"--base-url", "hooks.example.com"}, nil, []string{"--base-url"}},
		{"retry-schedule not a duration", []string{"--retry-schedule", "10s,banana"}, nil, []string{"--retry-schedule", "banana"}},
		{"retry-schedule negative", []string{"--retry-schedule", "-1s"}, nil, []string{"--retry-schedule"}},
		{"retry-schedule too long", []string{"--retry-schedule", "1s,2s,3s,4s,5s"}, nil, []string{"--retry-schedule", "at most 4"}},
		{"request-timeout zero", []string{"--request-timeout", "0s"}, nil, []string{"--request-timeout"}},
		{"workers zero", []string{"--workers", "0"}, nil, []string{"--workers", "0"}},
		{"workers not a number", []string{"--workers", "many"}, nil, []string{"-workers", "many"}},
		{"per-webhook above workers", []string{"--workers", "4", "--per-webhook-concurrency", "5"}, nil, []string{"--per-webhook-concurrency", "5"}},
		{"per-webhook above default workers", []string{"--per-webhook-concurrency", "300"}, nil, []string{"--per-webhook-concurrency"}},
		{"max-payload not a size", []string{"--max-payload", "lots"}, nil, []string{"--max-payload", "lots"}},
		{"max-payload too small", []string{"--max-payload", "512"}, nil, []string{"--max-payload", "512"}},
		{"max-payload too large", []string{"--max-payload", "1GiB"}, nil, []string{"--max-payload"}},
		{"retention under an hour", []string{"--retention", "1m"}, nil, []string{"--retention", "1m"}},
		{"log-format unknown", []string{"--log-format", "xml"}, nil, []string{"--log-format", "xml"}},
		{"smtp-url without smtp-from", []string{"--smtp-url", "smtp://mail.example.com:587"}, nil, []string{"--smtp-from", "--smtp-url"}},
		{"smtp-url not smtp", []string{"--smtp-url", "http://mail.example.com", "--smtp-from", "a@example.com"}, nil, []string{"--smtp-url"}},
		{"smtp-from not an address", []string{"--smtp-from", "hookyard"}, nil, []string{"--smtp-from", "hookyard"}},
		{"trusted-proxies not a CIDR", []string{"--trusted-proxies", "10.0.0.0/8,proxy.internal"}, nil, []string{"--trusted-proxies", `"proxy.internal"`}},
		{"trusted-proxies prefix too long", []string{"--trusted-proxies", "10.0.0.0/33"}, nil, []string{"--trusted-proxies", "10.0.0.0/33"}},
		{"trusted-proxies variable not a CIDR", nil, []string{"HOOKYARD_TRUSTED_PROXIES=everyone"}, []string{"--trusted-proxies", "everyone"}},
		{"metrics-token with a space", []string{"--metrics-token", "two words"}, nil, []string{"--metrics-token"}},
		{"stray argument", []string{"now"}, nil, []string{"unexpected argument", "now"}},
		{"unknown flag", []string{"--colour"}, nil, []string{"colour"}},
		{"variable not a number", nil, []string{"HOOKYARD_WORKERS=abc"}, []string{"HOOKYARD_WORKERS", "abc"}},
		{"variable not a boolean", nil, []string{"HOOKYARD_DEMO=perhaps"}, []string{"HOOKYARD_DEMO"}},
		{"unknown variable", nil, []string{"HOOKYARD_FOO=1"}, []string{"HOOKYARD_FOO"}},
		{"mistyped variable", nil, []string{"HOOKYARD_WORKER=8"}, []string{"HOOKYARD_WORKER"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseServe(c.args, c.env, io.Discard)
			if err == nil {
				t.Fatalf("args %q env %q: no error", c.args, c.env)
			}
			if code := exitCode(err); code != 2 {
				t.Errorf("exit status %d for a usage error, want 2", code)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// Every problem is reported at once, so a person fixes them in one go.
func TestParseServeReportsEveryProblem(t *testing.T) {
	_, err := parseServe([]string{"--workers", "0", "--log-format", "xml", "--retention", "1m"}, nil, io.Discard)
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"--workers", "--log-format", "--retention"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %s", err, w)
		}
	}
}

func TestParseSize(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"256KiB", 256 << 10, true},
		{"1MiB", 1 << 20, true},
		{"2GiB", 2 << 30, true},
		{"1KB", 1000, true},
		{"3MB", 3_000_000, true},
		{"1GB", 1_000_000_000, true},
		{"4096", 4096, true},
		{"10B", 10, true},
		{"0", 0, true},
		{" 2 MiB ", 2 << 20, true},
		{"", 0, false},
		{"lots", 0, false},
		{"KiB", 0, false},
		{"-1KiB", 0, false},
		{"1.5MiB", 0, false},
		{"1kib", 0, false},
		{"1 TiB", 0, false},
		{"12345678901234567890", 0, false},
	}
	for _, c := range cases {
		got, err := parseSize(c.in)
		if c.ok && (err != nil || got != c.want) {
			t.Errorf("parseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
		if !c.ok {
			if err == nil {
				t.Errorf("parseSize(%q) = %d, want an error", c.in, got)
			} else if !strings.Contains(err.Error(), "256KiB") {
				t.Errorf("parseSize(%q): error %q gives no example of a size", c.in, err)
			}
		}
	}
}

// syncBuffer is a bytes.Buffer the server's goroutines and the test may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// clearHookyardEnv removes HOOKYARD_* variables for this test, so that settings of the
// machine running it cannot change what run does.
func clearHookyardEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "HOOKYARD_") {
			t.Setenv(k, "") // restores the value when the test ends
			os.Unsetenv(k)
		}
	}
}

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestRunVersionAndHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"version"}, nil, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if got, want := stdout.String(), "hookyard "+version+"\n"; got != want {
		t.Errorf("version printed %q, want %q", got, want)
	}
	stdout.Reset()
	if err := run(t.Context(), []string{"help"}, nil, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "hookyard user add") {
		t.Errorf("help printed no usage:\n%s", stdout.String())
	}
}

func TestRunRejectsUnknownCommands(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `"frobnicate"`},
		{[]string{"user"}, `"user add"`},
		{[]string{"user", "list"}, `"user add"`},
		{[]string{"token", "delete"}, `"token add"`},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), c.args, nil, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run %q: error %v, want one mentioning %s", c.args, err, c.want)
		}
	}
	var stdout, stderr bytes.Buffer
	_ = run(t.Context(), []string{"frobnicate"}, nil, &stdout, &stderr)
	if !strings.Contains(stderr.String(), "Usage:") {
		t.Errorf("an unknown command does not show the usage on stderr:\n%s", stderr.String())
	}
}

// The account commands. Adding a user hashes its password at the real bcrypt cost (seconds
// under -race), so only two commands get that far: the one that adds the admin, and, at
// the same time on a second database, one refused as a duplicate.
func TestRunUserAndTokenAdd(t *testing.T) {
	clearHookyardEnv(t)
	ctx := t.Context()
	db := filepath.Join(t.TempDir(), "data", "hookyard.db")
	runCmd := func(stdin string, args ...string) (string, error) {
		var stdout, stderr bytes.Buffer
		err := run(ctx, args, strings.NewReader(stdin), &stdout, &stderr)
		return stdout.String(), err
	}

	dupDB := filepath.Join(t.TempDir(), "dup.db")
	dupStore := openStore(t, dupDB)
	if err := dupStore.CreateUser(ctx, &store.User{Email: "taken@example.com", Name: "T", Role: store.RoleMember, PasswordHash: "unused"}); err != nil {
		t.Fatal(err)
	}
	dupErr := make(chan error, 1)
	go func() {
		_, err := runCmd("other password\n", "user", "add", "--db", dupDB, "--email", "taken@example.com", "--name", "B")
		dupErr <- err
	}()

	// Refused before anything is hashed or stored.
	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"secret password\n", []string{"user", "add", "--db", db, "--email", "not-an-address", "--name", "A"}, "e-mail"},
		{"secret password\n", []string{"user", "add", "--db", db, "--email", "a@example.com", "--name", " "}, "name"},
		{"short\n", []string{"user", "add", "--db", db, "--email", "a@example.com", "--name", "A"}, "8 characters"},
		{"", []string{"user", "add", "--db", db, "--email", "a@example.com", "--name", "A"}, "no password"},
		{"", []string{"user", "add", "--db", db, "--email", "a@example.com", "--name", "A", "extra"}, "unexpected argument"},
	} {
		if _, err := runCmd(c.stdin, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run %q: error %v, want one mentioning %q", c.args, err, c.want)
		}
	}

	out, err := runCmd("secret password\n", "user", "add", "--db", db, "--email", "a@example.com", "--name", "A", "--admin")
	if err != nil {
		t.Fatalf("user add: %v", err)
	}
	if !strings.Contains(out, "admin a@example.com") {
		t.Errorf("user add printed %q", out)
	}
	st := openStore(t, db)
	u, err := st.UserByEmail(ctx, "a@example.com")
	if err != nil {
		t.Fatalf("the user was not stored: %v", err)
	}
	if u.Role != store.RoleAdmin || u.Name != "A" {
		t.Errorf("stored user %+v, want admin named A", u)
	}
	if !store.PasswordMatches(u.PasswordHash, "secret password") {
		t.Error("the stored hash does not match the password given on stdin (without its newline)")
	}

	if err := <-dupErr; err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate e-mail: error %v, want one saying it already exists", err)
	}
	if n, err := dupStore.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("after the refused duplicate: %d users, %v; want 1", n, err)
	}

	out, err = runCmd("", "token", "add", "--db", db, "--email", "a@example.com", "--name", "ci")
	if err != nil {
		t.Fatalf("token add: %v", err)
	}
	secret := strings.TrimSpace(out)
	if !strings.HasPrefix(secret, store.TokenPrefix) || strings.Count(out, "\n") != 1 {
		t.Fatalf("token add printed %q, want one line with a %s token", out, store.TokenPrefix)
	}
	tu, tok, err := st.UserByToken(ctx, secret)
	if err != nil {
		t.Fatalf("the printed token is not accepted: %v", err)
	}
	if tu.ID != u.ID || tok.Name != "ci" {
		t.Errorf("token acts as %s named %q, want %s named ci", tu.Email, tok.Name, u.Email)
	}

	// The database may come from HOOKYARD_DB instead of --db.
	t.Setenv("HOOKYARD_DB", db)
	out, err = runCmd("", "token", "add", "--email", "a@example.com", "--name", "deploy")
	if err != nil {
		t.Fatalf("token add with HOOKYARD_DB: %v", err)
	}
	if _, _, err := st.UserByToken(ctx, strings.TrimSpace(out)); err != nil {
		t.Errorf("token made with HOOKYARD_DB is not accepted: %v", err)
	}
	os.Unsetenv("HOOKYARD_DB")

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"token", "add", "--db", db, "--email", "nobody@example.com", "--name", "ci"}, "nobody@example.com"},
		{[]string{"token", "add", "--db", db, "--email", "a@example.com"}, "--name"},
		{[]string{"token", "add", "--db", db, "--name", "ci"}, "--email"},
	} {
		if _, err := runCmd("", c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run %q: error %v, want one mentioning %q", c.args, err, c.want)
		}
	}
}

var setupURLPattern = regexp.MustCompile(`http://\S+/setup\?token=\S+`)

// serve starts on a free port, prints the setup link, answers, and on cancellation shuts
// down cleanly with the demo data in place.
func TestRunServe(t *testing.T) {
	clearHookyardEnv(t)
	db := filepath.Join(t.TempDir(), "hookyard.db")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--demo"}, strings.NewReader(""), &stdout, &stderr)
	}()

	var setupURL string
	deadline := time.Now().Add(15 * time.Second)
	for setupURL == "" {
		select {
		case err := <-done:
			t.Fatalf("serve stopped early: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no setup link printed within 15s:\n%s", stdout.String())
		}
		setupURL = setupURLPattern.FindString(stdout.String())
		time.Sleep(20 * time.Millisecond)
	}
	base, _, _ := strings.Cut(setupURL, "/setup?")
	if !strings.HasPrefix(base, "http://127.0.0.1:") || strings.HasSuffix(base, ":0") {
		t.Errorf("setup link %s does not name the real listener", setupURL)
	}

	client := &http.Client{Timeout: 5 * time.Second}
	for _, u := range []string{setupURL, base + "/healthz"} {
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d\n%s", u, resp.StatusCode, body)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after cancellation, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not stop within 5s of cancellation")
	}
	if _, err := client.Get(base + "/healthz"); err == nil {
		t.Error("the server still answers after serve returned")
	}

	st := openStore(t, db)
	orgs, _, err := st.ListOrganizations(t.Context(), "", store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range orgs {
		names = append(names, o.Name)
	}
	slices.Sort(names)
	if want := []string{"Acme", "Globex", "Initech"}; !slices.Equal(names, want) {
		t.Errorf("demo organisations %v, want %v", names, want)
	}
}

func TestRunServeRefuses(t *testing.T) {
	clearHookyardEnv(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	db := filepath.Join(t.TempDir(), "hookyard.db")
	cases := []struct {
		args []string
		want string
		exit int // usage errors exit 2, others 1
	}{
		// serve is the default command, so flags may come first.
		{[]string{"--addr", "nowhere"}, "--addr", 2},
		{[]string{"serve", "--workers", "0", "--db", db}, "--workers", 2},
		{[]string{"serve", "--trusted-proxies", "10.0.0.0/99", "--db", db}, "--trusted-proxies", 2},
		{[]string{"serve", "--addr", busy.Addr().String(), "--db", db}, busy.Addr().String(), 1},
	}
	for _, c := range cases {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		var stdout, stderr syncBuffer
		err := run(ctx, c.args, nil, &stdout, &stderr)
		cancel()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run %q: error %v, want one mentioning %q", c.args, err, c.want)
		} else if code := exitCode(err); code != c.exit {
			t.Errorf("run %q: exit status %d, want %d", c.args, code, c.exit)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("run %q started serving instead of refusing", c.args)
		}
	}
}

// --max-webhooks-per-user (SPEC §6): 1000 by default, from the flag or its variable, and a
// number below 1 is a usage error naming the flag.
func TestParseServeMaxWebhooksPerUser(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		env  []string
		want int
	}{
		{"default", nil, nil, 1000},
		{"flag", []string{"--max-webhooks-per-user", "5"}, nil, 5},
		{"environment", nil, []string{"HOOKYARD_MAX_WEBHOOKS_PER_USER=7"}, 7},
		{"flag beats environment", []string{"--max-webhooks-per-user", "9"}, []string{"HOOKYARD_MAX_WEBHOOKS_PER_USER=7"}, 9},
	} {
		cfg, err := parseServe(c.args, c.env, io.Discard)
		if err != nil || cfg.MaxWebhooksPerUser != c.want {
			t.Errorf("%s: MaxWebhooksPerUser = %d, %v; want %d", c.name, cfg.MaxWebhooksPerUser, err, c.want)
		}
	}
	for _, v := range []string{"0", "-3"} {
		_, err := parseServe([]string{"--max-webhooks-per-user", v}, nil, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--max-webhooks-per-user") || !strings.Contains(err.Error(), v) {
			t.Errorf("--max-webhooks-per-user %s: error %v, want one naming the flag and the value", v, err)
		}
	}
}

// `hookyard copy` and `hookyard backup` (SPEC §6, §8) on SQLite files: a copy prints a line
// per table and moves the installation, a target with data is refused with status 2, and a
// backup opens with the same data; flags given wrong are usage errors that say what is wrong.
func TestRunCopyAndBackup(t *testing.T) {
	clearHookyardEnv(t)
	ctx := t.Context()
	dir := t.TempDir()
	src := filepath.Join(dir, "hookyard.db")
	st := openStore(t, src)
	owner := store.User{Email: "mia@example.com", Name: "Mia", Role: store.RoleAdmin, PasswordHash: "unused"}
	if err := st.CreateUser(ctx, &owner); err != nil {
		t.Fatal(err)
	}
	hook := store.Webhook{OwnerID: owner.ID, Name: "crm", URL: "http://127.0.0.1:9/crm", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
	if err := st.CreateWebhook(ctx, &hook); err != nil {
		t.Fatal(err)
	}
	runCmd := func(args ...string) (string, error) {
		var stdout, stderr bytes.Buffer
		err := run(ctx, args, strings.NewReader(""), &stdout, &stderr)
		return stdout.String(), err
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"copy", "--from", src}, "--to"},
		{[]string{"copy", "--from", filepath.Join(dir, "missing.db"), "--to", filepath.Join(dir, "x.db")}, "missing.db"},
		{[]string{"copy", "--from", src, "--to", src}, "same database"},
		{[]string{"copy", "--from", src, "--to", filepath.Join(dir, "x.db"), "--db", src}, "-db"},
		{[]string{"backup", "--db", src}, "--to"},
		{[]string{"backup", "--db", filepath.Join(dir, "missing.db"), "--to", filepath.Join(dir, "b.db")}, "missing.db"},
		{[]string{"backup", "--db", src, "--to", src}, "already exists"},
		{[]string{"backup", "--db", "postgres://bob:hunter2@127.0.0.1:5432/hookyard", "--to", "hookyard.dump"},
			"pg_dump --format=custom --file=hookyard.dump postgres://bob@127.0.0.1:5432/hookyard"},
	} {
		_, err := runCmd(c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run %q: error %v, want one mentioning %q", c.args, err, c.want)
		} else if code := exitCode(err); code != 2 {
			t.Errorf("run %q: exit status %d, want 2", c.args, code)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("run %q: the error shows the password: %v", c.args, err)
		}
	}
	for _, f := range []string{"missing.db", "x.db", "b.db"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("a refused command created %s", f)
		}
	}

	dst := filepath.Join(dir, "copy.db")
	out, err := runCmd("copy", "--from", src, "--to", dst)
	if err != nil {
		t.Fatalf("copy: %v\n%s", err, out)
	}
	for _, want := range []string{`(?m)^users +1/1$`, `(?m)^webhooks +1/1$`, `(?m)^bin_requests +0/0$`, `--db ` + regexp.QuoteMeta(dst)} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("copy printed:\n%s\nwant a line matching %s", out, want)
		}
	}
	if strings.Contains(out, "sessions") {
		t.Errorf("copy printed:\n%s\nbut sessions are not copied", out)
	}
	copied := openStore(t, dst)
	if w, err := copied.Webhook(ctx, hook.ID); err != nil || w.Secret != hook.Secret {
		t.Errorf("the copied webhook is %+v, %v; want it with its secret", w, err)
	}
	_, err = runCmd("copy", "--from", src, "--to", dst)
	if err == nil || !strings.Contains(err.Error(), "already holds data") || exitCode(err) != 2 {
		t.Errorf("copy into the filled copy: %v (exit %d); want a refusal with status 2", err, exitCode(err))
	}

	backupFile := filepath.Join(dir, "backup.db")
	if out, err := runCmd("backup", "--db", src, "--to", backupFile); err != nil || !strings.Contains(out, backupFile) {
		t.Fatalf("backup: %q, %v", out, err)
	}
	if w, err := openStore(t, backupFile).Webhook(ctx, hook.ID); err != nil || w.Secret != hook.Secret {
		t.Errorf("the backup's webhook is %+v, %v; want it with its secret", w, err)
	}
}

// The progress of a copy: on a terminal one line per table redrawn as batches land, elsewhere
// the table's last figures only, with thousands grouped.
func TestProgressLine(t *testing.T) {
	var term, log bytes.Buffer
	pt, pl := &progressLine{w: &term, terminal: true}, &progressLine{w: &log}
	for _, p := range []*progressLine{pt, pl} {
		p.show("bins", 0, 0)
		for _, done := range []int{0, 1000, 2000, 2345} {
			p.show("webhooks", done, 2345)
		}
		p.show("attempts", 0, 1234567)
		p.show("attempts", 1234567, 1234567)
	}
	wantTerm := "\rbins              0/0\n" + "\rwebhooks          0/2,345\rwebhooks          1,000/2,345\rwebhooks          2,000/2,345\rwebhooks          2,345/2,345\n" +
		"\rattempts          0/1,234,567\rattempts          1,234,567/1,234,567\n"
	if term.String() != wantTerm {
		t.Errorf("on a terminal:\n%q\nwant\n%q", term.String(), wantTerm)
	}
	wantLog := "bins              0/0\nwebhooks          2,345/2,345\nattempts          1,234,567/1,234,567\n"
	if log.String() != wantLog {
		t.Errorf("in a log:\n%q\nwant\n%q", log.String(), wantLog)
	}
	if pl.rows != 2345+1234567 {
		t.Errorf("rows counted %d, want %d", pl.rows, 2345+1234567)
	}
}

// CLI conventions (SPEC §6): --version, -h listing the commands, usage errors that exit 2
// naming the flag and what is wrong with it, extra arguments and unknown commands refused.
func TestRunCLIConventions(t *testing.T) {
	clearHookyardEnv(t)
	runCmd := func(args ...string) (string, string, error) {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), args, strings.NewReader(""), &stdout, &stderr)
		return stdout.String(), stderr.String(), err
	}
	for _, args := range [][]string{{"--version"}, {"-version"}, {"version"}} {
		if out, _, err := runCmd(args...); err != nil || out != "hookyard "+version+"\n" {
			t.Errorf("run %q: printed %q, %v; want the version", args, out, err)
		}
	}
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		out, _, err := runCmd(args...)
		if err != nil {
			t.Errorf("run %q: %v", args, err)
		}
		for _, cmd := range []string{"hookyard [serve]", "hookyard user add", "hookyard token add", "hookyard version"} {
			if !strings.Contains(out, cmd) {
				t.Errorf("run %q does not list %q:\n%s", args, cmd, out)
			}
		}
	}
	for _, c := range []struct {
		args  []string
		flags []string
	}{
		{[]string{"serve", "-h"}, []string{"hookyard [serve]", "-addr", "-log-format", "-metrics-token"}},
		{[]string{"--help", "--db", "x"}, nil}, // refused below: help takes no arguments
		{[]string{"user", "add", "-h"}, []string{"hookyard user add", "-email", "-password"}},
		{[]string{"token", "add", "--help"}, []string{"hookyard token add", "-email", "-name"}},
	} {
		if c.flags == nil {
			continue
		}
		out, _, err := runCmd(c.args...)
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("run %q: %v, want help (exit 0)", c.args, err)
		}
		for _, f := range c.flags {
			if !strings.Contains(out, f) {
				t.Errorf("run %q does not show %q:\n%s", c.args, f, out)
			}
		}
	}

	clearHookyardEnv(t)
	db := filepath.Join(t.TempDir(), "h.db")
	for _, c := range []struct {
		args []string
		env  string
		want []string
	}{
		{[]string{"serve", "--workers", "many"}, "", []string{"--workers", `"many" is not a whole number`}},
		{[]string{"--request-timeout", "soon"}, "", []string{"--request-timeout", `"soon" is not a duration`}},
		{[]string{"--demo=maybe"}, "", []string{"--demo", `"maybe" is not true or false`}},
		{[]string{"serve", "--addr"}, "", []string{"--addr needs a value"}},
		{[]string{"serve", "--colour", "blue"}, "", []string{"unknown flag --colour", "hookyard serve -h"}},
		{[]string{"serve", "now"}, "", []string{`unexpected argument "now"`}},
		{[]string{"serve"}, "HOOKYARD_WORKERS=abc", []string{"HOOKYARD_WORKERS", "--workers", `"abc" is not a whole number`}},
		{[]string{"version", "2"}, "", []string{`unexpected argument "2"`}},
		{[]string{"help", "serve"}, "", []string{`unexpected argument "serve"`, "hookyard serve -h"}},
		{[]string{"frobnicate"}, "", []string{`unknown command "frobnicate"`}},
		{[]string{"user", "remove"}, "", []string{`"user add"`}},
		{[]string{"token", "add", "--db", db, "--email", "a@example.com"}, "", []string{"--name is required"}},
		{[]string{"token", "add", "--db", db, "--email", "a@example.com", "--name", "ci", "extra"}, "", []string{`unexpected argument "extra"`}},
		{[]string{"user", "add", "--db", db, "--email", "nope", "--name", "A", "--password", "long enough"}, "", []string{"--email:"}},
		{[]string{"user", "add", "--db", db, "--email", "a@example.com", "--name", "A", "--admin=yes please"}, "", []string{"--admin", "not true or false"}},
	} {
		t.Run(strings.Join(c.args, " ")+" "+c.env, func(t *testing.T) {
			if k, v, ok := strings.Cut(c.env, "="); ok {
				t.Setenv(k, v)
			}
			_, _, err := runCmd(c.args...)
			if err == nil {
				t.Fatal("no error")
			}
			if code := exitCode(err); code != 2 {
				t.Errorf("exit status %d, want 2 for a usage error (%v)", code, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "parse error") {
				t.Errorf("error %q says only \"parse error\"", err)
			}
		})
	}
}

// With --log-format json every line the program writes is one JSON object: the start-up
// records, the setup link, each request (with latency_ms), the shutdown; and when it cannot
// run, its last words too.
func TestRunServeJSONLogs(t *testing.T) {
	clearHookyardEnv(t)
	db := filepath.Join(t.TempDir(), "hookyard.db")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--log-format", "json"}, strings.NewReader(""), &stdout, &stderr)
	}()
	var setupURL string
	deadline := time.Now().Add(15 * time.Second)
	for setupURL == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no setup link logged within 15s:\n%s", stdout.String())
		}
		for _, rec := range jsonLines(t, stdout.String(), false) {
			if u, ok := rec["setupURL"].(string); ok {
				setupURL = u
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	base, _, _ := strings.Cut(setupURL, "/setup?")
	client := &http.Client{Timeout: 5 * time.Second}
	var metrics string
	for _, u := range []string{setupURL, base + "/healthz", base + "/metrics"} {
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", u, resp.StatusCode)
		}
		if strings.HasSuffix(u, "/metrics") {
			metrics = string(body)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v", err)
	}
	if want := `hookyard_build_info{goversion="` + runtime.Version() + `",store="sqlite",version="` + version + `"} 1`; !strings.Contains(metrics, want) {
		t.Errorf("/metrics has no %s", want)
	}

	records := jsonLines(t, stdout.String()+stderr.String(), true)
	var started, request, stopped bool
	for _, rec := range records {
		switch rec["msg"] {
		case "hookyard started":
			started = true
		case "request":
			if rec["path"] == "/healthz" {
				_, isNumber := rec["latency_ms"].(float64)
				request = isNumber && rec["latency"] == nil
			}
		case "stopped":
			stopped = true
		}
	}
	if !started || !request || !stopped {
		t.Errorf("records: started %v, a /healthz request with a numeric latency_ms %v, stopped %v:\n%s", started, request, stopped, stdout.String())
	}

	// A server that cannot start says why, as a JSON record too.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	stdout, stderr = syncBuffer{}, syncBuffer{}
	err = run(t.Context(), []string{"serve", "--addr", busy.Addr().String(), "--db", db, "--log-format", "json"}, nil, &stdout, &stderr)
	if err == nil || !errors.As(err, new(loggedError)) || exitCode(err) != 1 {
		t.Fatalf("serve on a busy address: %v (exit %d), want a logged error, exit 1", err, exitCode(err))
	}
	last := jsonLines(t, stdout.String()+stderr.String(), true)
	if msg, _ := last[len(last)-1]["err"].(string); !strings.Contains(msg, busy.Addr().String()) {
		t.Errorf("the last record %v does not say which address was busy", last[len(last)-1])
	}
	// A usage error under --log-format json is a record as well, and still exits 2.
	stdout, stderr = syncBuffer{}, syncBuffer{}
	err = run(t.Context(), []string{"serve", "--log-format", "json", "--workers", "0"}, nil, &stdout, &stderr)
	if exitCode(err) != 2 || len(jsonLines(t, stderr.String(), true)) != 1 {
		t.Errorf("a usage error with --log-format json: %v (exit %d), stderr %q; want exit 2 and one JSON record", err, exitCode(err), stderr.String())
	}
}

// jsonLines decodes every line of out as one JSON object, as `jq -c .` would; with strict,
// a line that is not one fails the test (otherwise, as while the output is still being
// written, it is skipped).
func jsonLines(t *testing.T, out string, strict bool) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" && out == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			if strict {
				t.Errorf("a line is not a JSON object (%v): %q", err, line)
			}
			continue
		}
		recs = append(recs, rec)
	}
	return recs
}
