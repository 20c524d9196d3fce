package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
	redisstore "github.com/herald-idp/herald/storage/redis"
	"github.com/herald-idp/herald/storage/storagetest/backends"
)

// failoverLimit bounds how long a failover may take: the node timeout
// (or down-after) plus the election, with room for a loaded machine.
const failoverLimit = 30 * time.Second

// survivesFailover creates a session, lets kill crash the master holding
// it, and then reads the session until it is back: every failure on the
// way must be storage.ErrUnavailable (a 503, never a 500), and the session
// written before the crash must survive on the promoted replica.
func survivesFailover(t *testing.T, url string, kill func()) {
	t.Helper()
	ctx := t.Context()
	s, err := redisstore.Open(ctx, url, redisstore.Options{Prefix: uniquePrefix(t), OpTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	_, _, sess := records(t, s, "acme", time.Now())
	// Replication is asynchronous: give the replica a moment to receive
	// the writes before the master dies.
	time.Sleep(500 * time.Millisecond)
	kill()
	start := time.Now()
	failures := 0
	for {
		_, err := s.Session(ctx, "acme", sess.ID, time.Now())
		if err == nil {
			break
		}
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("after %s: %v, want ErrUnavailable while failing over", time.Since(start), err)
		}
		failures++
		if time.Since(start) > failoverLimit {
			t.Fatalf("no failover within %s: %v", failoverLimit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("session readable again %s after the master was killed (%d reads failed with ErrUnavailable)",
		time.Since(start).Round(10*time.Millisecond), failures)
	// Writes work on the new master.
	must(t, s.TouchSession(ctx, "acme", sess.ID, time.Now(), time.Now().Add(time.Hour)))
	must(t, s.CreateAuthRequest(ctx, &storage.AuthRequest{TenantID: "acme", ID: "after-failover",
		CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Minute)}))
}

// TestClusterFailover kills the master serving the tenant's hash slot: its
// replica takes over and the store carries on with the data written
// before.
func TestClusterFailover(t *testing.T) {
	c, err := backends.StartRedisCluster()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	survivesFailover(t, c.URL(), func() {
		cl := c.Client()
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		slot, err := cl.ClusterKeySlot(ctx, "{acme}").Result()
		must(t, err)
		m, err := c.MasterOfSlot(ctx, int(slot))
		must(t, err)
		m.Kill()
	})
}

// TestSentinelFailover kills the Sentinel group's master: the sentinels
// promote the replica and the store follows them to it.
func TestSentinelFailover(t *testing.T) {
	g, err := backends.StartRedisSentinel()
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	survivesFailover(t, g.URL(), g.Master.Kill)
}
