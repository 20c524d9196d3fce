package redisstore_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/herald-idp/herald/storage"
	redisstore "github.com/herald-idp/herald/storage/redis"
	"github.com/herald-idp/herald/storage/sqlite"
	"github.com/herald-idp/herald/storage/storagetest"
)

// openWithPrefix opens another store (replica) on the test Redis that
// shares prefix, under the client name clientName if it is not empty.
func openWithPrefix(t *testing.T, prefix, clientName string) *redisstore.Store {
	t.Helper()
	url := testURL(t)
	if clientName != "" {
		sep := "?"
		if strings.Contains(url, "?") {
			sep = "&"
		}
		url += sep + "client_name=" + clientName
	}
	s, err := redisstore.Open(t.Context(), url, redisstore.Options{Prefix: prefix})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestNotifier(t *testing.T) {
	prefix := uniquePrefix(t)
	storagetest.RunNotifier(t, func(t *testing.T) storage.Notifier { return openWithPrefix(t, prefix, "") })
}

// Stores of different prefixes (installations) do not hear each other.
func TestNotifierPrefixesAreSeparate(t *testing.T) {
	a, b := openWithPrefix(t, uniquePrefix(t), ""), openWithPrefix(t, uniquePrefix(t), "")
	subA := storagetest.Subscribe(t.Context(), a)
	subA.WaitFor(t, "")
	must(t, b.Publish(t.Context(), "other-installation"))
	must(t, a.Publish(t.Context(), "mine"))
	// Announcements arrive in order: had b's reached a, it would come first.
	select {
	case got := <-subA.Tenants:
		if got != "mine" {
			t.Fatalf("first announcement = %q, want %q", got, "mine")
		}
	case err := <-subA.Done:
		t.Fatalf("Subscribe returned %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("no announcement within 15s")
	}
}

// When the subscribed connection is killed, Subscribe subscribes again,
// says so with fn(""), and then receives announcements again.
func TestNotifierReconnects(t *testing.T) {
	prefix := uniquePrefix(t)
	name := strings.ReplaceAll(prefix, "-", "_")
	listener, publisher := openWithPrefix(t, prefix, name), openWithPrefix(t, prefix, "")
	sub := storagetest.Subscribe(t.Context(), listener)
	sub.WaitFor(t, "")

	c, err := rawClient(testURL(t))
	must(t, err)
	defer c.Close()
	if n := killPubSubClients(t, c, name); n != 1 {
		t.Fatalf("killed %d subscribed connections named %s, want 1", n, name)
	}
	sub.WaitFor(t, "")
	must(t, publisher.Publish(t.Context(), "acme"))
	sub.WaitFor(t, "acme")
}

// killPubSubClients kills the subscribed connections called name (on
// every master of a Cluster) and returns how many there were.
func killPubSubClients(t *testing.T, c redis.UniversalClient, name string) int {
	t.Helper()
	killed := 0
	kill := func(ctx context.Context, node *redis.Client) error {
		list, err := node.ClientList(ctx).Result()
		if err != nil {
			return err
		}
		for line := range strings.Lines(list) {
			fields := map[string]string{}
			for f := range strings.FieldsSeq(line) {
				k, v, _ := strings.Cut(f, "=")
				fields[k] = v
			}
			if fields["name"] == name && strings.Contains(fields["flags"], "P") {
				if err := node.Do(ctx, "CLIENT", "KILL", "ID", fields["id"]).Err(); err != nil {
					return err
				}
				killed++
			}
		}
		return nil
	}
	ctx := t.Context()
	switch cc := c.(type) {
	case *redis.ClusterClient:
		err := cc.ForEachMaster(ctx, kill)
		must(t, err)
	case *redis.Client:
		must(t, kill(ctx, cc))
	default:
		t.Fatalf("cannot list the clients of a %T", c)
	}
	return killed
}

// A combined store is no Notifier even when its short-lived part is one:
// the notifier is chosen explicitly (cmd/herald passes it in op.Config),
// never found by a type assertion through wrappers.
func TestCombinedIsNoNotifier(t *testing.T) {
	durable, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	short, _ := newStore(t)
	if _, ok := any(short).(storage.Notifier); !ok {
		t.Fatalf("the Redis store (%T) is no storage.Notifier", short)
	}
	combined := storage.Combine(durable, short, "sqlite", "redis")
	defer combined.Close()
	if _, ok := combined.(storage.Notifier); ok {
		t.Fatalf("Combine(sqlite, redis) is a storage.Notifier (%T)", combined)
	}
}
