package main

// Test helpers for the PostgreSQL and Redis set-ups: a fresh database and a
// fresh Redis key prefix per test on the machine's shared servers, and a
// private redis-server that a test may stop and start. An unreachable
// server fails the test; it never skips.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

const (
	testPostgresEnv     = "HERALD_TEST_POSTGRES_URL"
	defaultPostgresURL  = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	testRedisEnv        = "HERALD_TEST_REDIS_URL"
	defaultTestRedisURL = "redis://127.0.0.1:6379/0"
)

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// adminPostgresURL is the URL tests create and drop databases through.
func adminPostgresURL() string {
	if u := os.Getenv(testPostgresEnv); u != "" {
		return u
	}
	return defaultPostgresURL
}

// testPostgresDatabase creates an empty (unmigrated) database and drops it
// WITH (FORCE) when the test ends. It returns the database's URL.
func testPostgresDatabase(t *testing.T) string {
	t.Helper()
	admin := adminPostgresURL()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("PostgreSQL is unreachable (set %s): %v", testPostgresEnv, err)
	}
	defer conn.Close(context.Background())
	name := "herald_cmd_" + randomHex(t)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL for these tests", testPostgresEnv)
	}
	u.Path = "/" + name
	return u.String()
}

// withPassword adds a password to a postgres URL. The test server trusts
// loopback connections and ignores it; it is there to prove that Herald
// never prints it.
func withPassword(t *testing.T, rawURL, password string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	user := "postgres"
	if u.User != nil && u.User.Username() != "" {
		user = u.User.Username()
	}
	u.User = url.UserPassword(user, password)
	return u.String()
}

// testRedis returns the shared test Redis URL and a prefix no other test
// uses; the prefix's keys are deleted when the test ends.
func testRedis(t *testing.T) (redisURL, prefix string) {
	t.Helper()
	redisURL = os.Getenv(testRedisEnv)
	if redisURL == "" {
		redisURL = defaultTestRedisURL
	}
	c := redisClient(t, redisURL)
	prefix = "herald-cmd-" + randomHex(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, k := range redisKeys(t, c, prefix) {
			c.Unlink(ctx, k)
		}
	})
	return redisURL, prefix
}

// redisClient connects to a single-node Redis and checks that it answers.
func redisClient(t *testing.T, redisURL string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatalf("%s: %v (these tests need a single-node redis:// URL)", testRedisEnv, err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis is unreachable (set %s): %v", testRedisEnv, err)
	}
	return c
}

// redisKeys lists the keys under prefix.
func redisKeys(t *testing.T, c *redis.Client, prefix string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var keys []string
	iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("scan %s: %v", prefix, err)
	}
	return keys
}

// privateRedis is a redis-server of this test alone, on its own port, so
// that the test may kill and restart it without touching the shared one.
type privateRedis struct {
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	_, port, err := net.SplitHostPort(freeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return p
}

// startPrivateRedis starts redis-server on port (no persistence) and waits,
// bounded, until it answers PING.
func startPrivateRedis(t *testing.T, port int) *privateRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is not installed: %v", err)
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no",
		"--bind", "127.0.0.1", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	r := &privateRedis{port: port, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(r.done) }()
	t.Cleanup(r.kill)

	c := redis.NewClient(&redis.Options{Addr: r.addr(), DialTimeout: time.Second, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-r.done:
			t.Fatalf("redis-server on port %d exited at once (port taken?)", port)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on port %d does not answer: %v", port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *privateRedis) addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }
func (r *privateRedis) url() string  { return "redis://" + r.addr() + "/0" }

// kill stops this redis-server (SIGKILL: an outage, not a shutdown) and
// waits until it is gone.
func (r *privateRedis) kill() {
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.cmd.Process.Kill()
	<-r.done
}
