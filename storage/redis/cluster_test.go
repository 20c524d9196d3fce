package redisstore_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/storage/postgres"
	redisstore "github.com/herald-idp/herald/storage/redis"
	"github.com/herald-idp/herald/storage/storagetest"
	"github.com/herald-idp/herald/storage/storagetest/backends"
)

// TestMain stops the Redis Cluster and Sentinel group the tests started
// (and drops PostgreSQL's template database) once every test has run.
func TestMain(m *testing.M) {
	code := m.Run()
	backends.Cleanup()
	os.Exit(code)
}

// combinedContract runs the storage contract with durable records in a
// fresh PostgreSQL database and short-lived ones in the Redis that
// redisPrefix names, under a fresh key prefix: the production set-up.
func combinedContract(t *testing.T, redisPrefix func(testing.TB) (string, string)) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		durable, err := postgres.Open(ctx, backends.PostgresDatabase(t), postgres.Options{MaxConns: 4})
		if err != nil {
			t.Fatalf("postgres.Open: %v", err)
		}
		url, prefix := redisPrefix(t)
		short, err := redisstore.Open(ctx, url, redisstore.Options{Prefix: prefix})
		if err != nil {
			durable.Close()
			t.Fatalf("redisstore.Open(%s): %v", url, err)
		}
		s := storage.Combine(durable, short, "postgres", "redis")
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// TestContractCluster runs the storage contract on PostgreSQL + a local
// three-master Redis Cluster (backends.StartRedisCluster): every Lua
// script and MULTI must keep to one hash slot, pub/sub must reach every
// subscriber whichever node it is on.
func TestContractCluster(t *testing.T) {
	combinedContract(t, backends.RedisClusterPrefix)
}

// TestContractSentinel runs the storage contract on PostgreSQL + a local
// Sentinel group (one master, one replica, three sentinels).
func TestContractSentinel(t *testing.T) {
	combinedContract(t, backends.RedisSentinelPrefix)
}

// notifierOn runs the Notifier contract on two stores (replicas) sharing a
// fresh prefix on the Redis that redisPrefix names.
func notifierOn(t *testing.T, redisPrefix func(testing.TB) (string, string)) {
	url, prefix := redisPrefix(t)
	storagetest.RunNotifier(t, func(t *testing.T) storage.Notifier {
		s, err := redisstore.Open(t.Context(), url, redisstore.Options{Prefix: prefix})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestNotifierCluster: tenant changes published through one Cluster node
// reach a subscriber connected to whichever node serves the channel.
func TestNotifierCluster(t *testing.T) { notifierOn(t, backends.RedisClusterPrefix) }

func TestNotifierSentinel(t *testing.T) { notifierOn(t, backends.RedisSentinelPrefix) }
