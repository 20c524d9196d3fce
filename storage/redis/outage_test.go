package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
	redisstore "github.com/herald-idp/herald/storage/redis"
)

// privateRedis is a redis-server subprocess of this test, so that the test
// can kill it without touching the shared server.
type privateRedis struct {
	cmd *exec.Cmd
}

func startRedis(t *testing.T, port int) *privateRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("the outage test needs redis-server on PATH: %v", err)
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no",
		"--bind", "127.0.0.1")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	r := &privateRedis{cmd: cmd}
	t.Cleanup(r.stop)
	// Wait for it to accept connections (it starts in milliseconds; the
	// bound only turns a broken binary into a failure instead of a hang).
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on port %d did not come up: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop kills the subprocess (this test's own child, by its PID).
func (r *privateRedis) stop() {
	if r.cmd.ProcessState == nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	}
}

// TestOutage: with Redis down, operations fail with ErrUnavailable within
// about OpTimeout (never hang) and Ping fails; once Redis is back, the same
// Store works again without being reopened.
func TestOutage(t *testing.T) {
	const opTimeout = 500 * time.Millisecond
	port := freePort(t)
	srv := startRedis(t, port)
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	s, err := redisstore.Open(t.Context(), url, redisstore.Options{OpTimeout: opTimeout})
	must(t, err)
	t.Cleanup(func() { s.Close() })

	now := time.Now()
	newSession := func(id string) *storage.Session {
		return &storage.Session{TenantID: "acme", ID: id, UserID: "user-1", AuthTime: now,
			CreatedAt: now, IdleExpiresAt: now.Add(time.Hour), AbsoluteExpiresAt: now.Add(2 * time.Hour)}
	}
	must(t, s.CreateSession(t.Context(), newSession("before")))

	srv.stop()
	ops := []struct {
		name string
		op   func(ctx context.Context) error
	}{
		{"Session", func(ctx context.Context) error {
			_, err := s.Session(ctx, "acme", "before", now)
			return err
		}},
		{"CreateSession", func(ctx context.Context) error { return s.CreateSession(ctx, newSession("during")) }},
		{"ConsumeAuthCode", func(ctx context.Context) error {
			_, err := s.ConsumeAuthCode(ctx, "acme", "hash", now)
			return err
		}},
		{"Ping", s.Ping},
	}
	for _, tc := range ops {
		start := time.Now()
		err := tc.op(t.Context())
		elapsed := time.Since(start)
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("%s with Redis down: %v, want ErrUnavailable", tc.name, err)
		}
		if elapsed > 2*opTimeout {
			t.Errorf("%s with Redis down took %v, want at most %v", tc.name, elapsed, 2*opTimeout)
		}
	}
	// A caller's earlier deadline wins over OpTimeout.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	start := time.Now()
	err = s.Ping(ctx)
	cancel()
	if !errors.Is(err, storage.ErrUnavailable) || time.Since(start) > opTimeout {
		t.Errorf("Ping with a 50ms deadline: %v after %v", err, time.Since(start))
	}

	startRedis(t, port)
	// go-redis redials by itself; give it a generous bound.
	for deadline := time.Now().Add(15 * time.Second); s.Ping(t.Context()) != nil; {
		if time.Now().After(deadline) {
			t.Fatalf("Store did not recover after Redis came back: %v", s.Ping(t.Context()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The private server kept nothing (no persistence); the store works.
	must(t, s.CreateSession(t.Context(), newSession("after")))
	if _, err := s.Session(t.Context(), "acme", "after", now); err != nil {
		t.Fatalf("Session after recovery: %v", err)
	}
}
