package redisstore

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// go-redis's own log lines reach the JSON log as records, not raw text:
// a client whose server is down logs the failed dials of its pool.
func TestGoRedisLogsAreStructured(t *testing.T) {
	var buf syncBuffer
	SetLogger(slog.New(slog.NewJSONHandler(&buf, nil)))
	t.Cleanup(func() { SetLogger(slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))) })

	// Nothing listens on port 1: the pool logs that it failed to dial.
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialerRetries: 1, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err == nil {
		t.Fatal("ping of a closed port succeeded")
	}

	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(buf.String(), "go-redis") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) == 0 || lines[0] == "" {
		t.Fatal("nothing logged")
	}
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON record: %q", line)
		}
		if rec["component"] != "go-redis" || rec["level"] != "WARN" || !strings.Contains(rec["detail"].(string), "dial") {
			t.Errorf("record %v: want component go-redis, level WARN and the detail", rec)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for go-redis's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
