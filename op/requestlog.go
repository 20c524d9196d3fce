package op

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"maps"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.opentelemetry.io/otel/trace"
)

// This file gives every request an ID and one access-log line. The ID is
// sent back in X-Request-Id, added to every log line written while the
// request is served (LogHandler) and shown on error pages, so that a user's
// "it failed" can be matched to the logs.

// requestIDHeader carries the request ID in both directions.
const requestIDHeader = "X-Request-Id"

// maxRequestIDLength bounds an ID taken from a trusted proxy.
const maxRequestIDLength = 128

// requestInfo is what the access log learns while the request is served.
// It is only written by the goroutine serving the request.
type requestInfo struct {
	id     string
	tenant string // set when the tenant is resolved (withTenant)
	// clientID is set when a client is looked up (clients.go); only
	// traces show it.
	clientID string
}

type requestInfoKey struct{}

func requestInfoFromContext(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return info
}

// requestIDFromContext is the ID of the request being served, or "".
func requestIDFromContext(ctx context.Context) string {
	if info := requestInfoFromContext(ctx); info != nil {
		return info.id
	}
	return ""
}

// requestLog assigns the request ID and writes the access-log line. It
// must be the outermost middleware so that the line is written for every
// request, panics included. The line never holds the query string,
// cookies or any header value other than the ID: codes, tokens and
// secrets travel there.
func (s *Server) requestLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(requestIDHeader)
		// Only a trusted proxy may name the request; from anyone else the
		// header could forge or collide with another request's ID.
		if !validRequestID(id) || !s.fromTrustedProxy(r) {
			id = newRequestID()
		}
		info := &requestInfo{id: id}
		ctx := context.WithValue(r.Context(), requestInfoKey{}, info)
		w.Header().Set(requestIDHeader, id)
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		s.tel.RequestStarted()
		next.ServeHTTP(ww, r.WithContext(ctx))

		route := routePattern(chi.RouteContext(ctx))
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK // nothing written: net/http sends 200
		}
		duration := time.Since(start)
		s.tel.RequestDone(ctx, route, r.Method, status, info.tenant, info.clientID, duration)
		slog.LogAttrs(ctx, slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.String("tenant", info.tenant),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(duration.Microseconds())/1000),
			slog.String("request_id", id),
		)
	})
}

// routePatterns memoises chi's RoutePattern, which joins and rewrites
// the matched routes' patterns with several allocations per request,
// by the joined patterns: they come from the routes Herald registers, so
// there are few. The map is replaced, never modified, so that lookups
// take no lock.
var routePatterns atomic.Pointer[map[string]string]

// maxRoutePatterns bounds routePatterns; it is far more than the routes.
const maxRoutePatterns = 256

// routePattern is rc.RoutePattern(), or "" without a route context.
func routePattern(rc *chi.Context) string {
	if rc == nil {
		return ""
	}
	var buf [256]byte
	key := buf[:0]
	for _, p := range rc.RoutePatterns {
		key = append(key, p...)
	}
	known := routePatterns.Load()
	if known != nil {
		if route, ok := (*known)[string(key)]; ok {
			return route
		}
	}
	route := rc.RoutePattern()
	if known == nil || len(*known) < maxRoutePatterns {
		next := map[string]string{string(key): route}
		if known != nil {
			maps.Copy(next, *known)
		}
		// A lost race only drops an entry, added again next time.
		routePatterns.CompareAndSwap(known, &next)
	}
	return route
}

// validRequestID accepts IDs made of letters, digits and -_.:+/= up to
// maxRequestIDLength: what proxies generate (UUIDs, hex, base64), and
// nothing that could break a log line or a page.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '+', c == '/', c == '=':
		default:
			return false
		}
	}
	return true
}

// newRequestID is 128 random bits in hex: unguessable and unique enough
// that no two requests share one.
func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms (Go ≥1.24)
	return hex.EncodeToString(b)
}

// LogHandler wraps h so that every record logged with the context of a
// request carries that request's ID as "request_id" and, when the request
// is traced, its trace ID as "trace_id". cmd/herald installs it around the
// process logger.
func LogHandler(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, rec slog.Record) error {
	id := requestIDFromContext(ctx)
	sc := trace.SpanContextFromContext(ctx)
	addID := id != "" && !hasAttr(rec, "request_id")
	addTrace := sc.HasTraceID() && !hasAttr(rec, "trace_id")
	if addID || addTrace {
		rec = rec.Clone()
		if addID {
			rec.AddAttrs(slog.String("request_id", id))
		}
		if addTrace {
			rec.AddAttrs(slog.String("trace_id", sc.TraceID().String()))
		}
	}
	return h.Handler.Handle(ctx, rec)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

func hasAttr(rec slog.Record, key string) bool {
	found := false
	rec.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}
