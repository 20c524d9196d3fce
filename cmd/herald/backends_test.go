package main

// Test helpers for the PostgreSQL and Redis set-ups: a fresh database and a
// fresh Redis key prefix per test on the machine's shared servers, and a
// private redis-server that a test may stop and start. An unreachable
// server fails the test; it never skips.

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	testbackends "github.com/herald-idp/herald/storage/storagetest/backends"
)

// TestMain closes the shared PostgreSQL admin connection once every test
// has run.
func TestMain(m *testing.M) {
	code := m.Run()
	testbackends.Cleanup()
	os.Exit(code)
}

func randomHex(t *testing.T) string {
	t.Helper()
	return testbackends.RandomHex(t)
}

// testPostgresDatabase creates an empty (unmigrated) database and drops it
// WITH (FORCE) when the test ends. It returns the database's URL.
func testPostgresDatabase(t *testing.T) string {
	t.Helper()
	// withPassword edits the URL, so a key=value DSN will not do.
	if u, err := url.Parse(testbackends.PostgresAdminURL()); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL for these tests", testbackends.PostgresURLEnv)
	}
	return testbackends.EmptyPostgresDatabase(t)
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
	return testbackends.RedisPrefix(t)
}

// redisClient connects to a single-node Redis and checks that it answers.
func redisClient(t *testing.T, redisURL string) *redis.Client {
	t.Helper()
	return testbackends.RedisClient(t, redisURL)
}

// redisKeys lists the keys under prefix.
func redisKeys(t *testing.T, c *redis.Client, prefix string) []string {
	t.Helper()
	return testbackends.RedisKeys(t, c, prefix)
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
