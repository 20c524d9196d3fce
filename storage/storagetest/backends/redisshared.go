package backends

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The Cluster and the Sentinel group are started at most once per test
// process, when a test first asks for one, and stopped by Cleanup (call it
// from TestMain): starting a Cluster takes seconds, a key prefix per test
// keeps tests apart as on the shared single-node Redis.
var shared struct {
	mu          sync.Mutex
	cluster     *RedisCluster
	clusterErr  error
	sentinel    *RedisSentinelGroup
	sentinelErr error
	clusterSet  bool
	sentinelSet bool
}

// SharedRedisCluster returns this process's test Cluster, starting it on
// first use. Tests that kill nodes must start their own (StartRedisCluster,
// which also fails over faster).
func SharedRedisCluster(t testing.TB) *RedisCluster {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.clusterSet {
		shared.clusterSet = true
		shared.cluster, shared.clusterErr = startRedisCluster(sharedFailoverTimeout)
	}
	if shared.clusterErr != nil {
		t.Fatalf("start the test Redis Cluster: %v", shared.clusterErr)
	}
	return shared.cluster
}

// SharedRedisSentinel returns this process's test Sentinel group, starting
// it on first use.
func SharedRedisSentinel(t testing.TB) *RedisSentinelGroup {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.sentinelSet {
		shared.sentinelSet = true
		shared.sentinel, shared.sentinelErr = startRedisSentinel(sharedFailoverTimeout)
	}
	if shared.sentinelErr != nil {
		t.Fatalf("start the test Redis Sentinel group: %v", shared.sentinelErr)
	}
	return shared.sentinel
}

// stopSharedRedis stops what SharedRedisCluster and SharedRedisSentinel
// started (from Cleanup).
func stopSharedRedis() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.cluster != nil {
		shared.cluster.Stop()
		shared.cluster = nil
	}
	if shared.sentinel != nil {
		shared.sentinel.Stop()
		shared.sentinel = nil
	}
}

// RedisClusterPrefix is RedisPrefix on the shared test Cluster: its URL
// and a key prefix whose keys are deleted when t ends.
func RedisClusterPrefix(t testing.TB) (redisURL, prefix string) {
	t.Helper()
	c := SharedRedisCluster(t)
	client := c.Client()
	return c.URL(), cleanedPrefix(t, client, func(ctx context.Context, fn func(ctx context.Context, node *redis.Client) error) error {
		return client.ForEachMaster(ctx, fn)
	})
}

// RedisSentinelPrefix is RedisPrefix on the shared test Sentinel group.
func RedisSentinelPrefix(t testing.TB) (redisURL, prefix string) {
	t.Helper()
	g := SharedRedisSentinel(t)
	addrs := make([]string, len(g.Sentinels))
	for i, s := range g.Sentinels {
		addrs[i] = s.Addr()
	}
	client := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: SentinelMasterName, SentinelAddrs: addrs,
		DialTimeout: time.Second, ReadTimeout: 2 * time.Second})
	return g.URL(), cleanedPrefix(t, client, func(ctx context.Context, fn func(ctx context.Context, node *redis.Client) error) error {
		return fn(ctx, client)
	})
}

// cleanedPrefix returns a fresh prefix and deletes its keys (on every
// master that forEach visits) when t ends, then closes client.
func cleanedPrefix(t testing.TB, client redis.UniversalClient,
	forEach func(context.Context, func(context.Context, *redis.Client) error) error) string {
	t.Helper()
	prefix := "herald-test-" + RandomHex(t)
	t.Cleanup(func() {
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := forEach(ctx, func(ctx context.Context, node *redis.Client) error {
			iter := node.Scan(ctx, 0, prefix+":*", 1000).Iterator()
			var keys []string
			for iter.Next(ctx) {
				keys = append(keys, iter.Val())
			}
			if err := iter.Err(); err != nil {
				return err
			}
			// One UNLINK per key: a prefix's keys span several slots.
			for _, k := range keys {
				if err := node.Unlink(ctx, k).Err(); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Errorf("delete test keys under %s: %v", prefix, err)
		}
	})
	return prefix
}
