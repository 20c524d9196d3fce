package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-idp/herald/storage"
)

var _ storage.Notifier = (*Store)(nil)

// notifyChannel is the LISTEN/NOTIFY channel of tenant changes. Channels
// are per database, like everything else Herald stores.
const notifyChannel = "herald_tenants"

// Listener timing. An idle listening connection is pinged every
// listenPingInterval so that a connection the network silently dropped is
// noticed (and replaced) within about that long. Reconnects back off from
// minListenBackoff to maxListenBackoff.
const (
	listenPingInterval = 30 * time.Second
	minListenBackoff   = 100 * time.Millisecond
	maxListenBackoff   = 10 * time.Second
)

// Publish announces that tenant's records changed, with
// pg_notify('herald_tenants', tenant). Inside PostgreSQL the notification is
// delivered to every listener, this replica's included.
func (s *Store) Publish(ctx context.Context, tenant string) error {
	what := fmt.Sprintf("tenant %q: publish change", tenant)
	return s.run(ctx, what, func(ctx context.Context, q querier) error {
		_, err := q.Exec(ctx, `SELECT pg_notify($1, $2)`, notifyChannel, tenant)
		return mapErr(err, what)
	})
}

// Subscribe listens on a dedicated connection (not one of the pool's) and
// calls fn with the tenant of every notification, from this goroutine, one
// at a time. Each time the LISTEN is (re)established it calls fn("") first:
// notifications sent while no connection listened are lost, so every
// tenant must be treated as changed. After an error it reconnects with
// exponential backoff until ctx ends; then it returns nil.
func (s *Store) Subscribe(ctx context.Context, fn func(tenant string)) error {
	cfg := s.pool.Config().ConnConfig
	if cfg.RuntimeParams["application_name"] == "herald" {
		cfg.RuntimeParams["application_name"] = "herald-listen"
	}
	backoff := minListenBackoff
	for {
		listened, err := s.listen(ctx, cfg, fn)
		if ctx.Err() != nil {
			return nil
		}
		if listened {
			backoff = minListenBackoff
		}
		slog.WarnContext(ctx, "postgres: tenant change listener failed; reconnecting",
			"error", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxListenBackoff)
	}
}

// listen connects, LISTENs and delivers notifications until the
// connection fails or ctx ends. listened reports whether LISTEN succeeded.
func (s *Store) listen(ctx context.Context, cfg *pgx.ConnConfig, fn func(string)) (listened bool, err error) {
	opCtx, cancel := context.WithTimeout(ctx, s.opTimeout)
	conn, err := pgx.ConnectConfig(opCtx, cfg)
	if err == nil {
		_, err = conn.Exec(opCtx, "LISTEN "+pgx.Identifier{notifyChannel}.Sanitize())
	}
	cancel()
	if conn != nil {
		defer func() {
			closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opTimeout)
			defer cancel()
			_ = conn.Close(closeCtx)
		}()
	}
	if err != nil {
		return false, mapErr(err, "postgres: listen")
	}
	fn("")
	for {
		waitCtx, cancel := context.WithTimeout(ctx, listenPingInterval)
		n, err := conn.WaitForNotification(waitCtx)
		idle := waitCtx.Err() != nil
		cancel()
		switch {
		case err == nil:
			fn(n.Payload)
		case ctx.Err() != nil:
			return true, nil
		case idle && errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			// A timed-out wait leaves the connection usable; make sure the
			// server is still there. Notifications that arrive meanwhile
			// are queued by pgx for the next WaitForNotification.
			opCtx, cancel := context.WithTimeout(ctx, s.opTimeout)
			err := conn.Ping(opCtx)
			cancel()
			if err != nil {
				return true, mapErr(err, "postgres: listen: ping")
			}
		default:
			return true, mapErr(err, "postgres: listen")
		}
	}
}
