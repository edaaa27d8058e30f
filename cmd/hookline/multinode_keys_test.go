package main

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// testKeysAcrossNodes holds the multi-node promises for the keys of
// a product's API, through three real nodes over HTTP: a key limited to
// 1,000 an hour and hammered through all three gets between 1,000 and 1,010
// VALID answers; a key revoked, or rolled with no grace, through one node is
// refused by every node within a second.
func testKeysAcrossNodes(t *testing.T, nodes []*server) {
	nodes[0].mustDo(http.MethodPost, "/v1/keyspaces", map[string]any{
		"name": "multinode", "prefix": "mn", "permissions": []string{"read", "write"},
		"rate_limit": map[string]any{"limit": 1000, "window": "1h"},
	}, nil, http.StatusCreated)
	type issued struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	var limited issued
	nodes[1].mustDo(http.MethodPost, "/v1/keyspaces/multinode/keys", map[string]any{"tenant": "acme", "name": "hammered", "permissions": []string{"read"}}, &limited, http.StatusCreated)
	type verification struct {
		Code string `json:"code"`
	}
	verify := func(n *server, key string) (string, error) {
		var v verification
		status, err := n.do(http.MethodPost, "/v1/keys/verify", map[string]any{"key": key, "keyspace": "multinode", "permissions": []string{"read"}}, &v)
		if err == nil && status != http.StatusOK {
			t.Errorf("verify through %s: status %d", n.addr, status)
		}
		return v.Code, err
	}

	const requests = 1800
	var mu sync.Mutex
	codes := map[string]int{}
	next := make(chan int, requests)
	for i := range requests {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			for i := range next {
				code, err := verify(nodes[i%len(nodes)], limited.Key)
				mu.Lock()
				if err != nil {
					codes["error: "+err.Error()]++
				} else {
					codes[code]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("%d verifications of a key limited to 1,000/h through %d nodes: %v", requests, len(nodes), codes)
	if codes["VALID"] < 1000 || codes["VALID"] > 1010 || codes["VALID"]+codes["RATE_LIMITED"] != requests {
		t.Errorf("codes %v; want 1,000 to 1,010 VALID and the rest RATE_LIMITED", codes)
	}

	// Revoked through one node: every node refuses it within a second.
	var other issued
	nodes[0].mustDo(http.MethodPost, "/v1/keyspaces/multinode/keys", map[string]any{"tenant": "acme", "name": "to revoke", "permissions": []string{"read"}}, &other, http.StatusCreated)
	for _, n := range nodes {
		if code, err := verify(n, other.Key); err != nil || code != "VALID" {
			t.Fatalf("before the revocation, through %s: %s, %v", n.addr, code, err)
		}
	}
	nodes[2].mustDo(http.MethodPost, "/v1/keyspaces/multinode/keys/"+other.ID+"/revoke", nil, nil, http.StatusOK)
	refusedWithin(t, nodes, "revoked", "REVOKED", func(n *server) (string, error) { return verify(n, other.Key) })

	// Rolled with no grace through one node: the old key is refused by every
	// node within a second; the new one works on every node at once.
	var rolled struct {
		Key issued `json:"key"`
	}
	nodes[0].mustDo(http.MethodPost, "/v1/keyspaces/multinode/keys", map[string]any{"tenant": "acme", "name": "to roll", "permissions": []string{"read"}}, &other, http.StatusCreated)
	for _, n := range nodes {
		verify(n, other.Key) // cached on every node
	}
	nodes[1].mustDo(http.MethodPost, "/v1/keyspaces/multinode/keys/"+other.ID+"/roll", map[string]any{"grace_period": "0s"}, &rolled, http.StatusCreated)
	for _, n := range nodes {
		if code, err := verify(n, rolled.Key.Key); err != nil || code != "VALID" {
			t.Errorf("the new key through %s: %s, %v", n.addr, code, err)
		}
	}
	refusedWithin(t, nodes, "rolled", "EXPIRED", func(n *server) (string, error) { return verify(n, other.Key) })
}

// refusedWithin checks that every node answers want within a second, asking
// each in turn until then.
func refusedWithin(t *testing.T, nodes []*server, what, want string, verify func(*server) (string, error)) {
	t.Helper()
	start := time.Now()
	for _, n := range nodes {
		for {
			code, err := verify(n)
			if err == nil && code == want {
				break
			}
			if time.Since(start) > time.Second {
				t.Errorf("%s key through %s, %s after: %s (%v), want %s", what, n.addr, time.Since(start).Round(time.Millisecond), code, err, want)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Logf("%s key refused by every node %s after", what, time.Since(start).Round(time.Millisecond))
}
