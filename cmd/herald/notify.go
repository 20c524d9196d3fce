package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/herald-idp/herald/storage"
)

// publishTimeout bounds one change announcement: the change is already
// stored, so a slow or unreachable Redis must not hang the command.
const publishTimeout = 5 * time.Second

// publishChanges returns the registry's OnChange for a command-line
// process: it announces each changed tenant through n, the notifier
// openStore chose (Redis pub/sub or PostgreSQL NOTIFY), so that running
// servers drop what they cache about it at once instead of when their
// caches expire. It returns nil when there is no notifier (SQLite: servers
// there cache tenants for one second only).
//
// A failed announcement is logged, never returned: the change has been
// made, and the servers' caches still expire on their own (30 s at most
// with a notifier).
func publishChanges(n storage.Notifier, log *slog.Logger) func(ctx context.Context, tenant string) {
	if n == nil {
		return nil
	}
	return func(ctx context.Context, tenant string) {
		ctx, cancel := context.WithTimeout(ctx, publishTimeout)
		defer cancel()
		if err := n.Publish(ctx, tenant); err != nil {
			log.Warn("could not tell running servers about the change; they pick it up when their caches expire",
				"tenant", tenant, "error", err)
		}
	}
}
