package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
	redisstore "github.com/herald-idp/herald/storage/redis"
	"github.com/herald-idp/herald/storage/sqlite"
)

// announceLimit bounds how long an announcement may take to arrive; it is
// a deadline for failure, not a measured time.
const announceLimit = 10 * time.Second

// TestTenantDisablePublishes: a CLI change to a tenant is announced through
// the store's notifier, which running servers subscribe to — Redis pub/sub
// when Redis is configured, PostgreSQL NOTIFY otherwise.
func TestTenantDisablePublishes(t *testing.T) {
	for _, withRedis := range []bool{true, false} {
		name := "postgres"
		if withRedis {
			name = "postgres+redis"
		}
		t.Run(name, func(t *testing.T) {
			testEnv(t)
			t.Setenv("HERALD_DATABASE_URL", testPostgresDatabase(t))
			t.Setenv("HERALD_KEY_ENCRYPTION_KEY", testKEK)
			if withRedis {
				redisURL, prefix := testRedis(t)
				t.Setenv("HERALD_REDIS_URL", redisURL)
				t.Setenv("HERALD_REDIS_PREFIX", prefix)
			}
			mustJSON(t, "", "migrate")
			mustJSON(t, "", "tenant", "create", "--name", "acme")

			// Listen as a server would, on a store opened from the same
			// configuration.
			cfg, err := loadConfig()
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			store, n, err := openStore(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = store.Close() })
			if n == nil {
				t.Fatalf("the %s store has no notifier", name)
			}
			heard := make(chan string, 64)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = n.Subscribe(ctx, func(tenant string) {
					select {
					case heard <- tenant:
					default: // the test reads far faster than this fills
					}
				})
			}()
			t.Cleanup(func() { cancel(); <-done })
			awaitAnnouncement(t, heard, "") // subscribed

			r := herald(t, "", "tenant", "disable", "--name", "acme")
			if r.code != 0 || strings.Contains(r.stderr, "could not tell running servers") {
				t.Fatalf("tenant disable: exit %d, stderr %q", r.code, r.stderr)
			}
			awaitAnnouncement(t, heard, "acme")
		})
	}
}

// awaitAnnouncement waits until want is heard, skipping other
// announcements (a resubscription's "").
func awaitAnnouncement(t *testing.T, heard <-chan string, want string) {
	t.Helper()
	deadline := time.After(announceLimit)
	for {
		select {
		case got := <-heard:
			if got == want {
				return
			}
		case <-deadline:
			t.Fatalf("announcement %q not heard within %s", want, announceLimit)
		}
	}
}

// TestPublishFailureOnlyWarns: when the notifier is down the change stands
// and the command succeeds; the failure is a warning naming the tenant.
func TestPublishFailureOnlyWarns(t *testing.T) {
	rds := startPrivateRedis(t, freePort(t))
	ctx := context.Background()
	short, err := redisstore.Open(ctx, rds.url(), redisstore.Options{Prefix: "herald-publish-" + randomHex(t)})
	if err != nil {
		t.Fatal(err)
	}
	durable, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "herald.db"))
	if err != nil {
		t.Fatal(err)
	}
	store := storage.Combine(durable, short, "sqlite", "redis")
	t.Cleanup(func() { _ = store.Close() })

	var logs syncBuffer
	publish := publishChanges(short, slog.New(slog.NewJSONHandler(&logs, nil)))
	if publish == nil {
		t.Fatal("a store with Redis has a notifier, but publishChanges returned nil")
	}
	publish(ctx, "acme")
	if logs.String() != "" {
		t.Fatalf("a successful publish logged %q", logs.String())
	}

	rds.kill()
	publish(ctx, "acme") // must return (bounded by publishTimeout), not panic
	if got := logs.String(); !strings.Contains(got, `"level":"WARN"`) || !strings.Contains(got, `"tenant":"acme"`) {
		t.Fatalf("a failed publish logged %q; want a warning naming the tenant", got)
	}

	if publishChanges(nil, slog.Default()) != nil {
		t.Fatal("without a notifier (SQLite) publishChanges must return nil")
	}
}
