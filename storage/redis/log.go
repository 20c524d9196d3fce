package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"
)

// SetLogger sends go-redis's own log lines (a failed dial in the connection
// pool, a Sentinel failover, a Cluster slot refresh) to logger as
// structured records, instead of the plain text go-redis writes to stderr
// by default, which would break a JSON log apart. go-redis has one logger
// per process, so this affects every client; the last call wins.
func SetLogger(logger *slog.Logger) {
	if logger == nil {
		return
	}
	redis.SetLogger(slogAdapter{logger})
}

// slogAdapter is go-redis's internal.Logging on top of slog. Its lines are
// warnings: go-redis logs only what went wrong or changed underneath.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Printf(ctx context.Context, format string, v ...any) {
	if ctx == nil {
		ctx = context.Background()
	}
	msg := strings.TrimSpace(fmt.Sprintf(format, v...))
	a.l.LogAttrs(ctx, slog.LevelWarn, "redis client", slog.String("component", "go-redis"), slog.String("detail", msg))
}
