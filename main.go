// Command hookyard is a self-hosted webhook service with a browser admin: people choose which
// events in which projects should call their URL, and Hookyard delivers them.
//
// main.go turns flags and HOOKYARD_* variables into a Config, runs the subcommand, and owns the
// order of start-up and shutdown (HTTP first, then the database).
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"hookyard/delivery"
	"hookyard/handlers"
	"hookyard/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		if !errors.As(err, new(loggedError)) {
			fmt.Fprintln(os.Stderr, "hookyard:", err)
		}
		os.Exit(exitCode(err))
	}
}

// loggedError was already written to the log (with --log-format json, as a JSON record), so
// main does not print it again.
type loggedError struct{ error }

func (e loggedError) Unwrap() error { return e.error }

// usageError is a flag or HOOKYARD_* variable given wrong: the process exits 2, as for a
// flag the flag package cannot parse.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// exitCode is the process status for an error run returned: 2 for a usage error, else 1.
func exitCode(err error) int {
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

const usage = `Hookyard — webhooks you choose, delivered.

Usage:
  hookyard [serve] [flags]          start the server (the default)
  hookyard user add --email E --name N [--admin] [--password P]
                                    add a user (password read from stdin when not given)
  hookyard token add --email E --name N
                                    create an API token for a user and print it once
  hookyard copy --from SRC --to DST copy a whole installation into a new, empty database
                                    (an SQLite file or a postgres:// URL; stop the server first)
  hookyard backup --to FILE         write a consistent copy of the SQLite database, even while
                                    it is serving (PostgreSQL: use pg_dump)
  hookyard version                  print the version (also --version)
  hookyard help                     print this (also -h, --help)

Every flag can also be set as HOOKYARD_<NAME> (e.g. --allow-private-targets is
HOOKYARD_ALLOW_PRIVATE_TARGETS). Run "hookyard <command> -h" for a command's flags,
e.g. "hookyard serve -h" for the server's.
`

// synopses are the first line of each command's -h.
var synopses = map[string]string{
	"serve":     "hookyard [serve] [flags]: start the server",
	"user add":  "hookyard user add --email E --name N [--admin] [--password P]: add a user (password read from stdin when not given)",
	"token add": "hookyard token add --email E --name N: create an API token for a user and print it once",
	"copy":      "hookyard copy --from SRC --to DST: copy a whole installation into a new, empty database",
	"backup":    "hookyard backup --to FILE: write a consistent copy of the SQLite database, even while it serves",
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "help", "-h", "-help", "--help":
			if len(args) > 1 {
				return usageError{fmt.Errorf("unexpected argument %q: for a command's flags run \"hookyard %s -h\"", args[1], args[1])}
			}
			fmt.Fprint(stdout, usage)
			return nil
		case "version", "-version", "--version":
			if len(args) > 1 {
				return usageError{fmt.Errorf("unexpected argument %q: %s takes none", args[1], args[0])}
			}
			fmt.Fprintln(stdout, "hookyard", version)
			return nil
		}
	}
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, err := parseServe(args, os.Environ(), stdout)
		if err == nil {
			err = serve(ctx, cfg, stdout)
		}
		if err != nil && cfg.LogFormat == "json" {
			// Every line is a JSON object, the last words included.
			newLogger("json", stderr).Error("hookyard cannot run", "err", err.Error())
			return loggedError{err}
		}
		return err
	case "user", "token":
		if len(args) == 0 || args[0] != "add" {
			return usageError{fmt.Errorf("unknown command %q; did you mean %q?", strings.TrimSpace(cmd+" "+strings.Join(args[:min(1, len(args))], " ")), cmd+" add")}
		}
		if cmd == "user" {
			return userAdd(ctx, args[1:], stdin, stdout)
		}
		return tokenAdd(ctx, args[1:], stdout)
	case "copy":
		return copyInstallation(ctx, args, stdout)
	case "backup":
		return backup(ctx, args, stdout)
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Errorf("unknown command %q; the commands are listed above", cmd)}
}

// Config is everything `hookyard serve` is told, validated once.
type Config struct {
	Addr                  string
	DB                    string
	BaseURL               *url.URL // nil: http://localhost:<port> of the listener
	AllowPrivateTargets   bool
	RetrySchedule         []time.Duration
	RequestTimeout        time.Duration
	Workers               int
	PerWebhookConcurrency int
	MaxPayload            int64
	Retention             time.Duration
	Demo                  bool
	LogFormat             string
	SMTPURL               *url.URL
	SMTPFrom              string
	TrustedProxies        []*net.IPNet // whose X-Forwarded-For is believed; none by default
	MetricsToken          string       // when set, /metrics needs Authorization: Bearer <it>
	MaxWebhooksPerUser    int
	NodeName              string // names this node among several on one PostgreSQL database
}

// lookupEnv is os.LookupEnv, replaceable in tests.
type lookupEnv func(string) (string, bool)

func envName(flagName string) string {
	return "HOOKYARD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// newFlagSet makes the flags of one command. Parse errors are worded by parseFlags, and -h
// is printed by it, so the flag package itself prints nothing.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args, then fills every flag not given on the command line from its
// HOOKYARD_* variable. A variable that names no flag of any command is an error, so a typo
// does not silently fall back to a default. -h prints the command's synopsis and flags to
// help and returns flag.ErrHelp; any other problem is a usageError naming the flag (or the
// variable) and what is wrong with its value.
func parseFlags(fs *flag.FlagSet, args []string, env lookupEnv, help io.Writer) error {
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(help, "Usage: %s\n\nFlags (each also read from HOOKYARD_<NAME>):\n", synopses[fs.Name()])
		fs.SetOutput(help)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		return err
	} else if err != nil {
		return usageError{explainFlagError(fs, err)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q: %q takes only flags (see \"hookyard %s -h\")", fs.Arg(0), fs.Name(), fs.Name())}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		if v, ok := env(envName(f.Name)); ok {
			problem := explainValue(f, v)
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s (for --%s): %s", envName(f.Name), f.Name, problem))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return usageError{err}
	}
	return nil
}

// flagValueError matches the flag package's message for a value it cannot read.
var flagValueError = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-([^:]+): `)

// explainFlagError words an error of the flag package with the flag's name and what is wrong,
// instead of "parse error".
func explainFlagError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return fmt.Errorf("unknown flag --%s; the flags are listed by \"hookyard %s -h\"", strings.TrimPrefix(name, "-"), fs.Name())
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return fmt.Errorf("--%s needs a value, as in --%s=VALUE", strings.TrimPrefix(name, "-"), strings.TrimPrefix(name, "-"))
	}
	if m := flagValueError.FindStringSubmatch(msg); m != nil {
		if f := fs.Lookup(m[2]); f != nil {
			return fmt.Errorf("--%s: %s", f.Name, explainValue(f, m[1]))
		}
	}
	return err
}

// explainValue says what kind of value a flag takes, for a value it cannot read.
func explainValue(f *flag.Flag, v string) string {
	var kind any
	if g, ok := f.Value.(flag.Getter); ok {
		kind = g.Get()
	}
	switch kind.(type) {
	case bool:
		return fmt.Sprintf("%q is not true or false", v)
	case int, int64, uint, uint64:
		return fmt.Sprintf("%q is not a whole number", v)
	case time.Duration:
		return fmt.Sprintf("%q is not a duration such as 10s, 5m or 1h30m", v)
	}
	return fmt.Sprintf("%q cannot be used", v)
}

// unknownEnv finds HOOKYARD_* variables that name no flag, such as a mistyped one.
func unknownEnv(known *flag.FlagSet, environ []string) error {
	names := map[string]bool{}
	known.VisitAll(func(f *flag.Flag) { names[envName(f.Name)] = true })
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		// HOOKYARD_TEST_* belong to `make test` (which database server the tests use).
		if strings.HasPrefix(k, "HOOKYARD_") && !strings.HasPrefix(k, "HOOKYARD_TEST_") && !names[k] {
			return fmt.Errorf("unknown setting %s in the environment; known ones are the flags of \"hookyard serve -h\" as HOOKYARD_<NAME>", k)
		}
	}
	return nil
}

type serveFlags struct {
	fs                                           *flag.FlagSet
	addr, db, baseURL, retry, maxPayload, logFmt *string
	smtpURL, smtpFrom                            *string
	trustedProxies, metricsToken, nodeName       *string
	allowPrivate, demo                           *bool
	requestTimeout, retention                    *time.Duration
	workers, perWebhook                          *int
	maxWebhooks                                  *int
}

func newServeFlags() serveFlags {
	fs := newFlagSet("serve")
	return serveFlags{
		fs:             fs,
		addr:           fs.String("addr", ":8080", "address to listen on"),
		db:             fs.String("db", "data/hookyard.db", "SQLite database file (created if missing)"),
		baseURL:        fs.String("base-url", "", "public URL of this server, for links and secure cookies (default http://localhost:<port>)"),
		allowPrivate:   fs.Bool("allow-private-targets", false, "allow webhooks to call loopback, private and link-local addresses"),
		retry:          fs.String("retry-schedule", "10s,1m,10m,1h", "delays before attempts 2..5, comma-separated"),
		requestTimeout: fs.Duration("request-timeout", 10*time.Second, "time a receiver has to answer one attempt"),
		workers:        fs.Int("workers", 256, "most requests in flight across all webhooks"),
		perWebhook:     fs.Int("per-webhook-concurrency", 8, "most requests in flight to one webhook"),
		maxPayload:     fs.String("max-payload", "256KiB", "largest event body accepted"),
		retention:      fs.Duration("retention", 720*time.Hour, "how long events, deliveries and attempts are kept"),
		demo:           fs.Bool("demo", false, "seed sample organisations and projects into an empty database"),
		logFmt:         fs.String("log-format", "text", "log format: text or json"),
		smtpURL:        fs.String("smtp-url", "", "SMTP server for notices, e.g. smtp://user:pass@mail.example.com:587"),
		smtpFrom:       fs.String("smtp-from", "", "sender address of e-mail notices"),
		trustedProxies: fs.String("trusted-proxies", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client (default none)"),
		metricsToken:   fs.String("metrics-token", "", "when set, /metrics needs Authorization: Bearer <this token>"),
		nodeName:       fs.String("node-name", "", "names this node in logs, metrics and the dashboard when several share one PostgreSQL database (default: host name and process id)"),
		maxWebhooks:    fs.Int("max-webhooks-per-user", 1000, "most webhooks one person may have"),
	}
}

// parseServe reads the serve flags from args and environ (KEY=value lines, as os.Environ);
// -h prints them to help.
func parseServe(args, environ []string, help io.Writer) (Config, error) {
	env := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	f := newServeFlags()
	if err := parseFlags(f.fs, args, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, help); err != nil {
		return Config{}, err
	}
	if err := unknownEnv(f.fs, environ); err != nil {
		return Config{}, usageError{err}
	}
	cfg := Config{
		Addr: *f.addr, DB: *f.db, AllowPrivateTargets: *f.allowPrivate, RequestTimeout: *f.requestTimeout,
		Workers: *f.workers, PerWebhookConcurrency: *f.perWebhook, Retention: *f.retention, Demo: *f.demo,
		LogFormat: *f.logFmt, SMTPFrom: *f.smtpFrom, MetricsToken: *f.metricsToken, NodeName: *f.nodeName,
		MaxWebhooksPerUser: *f.maxWebhooks,
	}
	var errs []error
	bad := func(flagName, format string, a ...any) {
		errs = append(errs, fmt.Errorf("--%s: "+format, append([]any{flagName}, a...)...))
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		bad("addr", "%q is not host:port (for example :8080 or 127.0.0.1:8080)", cfg.Addr)
	}
	if cfg.DB == "" {
		bad("db", "give a file path")
	}
	// Without --base-url, serve derives it from the address it actually listens on.
	if *f.baseURL != "" {
		u, err := url.Parse(*f.baseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("base-url", "%q must be an absolute http:// or https:// URL", *f.baseURL)
		} else {
			u.Path = strings.TrimSuffix(u.Path, "/")
			cfg.BaseURL = u
		}
	}
	for _, part := range strings.Split(*f.retry, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d <= 0 {
			bad("retry-schedule", "%q is not a positive duration such as 10s or 1m", strings.TrimSpace(part))
			break
		}
		cfg.RetrySchedule = append(cfg.RetrySchedule, d)
	}
	if len(cfg.RetrySchedule) > 4 {
		bad("retry-schedule", "at most 4 delays (a delivery gets at most 5 attempts)")
	}
	if cfg.RequestTimeout <= 0 || cfg.RequestTimeout > 5*time.Minute {
		bad("request-timeout", "must be between 1ms and 5m, not %s", cfg.RequestTimeout)
	}
	if cfg.Workers < 1 || cfg.Workers > 10000 {
		bad("workers", "must be from 1 to 10000, not %d", cfg.Workers)
	}
	if cfg.PerWebhookConcurrency < 1 || cfg.PerWebhookConcurrency > cfg.Workers {
		bad("per-webhook-concurrency", "must be from 1 to --workers (%d), not %d", cfg.Workers, cfg.PerWebhookConcurrency)
	}
	var err error
	if cfg.MaxPayload, err = parseSize(*f.maxPayload); err != nil {
		bad("max-payload", "%v", err)
	} else if cfg.MaxPayload < 1024 || cfg.MaxPayload > 64<<20 {
		bad("max-payload", "must be from 1KiB to 64MiB, not %s", *f.maxPayload)
	}
	if cfg.Retention < time.Hour {
		bad("retention", "must be at least 1h, not %s", cfg.Retention)
	}
	if cfg.MaxWebhooksPerUser < 1 || cfg.MaxWebhooksPerUser > 1_000_000 {
		bad("max-webhooks-per-user", "must be from 1 to 1000000, not %d", cfg.MaxWebhooksPerUser)
	}
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		bad("log-format", "must be text or json, not %q", cfg.LogFormat)
	}
	if *f.smtpURL != "" {
		u, err := url.Parse(*f.smtpURL)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			bad("smtp-url", "%q must look like smtp://user:pass@host:587 or smtps://host:465", *f.smtpURL)
		}
		cfg.SMTPURL = u
		if cfg.SMTPFrom == "" {
			bad("smtp-from", "is needed with --smtp-url")
		}
	}
	if cfg.SMTPFrom != "" && store.ValidateEmail(cfg.SMTPFrom) != "" {
		bad("smtp-from", "%q is not an e-mail address", cfg.SMTPFrom)
	}
	for _, part := range strings.Split(*f.trustedProxies, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		if ip := net.ParseIP(part); ip != nil { // one address: a range of one
			bits := "/128"
			if ip.To4() != nil {
				bits = "/32"
			}
			part = ip.String() + bits
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			bad("trusted-proxies", "%q is not a CIDR such as 10.0.0.0/8 or 2001:db8::/32", part)
			continue
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, n)
	}
	if strings.ContainsFunc(cfg.MetricsToken, unicode.IsSpace) {
		bad("metrics-token", "must not contain spaces")
	}
	if err := errors.Join(errs...); err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}

// parseSize reads sizes such as 256KiB, 1MB or 4096.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"B", 1}}
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is not a size such as 256KiB or 1MiB", s)
	}
	return n * mult, nil
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func serve(ctx context.Context, cfg Config, stdout io.Writer) error {
	log := newLogger(cfg.LogFormat, stdout)
	st, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer st.Close()
	if cfg.Demo {
		seeded, err := st.SeedDemo(ctx)
		if err != nil {
			return fmt.Errorf("seed demo data: %w", err)
		}
		if seeded {
			log.Info("demo data added: organisations Acme, Globex and Initech with projects")
		}
	}
	users, err := st.CountUsers(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	if cfg.BaseURL == nil {
		cfg.BaseURL = listenerURL(ln.Addr())
	}
	client := delivery.NewClient(delivery.ClientOptions{AllowPrivate: cfg.AllowPrivateTargets,
		Timeout: cfg.RequestTimeout, UserAgent: "Hookyard/" + version})
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hookyard_build_info", Help: "Always 1; the labels say which build is running.",
			ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version(), "store": storeEngine(cfg.DB)}},
			func() float64 { return 1 }))
	mailer := delivery.NewMailer(cfg.SMTPURL, cfg.SMTPFrom, cfg.BaseURL.String(), st, log)
	metrics := delivery.NewMetrics(reg, st, delivery.MetricsConfig{RetrySchedule: cfg.RetrySchedule,
		RequestTimeout: cfg.RequestTimeout, Workers: cfg.Workers})
	engine := delivery.NewEngine(st, client, delivery.Config{
		RetrySchedule: cfg.RetrySchedule, Workers: cfg.Workers, PerWebhook: cfg.PerWebhookConcurrency,
		RequestTimeout: cfg.RequestTimeout, Logger: log, Metrics: metrics,
		OnDisabled: mailer.WebhooksDisabled, NodeName: cfg.NodeName,
	})
	if err := engine.Start(ctx); err != nil {
		return err
	}
	go delivery.RunRetention(ctx, st, cfg.Retention, time.Minute, log)
	if cfg.Demo {
		go delivery.RunDemo(ctx, engine, st, 20*time.Second, log)
	}
	opts := handlers.Options{BaseURL: cfg.BaseURL, Version: version, Logger: log,
		AllowPrivateTargets: cfg.AllowPrivateTargets, Outbound: client, Engine: engine,
		Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), MetricsRegisterer: reg, MaxPayload: cfg.MaxPayload,
		TrustedProxies: cfg.TrustedProxies, MetricsToken: cfg.MetricsToken,
		MaxWebhooksPerUser: cfg.MaxWebhooksPerUser}
	if users == 0 {
		var b [24]byte
		_, _ = rand.Read(b[:])
		opts.SetupToken = base64.RawURLEncoding.EncodeToString(b[:])
	}
	e, err := handlers.New(ctx, st, opts)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	base := strings.TrimSuffix(cfg.BaseURL.String(), "/")
	log.Info("hookyard started", "version", version, "addr", ln.Addr().String(), "db", redactedDSN(cfg.DB))
	announce(log, cfg.LogFormat, stdout, base, opts.SetupToken)

	select {
	case err := <-served:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	// Shutdown order: HTTP (no new events), then the sender (attempts in flight may finish
	// for a few seconds; the rest stay pending for the next start), then the database.
	log.Info("shutting down: no new requests; finishing those in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("some requests did not finish in time", "err", err)
	}
	sendCtx, cancelSend := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelSend()
	engine.Stop(sendCtx)
	log.Info("stopped")
	return nil
}

// storeEngine names the storage engine a --db value opens, for hookyard_build_info.
func storeEngine(dsn string) string {
	if store.IsPostgres(dsn) {
		return "postgres"
	}
	return "sqlite"
}

// announce says where to go now: the one-time setup link while no user exists, else the
// address to sign in at. In text a banner for people; in JSON a log record like every line.
func announce(log *slog.Logger, format string, stdout io.Writer, base, setupToken string) {
	switch {
	case format == "json" && setupToken != "":
		log.Info("create the first admin account at the setup link", "setupURL", base+"/setup?token="+setupToken)
	case format == "json":
		log.Info("open Hookyard and sign in", "url", base+"/")
	case setupToken != "":
		fmt.Fprintf(stdout, "\n  Hookyard is running. Create the first admin account here:\n\n    %s/setup?token=%s\n\n", base, setupToken)
	default:
		fmt.Fprintf(stdout, "\n  Hookyard is running. Open %s/ and sign in.\n\n", base)
	}
}

// redactedDSN is a --db value fit for the log: a PostgreSQL URL without its password.
func redactedDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && store.IsPostgres(dsn) {
		return u.Redacted()
	}
	return dsn
}

// listenerURL is the URL people on this machine use to reach a listener.
func listenerURL(a net.Addr) *url.URL {
	host, port, _ := net.SplitHostPort(a.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}
}

// dbFlags are the flags of the subcommands that only open the database.
func dbFlags(name string) (*flag.FlagSet, *string) {
	fs := newFlagSet(name)
	return fs, fs.String("db", "data/hookyard.db", "SQLite database file or postgres:// URL")
}

func userAdd(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs, db := dbFlags("user add")
	email := fs.String("email", "", "e-mail address (required)")
	name := fs.String("name", "", "display name (required)")
	admin := fs.Bool("admin", false, "make the user an admin")
	password := fs.String("password", "", "password (read from stdin when not given)")
	if err := parseFlags(fs, args, envOnly("db"), stdout); err != nil {
		return err
	}
	if *password == "" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return usageError{errors.New("no password: pass --password or write it on stdin")}
		}
		*password = strings.TrimRight(line, "\r\n")
	}
	var problems []error
	for _, p := range []struct{ flag, problem string }{{"--email", store.ValidateEmail(*email)},
		{"--name", store.ValidateName(*name)}, {"--password (or stdin)", store.ValidatePassword(*password)}} {
		if p.problem != "" {
			problems = append(problems, fmt.Errorf("%s: %s", p.flag, p.problem))
		}
	}
	if len(problems) > 0 {
		return usageError{fmt.Errorf("cannot add user: %w", errors.Join(problems...))}
	}
	st, err := store.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.UserByEmail(ctx, *email); err == nil {
		return fmt.Errorf("a user with e-mail %s already exists", *email)
	}
	hash, err := st.HashPassword(*password)
	if err != nil {
		return err
	}
	u := store.User{Email: *email, Name: *name, Role: store.RoleMember, PasswordHash: hash}
	if *admin {
		u.Role = store.RoleAdmin
	}
	if err := st.CreateUser(ctx, &u); errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("a user with e-mail %s already exists", *email)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added %s %s (%s)\n", u.Role, u.Email, u.ID)
	return nil
}

func tokenAdd(ctx context.Context, args []string, stdout io.Writer) error {
	fs, db := dbFlags("token add")
	email := fs.String("email", "", "e-mail of the user the token acts as (required)")
	name := fs.String("name", "", "what the token is for (required)")
	if err := parseFlags(fs, args, envOnly("db"), stdout); err != nil {
		return err
	}
	var missing []error
	for _, f := range []struct{ flag, value string }{{"--email", *email}, {"--name", strings.TrimSpace(*name)}} {
		if f.value == "" {
			missing = append(missing, fmt.Errorf("%s is required", f.flag))
		}
	}
	if len(missing) > 0 {
		return usageError{errors.Join(missing...)}
	}
	st, err := store.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.UserByEmail(ctx, *email)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user has the e-mail %s", *email)
	} else if err != nil {
		return err
	}
	_, secret, err := st.CreateToken(ctx, u.ID, strings.TrimSpace(*name))
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, secret)
	return nil
}

// envOnly lets a subcommand read only the listed flags from the environment, so that
// HOOKYARD_EMAIL or similar never fills in an account by accident.
func envOnly(names ...string) lookupEnv {
	return func(k string) (string, bool) {
		for _, n := range names {
			if k == envName(n) {
				return os.LookupEnv(k)
			}
		}
		return "", false
	}
}

// copyInstallation is `hookyard copy` (SPEC §8): the whole installation of one database into
// a new, empty one, on either engine, with a line of progress per table.
func copyInstallation(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("copy")
	from := fs.String("from", "", "the installation's database: an SQLite file or a postgres:// URL (required)")
	to := fs.String("to", "", "a new, empty database: an SQLite file (created) or a postgres:// URL (required)")
	if err := parseFlags(fs, args, envOnly(), stdout); err != nil {
		return err
	}
	switch {
	case *from == "" || *to == "":
		return usageError{errors.New("both --from and --to are required, e.g. hookyard copy --from data/hookyard.db --to postgres://user@host/hookyard")}
	case sameDatabase(*from, *to):
		return usageError{errors.New("--from and --to name the same database; --to must be a new, empty one")}
	}
	if !store.IsPostgres(*from) {
		if _, err := os.Stat(*from); err != nil {
			return usageError{fmt.Errorf("--from: no database file at %s", *from)}
		}
	}
	src, err := store.Open(ctx, *from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := store.Open(ctx, *to)
	if err != nil {
		return err
	}
	defer dst.Close()
	fmt.Fprintf(stdout, "Copying %s to %s. Stop its server first: what it writes from now on is not copied.\n",
		store.RedactDSN(*from), store.RedactDSN(*to))
	p := &progressLine{w: stdout, terminal: isTerminal(stdout)}
	err = store.Copy(ctx, src, dst, p.show)
	if errors.Is(err, store.ErrTargetNotEmpty) {
		return usageError{fmt.Errorf("--to %s: %w", store.RedactDSN(*to), err)}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Copied %s rows; every table holds as many as in the source.\nStart Hookyard on the copy with --db %s\n",
		thousands(p.rows), store.RedactDSN(*to))
	return nil
}

// sameDatabase reports whether two --db values name one database.
func sameDatabase(a, b string) bool {
	if store.IsPostgres(a) || store.IsPostgres(b) {
		return a == b
	}
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	if errA == nil && errB == nil && absA == absB {
		return true
	}
	infoA, errA := os.Stat(a)
	infoB, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(infoA, infoB)
}

// progressLine shows Copy's progress as one line per table ("webhooks 1,234/5,000"): redrawn
// in place on a terminal, written once the table is done elsewhere (a log gets no \r).
type progressLine struct {
	w        io.Writer
	terminal bool
	rows     int // copied so far, in finished tables
}

func (p *progressLine) show(table string, done, total int) {
	line := fmt.Sprintf("%-17s %s/%s", table, thousands(done), thousands(total))
	switch {
	case p.terminal && done < total:
		fmt.Fprint(p.w, "\r"+line)
	case p.terminal:
		fmt.Fprint(p.w, "\r"+line+"\n")
	case done == total:
		fmt.Fprintln(p.w, line)
	}
	if done == total {
		p.rows += total
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// backup is `hookyard backup` (SPEC §6): a consistent copy of the SQLite database, safe while
// a server is using it. PostgreSQL is told to use pg_dump.
func backup(ctx context.Context, args []string, stdout io.Writer) error {
	fs, db := dbFlags("backup")
	to := fs.String("to", "", "the backup file to write; it must not exist (required)")
	if err := parseFlags(fs, args, envOnly("db"), stdout); err != nil {
		return err
	}
	if *to == "" {
		return usageError{errors.New("--to is required: the new file to write the backup to")}
	}
	if store.IsPostgres(*db) {
		return usageError{pgDumpAdvice(*db, *to)}
	}
	if _, err := os.Stat(*db); err != nil {
		return usageError{fmt.Errorf("--db: no database file at %s", *db)}
	}
	if _, err := os.Lstat(*to); err == nil {
		return usageError{fmt.Errorf("--to: %s already exists; a backup never overwrites a file: choose a new name", *to)}
	}
	st, err := store.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Backup(ctx, *to); errors.Is(err, os.ErrExist) {
		return usageError{fmt.Errorf("--to: %w", err)}
	} else if err != nil {
		return err
	}
	size := int64(0)
	if info, err := os.Stat(*to); err == nil {
		size = info.Size()
	}
	fmt.Fprintf(stdout, "Backed up %s to %s (%s bytes). To restore it, stop the server and start it with --db %s.\n",
		*db, *to, thousands(int(size)), shellWord(*to))
	return nil
}

// pgDumpAdvice says how to back up a PostgreSQL database instead: the pg_dump command for its
// URL, without the password.
func pgDumpAdvice(dsn, file string) error {
	target, note := "<the database URL>", ""
	if u, err := url.Parse(dsn); err == nil {
		if _, has := u.User.Password(); has {
			u.User = url.User(u.User.Username())
			note = "\n(pg_dump asks for the password, or reads it from PGPASSWORD or ~/.pgpass)"
		}
		target = u.String()
	}
	return fmt.Errorf("hookyard backup is for SQLite; back up PostgreSQL with pg_dump:\n\n  pg_dump --format=custom --file=%s %s\n\n"+
		"and restore into a new, empty database with: pg_restore --dbname=<its URL> %s%s",
		shellWord(file), shellWord(target), shellWord(file), note)
}

// shellWord quotes s for a POSIX shell unless it is made of characters that need none.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:@%+=,-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
