package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"hookyard/store"
)

// Helpers for whole-program tests that need no browser: a server on a database the test
// chooses, which the test may kill and start again, driven through the JSON API.

// addAdminWithToken gives the new database db (a file, or a PostgreSQL URL) an admin and returns an API token for
// it, made with `hookyard user add` and `hookyard token add` as an operator would before the
// first start. The commands run once per test binary (the password hash alone takes seconds
// under the race detector); later calls copy that database.
func addAdminWithToken(t *testing.T, db string) string {
	t.Helper()
	adminOnce.Do(func() {
		adminDB = filepath.Join(filepath.Dir(binary), "admin.db") // removed with the binary
		_, adminErr = runHookyard("user", "add", "--db", adminDB, "--email", "ops@example.com", "--name", "Ops", "--admin",
			"--password", "correct horse battery")
		if adminErr == nil {
			var out string
			out, adminErr = runHookyard("token", "add", "--db", adminDB, "--email", "ops@example.com", "--name", "crash test")
			adminToken = strings.TrimSpace(out)
		}
		if fi, err := os.Stat(adminDB + "-wal"); adminErr == nil && err == nil && fi.Size() > 0 {
			adminErr = fmt.Errorf("%s-wal is left after the commands exited; copying only the main file would lose it", adminDB)
		}
	})
	if adminErr != nil {
		t.Fatal(adminErr)
	}
	if adminToken == "" || strings.ContainsAny(adminToken, " \n") {
		t.Fatalf("token add printed %q, want one token", adminToken)
	}
	if store.IsPostgres(db) {
		// A PostgreSQL database gets the same admin and token the way an operator moves in.
		if _, err := runHookyard("copy", "--from", adminDB, "--to", db); err != nil {
			t.Fatal(err)
		}
		return adminToken
	}
	// Both commands closed the database, so it is all in the main file.
	b, err := os.ReadFile(adminDB)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return adminToken
}

// The database with the admin, made by the first addAdminWithToken.
var (
	adminOnce           sync.Once
	adminDB, adminToken string
	adminErr            error
)

// runHookyard runs one hookyard subcommand to completion and returns its standard output.
func runHookyard(args ...string) (string, error) {
	cmd := exec.Command(binary, args...)
	cmd.Env = withoutHookyardVars(os.Environ())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("hookyard %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// serverProcess is one `hookyard serve` run that the test stops itself: kill for a crash, or stop
// for a clean shutdown.
type serverProcess struct {
	cmd    *exec.Cmd
	base   string // e.g. http://127.0.0.1:41234
	out    *lockedBuffer
	exited chan error // receives cmd.Wait's result once
	ended  bool       // the test has already seen it end
}

// runningLine is what serve prints once it listens, when an account already exists.
var runningLine = regexp.MustCompile(`Open (http://127\.0\.0\.1:\d+)/ and sign in`)

// startProcess runs `hookyard serve` on db (an existing database with an admin) on a free
// port. If the test ends with the process still running, it is stopped with SIGTERM and must
// exit cleanly.
func startProcess(t *testing.T, db string, extra ...string) *serverProcess {
	t.Helper()
	p := &serverProcess{out: &lockedBuffer{}, exited: make(chan error, 1)}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db}, extra...)
	p.cmd = exec.Command(binary, args...) // the server itself, so Kill reaches it and no wrapper
	p.cmd.Env = withoutHookyardVars(os.Environ())
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start hookyard: %v", err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if !p.ended {
			p.stop(t)
		}
	})

	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := runningLine.FindStringSubmatch(p.out.String()); m != nil {
			p.base = m[1]
			return p
		}
		select {
		case err := <-p.exited:
			p.ended = true
			t.Fatalf("hookyard exited before it listened (%v):\n%s", err, p.out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("hookyard printed no address within 30s:\n%s", p.out.String())
		}
	}
}

// kill ends the process with SIGKILL, as a crash or the OOM killer would, and waits for it.
func (p *serverProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill hookyard: %v", err)
	}
	err := <-p.exited
	p.ended = true
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("hookyard ended with %v, want death by SIGKILL", err)
	}
}

// stop sends SIGTERM and expects a clean exit within 10 s.
func (p *serverProcess) stop(t *testing.T) {
	t.Helper()
	p.ended = true
	select {
	case err := <-p.exited:
		t.Errorf("hookyard stopped before the test ended (%v)\n%s", err, p.out.String())
		return
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("send SIGTERM to hookyard: %v", err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Errorf("hookyard exited with %v after SIGTERM, want a clean exit\n%s", err, p.out.String())
		}
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		t.Errorf("hookyard did not exit within 10s of SIGTERM\n%s", p.out.String())
	}
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// apiClient calls /api/v1 of one server with a bearer token.
type apiClient struct {
	base, token string
	http        *http.Client
}

func newAPIClient(base, token string) *apiClient {
	return &apiClient{base: base, token: token, http: &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 32, Proxy: nil},
	}}
}

// call sends body (JSON-encoded unless nil) and decodes a JSON answer into out (unless nil).
// It returns the status; an error means no answer arrived.
func (c *apiClient) call(method, path string, body, out any) (int, error) {
	status, _, _, err := c.exchange(method, path, body, out)
	return status, err
}

// exchange is call that also returns the answer's headers and raw body.
func (c *apiClient) exchange(method, path string, body, out any) (int, http.Header, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+"/api/v1"+path, r)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, resp.Header, b, err
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, resp.Header, b, fmt.Errorf("decode %s %s answer %q: %w", method, path, b, err)
		}
	}
	return resp.StatusCode, resp.Header, b, nil
}

// mustCall is call for set-up steps: anything but want fails the test.
func (c *apiClient) mustCall(t *testing.T, method, path string, body, out any, want int) {
	t.Helper()
	status, err := c.call(method, path, body, out)
	if err != nil || status != want {
		t.Fatalf("%s %s: status %d, error %v; want %d", method, path, status, err, want)
	}
}
