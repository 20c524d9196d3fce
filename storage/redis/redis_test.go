package redisstore_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/herald-idp/herald/storage"
	redisstore "github.com/herald-idp/herald/storage/redis"
	"github.com/herald-idp/herald/storage/sqlite"
	"github.com/herald-idp/herald/storage/storagetest"
	"github.com/herald-idp/herald/storage/storagetest/backends"
)

// urlEnv names the Redis the tests use. Its absence is a failure, never a
// skip: a silently skipped backend test is worse than none.
const urlEnv = backends.RedisURLEnv

var (
	urlOnce sync.Once
	urlErr  error
)

// testURL returns the test server's URL after checking once that it answers.
func testURL(t *testing.T) string {
	t.Helper()
	u := backends.RedisURL()
	urlOnce.Do(func() {
		c, err := rawClient(u)
		if err != nil {
			urlErr = err
			return
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		urlErr = c.Ping(ctx).Err()
	})
	if urlErr != nil {
		t.Fatalf("no Redis for the tests: set %s (default %s): %v", urlEnv, backends.DefaultRedisURL, urlErr)
	}
	return u
}

// rawClient is a go-redis client of the same kind as the Store's (the URL
// may name a Cluster), for inspecting and cleaning up keys.
func rawClient(url string) (redis.UniversalClient, error) {
	c, _, err := redisstore.NewClientForTest(url, redisstore.Options{OpTimeout: 5 * time.Second, PoolSize: 4})
	return c, err
}

func uniquePrefix(t *testing.T) string {
	t.Helper()
	return "heraldtest-" + backends.RandomHex(t)
}

// newStore opens a Store with a unique prefix. At cleanup (after the store
// is closed) it checks that every key left behind has a TTL, then deletes
// the prefix's keys.
func newStore(t *testing.T) (*redisstore.Store, string) {
	t.Helper()
	url := testURL(t)
	prefix := uniquePrefix(t)
	t.Cleanup(func() { cleanupPrefix(t, url, prefix) })
	s, err := redisstore.Open(t.Context(), url, redisstore.Options{Prefix: prefix})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s, prefix
}

func cleanupPrefix(t *testing.T, url, prefix string) {
	c, err := rawClient(url)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer c.Close()
	ctx := context.Background()
	for _, key := range scanKeys(t, c, prefix) {
		if ttl := c.PTTL(ctx, key).Val(); ttl == -1 {
			t.Errorf("key %s has no TTL", key)
		}
		c.Unlink(ctx, key)
	}
}

// scanKeys lists the keys under prefix, on every master of a Cluster.
func scanKeys(t *testing.T, c redis.UniversalClient, prefix string) []string {
	t.Helper()
	// Quote SCAN's wildcards: some tests use them in prefixes.
	pattern := strings.NewReplacer("*", `\*`, "?", `\?`, "[", `\[`, "]", `\]`, `\`, `\\`).Replace(prefix) + ":*"
	ctx := context.Background()
	var mu sync.Mutex
	var keys []string
	scan := func(ctx context.Context, node redis.Cmdable) error {
		iter := node.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			keys = append(keys, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	}
	var err error
	if cc, ok := c.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error { return scan(ctx, node) })
	} else {
		err = scan(ctx, c)
	}
	if err != nil {
		t.Errorf("scan %s: %v", prefix, err)
	}
	return keys
}

// TestContract runs the storage contract with durable records in a
// temporary SQLite file and short-lived ones in Redis, as production
// combines PostgreSQL and Redis.
func TestContract(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		short, _ := newStore(t)
		durable, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "h.db"))
		if err != nil {
			short.Close()
			t.Fatalf("sqlite.Open: %v", err)
		}
		return storage.Combine(durable, short, "sqlite", "redis")
	})
}

// records creates one record of each kind in tenant and returns them.
func records(t *testing.T, s *redisstore.Store, tenant string, now time.Time) (*storage.AuthRequest, *storage.AuthCode, *storage.Session) {
	t.Helper()
	ctx := t.Context()
	ar := &storage.AuthRequest{TenantID: tenant, ID: "req-1", ClientID: "web",
		Scopes: []string{"openid"}, CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
	code := &storage.AuthCode{TenantID: tenant, CodeHash: "hash-1", GrantID: "grant-1",
		ClientID: "web", UserID: "user-1", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	sess := &storage.Session{TenantID: tenant, ID: "sess-1", UserID: "user-1", AuthTime: now,
		CreatedAt: now, IdleExpiresAt: now.Add(30 * time.Minute), AbsoluteExpiresAt: now.Add(8 * time.Hour)}
	must(t, s.CreateAuthRequest(ctx, ar))
	must(t, s.CreateAuthCode(ctx, code))
	must(t, s.CreateSession(ctx, sess))
	return ar, code, sess
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// TestKeyFormat pins the key layout, hash tag included: Cluster and any
// operator tooling depend on it.
func TestKeyFormat(t *testing.T) {
	s, prefix := newStore(t)
	records(t, s, "acme", time.Now())
	c, err := rawClient(testURL(t))
	must(t, err)
	defer c.Close()
	got := map[string]bool{}
	for _, k := range scanKeys(t, c, prefix) {
		got[k] = true
	}
	want := []string{
		prefix + ":{acme}:authreq:req-1",
		prefix + ":{acme}:code:hash-1",
		prefix + ":{acme}:sess:sess-1",
		prefix + ":{acme}:usess:user-1",
	}
	for _, k := range want {
		if !got[k] {
			t.Errorf("key %s missing; have %v", k, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("keys = %v, want exactly %v", got, want)
	}
}

// TestTTLs checks that every key expires with its record, also after the
// operations that rewrite or touch it.
func TestTTLs(t *testing.T) {
	s, prefix := newStore(t)
	ctx := t.Context()
	now := time.Now()
	records(t, s, "acme", now)
	c, err := rawClient(testURL(t))
	must(t, err)
	defer c.Close()
	key := func(kind, id string) string { return prefix + ":{acme}:" + kind + ":" + id }
	check := func(step, key string, lifetime time.Duration) {
		t.Helper()
		ttl, err := c.PTTL(ctx, key).Result()
		must(t, err)
		if ttl <= 0 || ttl > lifetime {
			t.Errorf("%s: PTTL(%s) = %v, want in (0, %v]", step, key, ttl, lifetime)
		}
	}
	check("created", key("authreq", "req-1"), 10*time.Minute)
	check("created", key("code", "hash-1"), time.Minute)
	check("created", key("sess", "sess-1"), 30*time.Minute)
	check("created", key("usess", "user-1"), 8*time.Hour)
	if ttl := c.PTTL(ctx, key("usess", "user-1")).Val(); ttl < 7*time.Hour {
		t.Errorf("user index PTTL %v expires before the session's absolute expiry", ttl)
	}

	_, err = s.UpdateAuthRequest(ctx, "acme", "req-1", func(r *storage.AuthRequest) error {
		r.UserID = "user-1"
		return nil
	})
	must(t, err)
	check("updated", key("authreq", "req-1"), 10*time.Minute)
	_, err = s.ConsumeAuthCode(ctx, "acme", "hash-1", now)
	must(t, err)
	check("consumed", key("code", "hash-1"), time.Minute)
	must(t, s.TouchSession(ctx, "acme", "sess-1", now, now.Add(time.Hour)))
	check("touched", key("sess", "sess-1"), time.Hour)
	if ttl := c.PTTL(ctx, key("sess", "sess-1")).Val(); ttl <= 30*time.Minute {
		t.Errorf("touch did not extend the TTL: %v", ttl)
	}
	must(t, s.TouchSession(ctx, "acme", "sess-1", now, now.Add(100*time.Hour)))
	check("touched past absolute", key("sess", "sess-1"), 8*time.Hour)

	// A record created already expired leaves no key behind.
	must(t, s.CreateAuthRequest(ctx, &storage.AuthRequest{TenantID: "acme", ID: "req-old",
		CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(-time.Minute)}))
	if n := c.Exists(ctx, key("authreq", "req-old")).Val(); n != 0 {
		t.Errorf("expired auth request stored")
	}
}

func TestDeleteSessionMaintainsUserIndex(t *testing.T) {
	s, prefix := newStore(t)
	ctx := t.Context()
	records(t, s, "acme", time.Now())
	c, err := rawClient(testURL(t))
	must(t, err)
	defer c.Close()
	index := prefix + ":{acme}:usess:user-1"
	if ok := c.SIsMember(ctx, index, "sess-1").Val(); !ok {
		t.Fatal("session not in its user's index")
	}
	must(t, s.DeleteSession(ctx, "acme", "sess-1"))
	if n := c.Exists(ctx, index).Val(); n != 0 {
		t.Errorf("user index still holds %v after its only session was deleted", c.SMembers(ctx, index).Val())
	}
}

// ListUserSessions drops the IDs of sessions whose keys Redis expired from
// the user's index, and records each touch as the last use.
func TestListUserSessionsPrunesExpired(t *testing.T) {
	s, prefix := newStore(t)
	ctx := t.Context()
	now := time.Now()
	short := &storage.Session{TenantID: "acme", ID: "sess-short", UserID: "user-1", CreatedAt: now,
		IdleExpiresAt: now.Add(300 * time.Millisecond), AbsoluteExpiresAt: now.Add(time.Hour)}
	long := &storage.Session{TenantID: "acme", ID: "sess-long", UserID: "user-1", CreatedAt: now,
		IdleExpiresAt: now.Add(time.Hour), AbsoluteExpiresAt: now.Add(2 * time.Hour), UserAgent: "Firefox on Linux"}
	must(t, s.CreateSession(ctx, short))
	must(t, s.CreateSession(ctx, long))
	c, err := rawClient(testURL(t))
	must(t, err)
	defer c.Close()
	index := prefix + ":{acme}:usess:user-1"
	deadline := time.Now().Add(5 * time.Second)
	for c.Exists(ctx, prefix+":{acme}:sess:sess-short").Val() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("Redis did not expire the short session")
		}
		time.Sleep(50 * time.Millisecond)
	}
	used := time.Now().Truncate(time.Millisecond)
	must(t, s.TouchSession(ctx, "acme", "sess-long", used, used.Add(time.Hour)))
	got, err := s.ListUserSessions(ctx, "acme", "user-1", time.Now())
	must(t, err)
	if len(got) != 1 || got[0].ID != "sess-long" || got[0].UserAgent != "Firefox on Linux" || !got[0].LastUsedAt.Equal(used) {
		t.Fatalf("sessions = %+v, want sess-long used at %v", got, used)
	}
	if members := c.SMembers(ctx, index).Val(); len(members) != 1 || members[0] != "sess-long" {
		t.Errorf("index after listing = %v, want only sess-long", members)
	}
}
