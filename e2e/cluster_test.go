package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"hookyard/internal/testdb"
	"hookyard/store"
)

// Several nodes on one PostgreSQL database (SPEC §8), as real processes: events published
// to any node arrive once each with valid signatures; one webhook never gets more requests
// at once than its limit although three nodes publish; a node killed with SIGKILL has its
// webhooks taken over within 15 s; a webhook switched off on one node is not sent to by
// another a second later.

// clusterReceiver checks signatures and counts, per event, arrivals and requests at once.
type clusterReceiver struct {
	secret string
	delay  time.Duration

	mu       sync.Mutex
	arrivals map[string]int // event id → arrivals
	bad      []string
	active   int
	peak     int
}

func (r *clusterReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var p struct{ ID string }
	_ = json.Unmarshal(body, &p)
	mac := hmac.New(sha256.New, []byte(r.secret))
	mac.Write(body)
	r.mu.Lock()
	r.active++
	r.peak = max(r.peak, r.active)
	if hex.EncodeToString(mac.Sum(nil)) != req.Header.Get("X-Signature") {
		r.bad = append(r.bad, p.ID)
	}
	r.arrivals[p.ID]++
	r.mu.Unlock()
	time.Sleep(r.delay)
	r.mu.Lock()
	r.active--
	r.mu.Unlock()
}

// waitAll waits until every event arrived, and returns the extra arrivals.
func (r *clusterReceiver) waitAll(t *testing.T, ids []string, within time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r.mu.Lock()
		missing, extra := 0, 0
		for _, id := range ids {
			switch n := r.arrivals[id]; {
			case n == 0:
				missing++
			case n > 1:
				extra += n - 1
			}
		}
		r.mu.Unlock()
		if missing == 0 {
			return extra
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events never arrived within %s", missing, len(ids), within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type cluster struct {
	t      *testing.T
	db     string
	token  string
	nodes  []*serverProcess
	st     *store.Store
	prj    string
	hookID string
	recv   *clusterReceiver
}

// newCluster starts n nodes on a fresh PostgreSQL database with one webhook to a receiver.
func newCluster(t *testing.T, n int, recvDelay time.Duration, extra ...string) *cluster {
	t.Helper()
	c := &cluster{t: t, db: testdb.Postgres(t)}
	c.token = addAdminWithToken(t, c.db)
	for i := range n {
		c.nodes = append(c.nodes, c.start(i, extra...))
	}
	st, err := store.Open(context.Background(), c.db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c.st = st
	api := newAPIClient(c.nodes[0].base, c.token)
	var org, prj struct{ ID string }
	api.mustCall(t, "POST", "/organizations", map[string]any{"name": "Clusterco"}, &org, http.StatusCreated)
	api.mustCall(t, "POST", "/projects", map[string]any{"organizationId": org.ID, "name": "Grid"}, &prj, http.StatusCreated)
	c.prj = prj.ID
	c.recv = &clusterReceiver{delay: recvDelay, arrivals: map[string]int{}}
	srv := httptest.NewServer(c.recv)
	t.Cleanup(srv.Close)
	var hook struct{ ID, Secret string }
	api.mustCall(t, "POST", "/webhooks", map[string]any{"name": "Receiver", "url": srv.URL + "/hook"}, &hook, http.StatusCreated)
	c.recv.mu.Lock()
	c.recv.secret = hook.Secret
	c.recv.mu.Unlock()
	c.hookID = hook.ID
	c.waitBalanced(n)
	return c
}

func (c *cluster) start(i int, extra ...string) *serverProcess {
	flags := append([]string{"--allow-private-targets", "--node-name", fmt.Sprintf("node-%d", i+1),
		"--retry-schedule", "200ms,200ms,200ms,200ms"}, extra...)
	return startProcess(c.t, c.db, flags...)
}

// waitBalanced waits until n nodes hold live leases on every shard between them.
func (c *cluster) waitBalanced(n int) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		leases, err := c.st.ShardLeases(context.Background())
		if err != nil {
			c.t.Fatal(err)
		}
		holders := map[string]int{}
		held := 0
		for _, l := range leases {
			if l.Node != "" && l.ExpiresAt.After(time.Now()) {
				holders[l.Node]++
				held++
			}
		}
		if len(holders) == n && held == store.Shards {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("after 20 s the shards are held as %v; want all %d spread over %d nodes", holders, store.Shards, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// publish sends count events round-robin to the given nodes and returns their ids.
func (c *cluster) publish(nodes []*serverProcess, count int) []string {
	c.t.Helper()
	var ids []string
	for i := range count {
		api := newAPIClient(nodes[i%len(nodes)].base, c.token)
		var out struct{ ID string }
		api.mustCall(c.t, "POST", "/events", map[string]any{"event": "TODO_CREATED", "projectId": c.prj,
			"currentValue": map[string]int{"n": i}}, &out, http.StatusAccepted)
		ids = append(ids, out.ID)
	}
	return ids
}

func TestClusterDeliversOnceAndKeepsTheLimit(t *testing.T) {
	c := newCluster(t, 3, 20*time.Millisecond, "--per-webhook-concurrency", "2")
	ids := c.publish(c.nodes, 90)
	extra := c.waitAll(t, ids)
	c.recv.mu.Lock()
	defer c.recv.mu.Unlock()
	if extra > 0 {
		t.Errorf("%d events arrived twice with no node failing", extra)
	}
	if len(c.recv.bad) > 0 {
		t.Errorf("%d requests had a bad X-Signature, e.g. event %s", len(c.recv.bad), c.recv.bad[0])
	}
	if c.recv.peak > 2 {
		t.Errorf("the receiver saw %d requests at once for one webhook published to through 3 nodes; the limit is 2", c.recv.peak)
	}
}

func (c *cluster) waitAll(t *testing.T, ids []string) int {
	return c.recv.waitAll(t, ids, 30*time.Second)
}

func TestClusterTakesOverFromAKilledNode(t *testing.T) {
	c := newCluster(t, 3, 5*time.Millisecond)
	// The node that sends this webhook.
	owner := c.ownerOf(c.hookID)
	var victim *serverProcess
	var rest []*serverProcess
	for i, p := range c.nodes {
		if fmt.Sprintf("node-%d", i+1) == owner {
			victim = p
		} else {
			rest = append(rest, p)
		}
	}
	if victim == nil {
		t.Fatalf("no node holds the webhook's shard (owner %q)", owner)
	}
	before := c.publish(c.nodes, 30)
	victim.kill(t)
	killed := time.Now()
	after := c.publish(rest, 30)
	c.recv.waitAll(t, append(before, after...), 30*time.Second)
	took := time.Since(killed)
	if took > 15*time.Second {
		t.Errorf("the killed node's webhook was taken over after %s; want within 15 s", took.Round(time.Millisecond))
	}
	t.Logf("taken over and delivered within %s of the kill", took.Round(time.Millisecond))
}

func TestClusterHandsOverAtOnceOnSIGTERM(t *testing.T) {
	c := newCluster(t, 2, 0)
	owner := c.ownerOf(c.hookID)
	var leaving, staying *serverProcess
	if owner == "node-1" {
		leaving, staying = c.nodes[0], c.nodes[1]
	} else {
		leaving, staying = c.nodes[1], c.nodes[0]
	}
	leaving.stop(t)
	stopped := time.Now()
	ids := c.publish([]*serverProcess{staying}, 5)
	c.recv.waitAll(t, ids, 10*time.Second)
	if took := time.Since(stopped); took > 4*time.Second {
		t.Errorf("after a clean stop the other node sent the webhook only %s later; want a prompt hand-over", took.Round(time.Millisecond))
	}
}

func TestClusterSwitchOffReachesEveryNode(t *testing.T) {
	c := newCluster(t, 2, 0)
	// Switch it off through the node that does not send it.
	owner := c.ownerOf(c.hookID)
	other := c.nodes[0]
	if owner == "node-1" {
		other = c.nodes[1]
	}
	newAPIClient(other.base, c.token).mustCall(t, "POST", "/webhooks/"+c.hookID+"/disable", nil, nil, http.StatusOK)
	time.Sleep(time.Second)
	ids := c.publish(c.nodes, 6)
	// A later webhook, on again, proves the nodes kept working meanwhile.
	newAPIClient(other.base, c.token).mustCall(t, "POST", "/webhooks/"+c.hookID+"/enable", map[string]any{}, nil, http.StatusOK)
	time.Sleep(time.Second)
	sentinel := c.publish(c.nodes, 1)
	c.recv.waitAll(t, sentinel, 10*time.Second)
	c.recv.mu.Lock()
	defer c.recv.mu.Unlock()
	for _, id := range ids {
		if c.recv.arrivals[id] > 0 {
			t.Errorf("event %s, published a second after the webhook was switched off on another node, was sent", id)
		}
	}
}

// ownerOf names the node holding a webhook's shard.
func (c *cluster) ownerOf(webhookID string) string {
	c.t.Helper()
	leases, err := c.st.ShardLeases(context.Background())
	if err != nil {
		c.t.Fatal(err)
	}
	return leases[store.ShardOf(webhookID)].Node
}
