package op

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

func TestValidRequestID(t *testing.T) {
	for _, tc := range []struct {
		name, id string
		want     bool
	}{
		{"hex", "0123456789abcdef0123456789abcdef", true},
		{"UUID", "9b2c7f52-5d7e-4a8e-9a3b-8d0a3c1e2f40", true},
		{"base64", "AbC+/d==", true},
		{"longest", strings.Repeat("a", maxRequestIDLength), true},
		{"empty", "", false},
		{"too long", strings.Repeat("a", maxRequestIDLength+1), false},
		{"space", "a b", false},
		{"newline", "a\nb", false},
		{"quote", `a"b`, false},
		{"markup", "<b>", false},
		{"non-ASCII", "café", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := validRequestID(tc.id); got != tc.want {
				t.Errorf("validRequestID(%q) = %v, want %v", tc.id, got, tc.want)
			}
		})
	}
}

func TestNewRequestIDIsFreshHex(t *testing.T) {
	a, b := newRequestID(), newRequestID()
	if len(a) != 32 || !validRequestID(a) || a == b {
		t.Fatalf("newRequestID: %q, %q", a, b)
	}
}

// TestLogHandler: lines logged with a request's context carry its ID once,
// through loggers derived with With; lines without one carry none.
func TestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil)))
	ctx := context.WithValue(context.Background(), requestInfoKey{}, &requestInfo{id: "req-1"})
	for _, tc := range []struct {
		name   string
		log    func()
		wantID any // nil: no request_id
	}{
		{"request context", func() { log.InfoContext(ctx, "m") }, "req-1"},
		{"derived logger", func() { log.With("k", "v").InfoContext(ctx, "m") }, "req-1"},
		{"explicit ID not duplicated", func() { log.InfoContext(ctx, "m", "request_id", "req-1") }, "req-1"},
		{"no request", func() { log.InfoContext(context.Background(), "m") }, nil},
		{"no context", func() { log.Info("m") }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buf.Reset()
			tc.log()
			line := buf.String()
			if n := strings.Count(line, `"request_id"`); n > 1 {
				t.Fatalf("request_id appears %d times: %s", n, line)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(line), &got); err != nil {
				t.Fatal(err)
			}
			if got["request_id"] != tc.wantID {
				t.Errorf("request_id = %v, want %v", got["request_id"], tc.wantID)
			}
		})
	}
}

// TestRoutePattern: the memoised pattern is chi's, on a miss and on a hit.
func TestRoutePattern(t *testing.T) {
	if got := routePattern(nil); got != "" {
		t.Errorf("routePattern(nil) = %q", got)
	}
	for _, patterns := range [][]string{
		{"/*", "/t/{tenant}/*", "/.well-known/openid-configuration"},
		{"/*", "/t/{tenant}/*", "/*", "/token"},
		{"/*", "/t/{tenant}/*", "/*"},
		{"/*", "/*", "/*/"},
		{"/healthz"},
		{"/"},
		{},
		{"/*", "/" + strings.Repeat("long/", 80) + "*", "/x"},
	} {
		rc := chi.NewRouteContext()
		rc.RoutePatterns = patterns
		want := rc.RoutePattern()
		for range 2 {
			if got := routePattern(rc); got != want {
				t.Errorf("routePattern(%q) = %q, want chi's %q", patterns, got, want)
			}
		}
	}
}
