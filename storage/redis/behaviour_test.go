package redisstore_test

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
	redisstore "github.com/herald-idp/herald/storage/redis"
)

// TestDeleteTenantData clears one tenant and nothing else, not even the
// same tenant under a prefix that the unescaped SCAN pattern would match.
func TestDeleteTenantData(t *testing.T) {
	url := testURL(t)
	base := uniquePrefix(t)
	open := func(prefix string) *redisstore.Store {
		t.Cleanup(func() { cleanupPrefix(t, url, prefix) })
		s, err := redisstore.Open(t.Context(), url, redisstore.Options{Prefix: prefix})
		must(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}
	// "?" is a SCAN wildcard: an unescaped pattern for prefix "<base>-?"
	// would match "<base>-x" as well.
	globby, neighbour := open(base+"-?"), open(base+"-x")
	now := time.Now()
	for _, s := range []*redisstore.Store{globby, neighbour} {
		records(t, s, "acme", now)
		records(t, s, "other", now)
	}
	must(t, globby.DeleteTenantData(t.Context(), "acme"))

	for _, tc := range []struct {
		s      *redisstore.Store
		tenant string
		gone   bool
	}{
		{globby, "acme", true},
		{globby, "other", false},
		{neighbour, "acme", false},
		{neighbour, "other", false},
	} {
		ctx := t.Context()
		_, errReq := tc.s.AuthRequest(ctx, tc.tenant, "req-1")
		_, errSess := tc.s.Session(ctx, tc.tenant, "sess-1", now)
		_, errCode := tc.s.ConsumeAuthCode(ctx, tc.tenant, "hash-1", now)
		for name, err := range map[string]error{"request": errReq, "session": errSess, "code": errCode} {
			if tc.gone && !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("%s after DeleteTenantData(%s): %v, want ErrNotFound", name, tc.tenant, err)
			}
			if !tc.gone && err != nil {
				t.Errorf("%s of tenant %s (kept): %v", name, tc.tenant, err)
			}
		}
	}
}

// TestUpdateAuthRequestNoLostUpdates: concurrent updates either land or
// give up with an error; none is silently overwritten.
func TestUpdateAuthRequestNoLostUpdates(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	now := time.Now()
	must(t, s.CreateAuthRequest(ctx, &storage.AuthRequest{TenantID: "acme", ID: "req-1",
		CreatedAt: now, ExpiresAt: now.Add(time.Minute)}))
	const writers = 10
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			_, errs[i] = s.UpdateAuthRequest(ctx, "acme", "req-1", func(r *storage.AuthRequest) error {
				r.AMR = append(r.AMR, fmt.Sprint(i))
				return nil
			})
		})
	}
	wg.Wait()
	var landed []string
	for i, err := range errs {
		if err == nil {
			landed = append(landed, fmt.Sprint(i))
		} else if !strings.Contains(err.Error(), "concurrent modifications") {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	got, err := s.AuthRequest(ctx, "acme", "req-1")
	must(t, err)
	slices.Sort(landed)
	stored := slices.Sorted(slices.Values(got.AMR))
	if !slices.Equal(stored, landed) || len(landed) == 0 {
		t.Fatalf("stored updates %v, successful writers %v", stored, landed)
	}
}

// TestBadInput: invalid keys and records get clear errors, not panics or
// keys that escape the tenant's hash tag.
func TestBadInput(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	now := time.Now()
	for name, err := range map[string]error{
		"nil request":       s.CreateAuthRequest(ctx, nil),
		"nil code":          s.CreateAuthCode(ctx, nil),
		"nil session":       s.CreateSession(ctx, nil),
		"brace in tenant":   s.CreateAuthRequest(ctx, &storage.AuthRequest{TenantID: "a}b", ID: "r", ExpiresAt: now.Add(time.Minute)}),
		"empty tenant":      s.DeleteAuthRequest(ctx, "", "r"),
		"empty ID":          s.CreateAuthCode(ctx, &storage.AuthCode{TenantID: "a", ExpiresAt: now.Add(time.Minute)}),
		"no expiry":         s.CreateAuthCode(ctx, &storage.AuthCode{TenantID: "a", CodeHash: "h"}),
		"no user":           s.CreateSession(ctx, &storage.Session{TenantID: "a", ID: "s", IdleExpiresAt: now.Add(time.Minute), AbsoluteExpiresAt: now.Add(time.Hour)}),
		"tenant data brace": s.DeleteTenantData(ctx, "{x"),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	for _, prefix := range []string{"a{b", "a}"} {
		if _, err := redisstore.Open(ctx, testURL(t), redisstore.Options{Prefix: prefix}); err == nil {
			t.Errorf("Open with prefix %q succeeded", prefix)
		}
	}
}

// TestOpenUnreachable: Open fails fast with ErrUnavailable and does not
// repeat the password.
func TestOpenUnreachable(t *testing.T) {
	port := freePort(t)
	for _, url := range []string{
		fmt.Sprintf("redis://user:s3cretpw@127.0.0.1:%d/0", port),
		fmt.Sprintf("redis-cluster://user:s3cretpw@127.0.0.1:%d", port),
		fmt.Sprintf("redis-sentinel://s3cretpw@127.0.0.1:%d/mymaster", port),
	} {
		s, err := redisstore.Open(t.Context(), url, redisstore.Options{OpTimeout: 300 * time.Millisecond})
		if err == nil {
			s.Close()
			t.Fatalf("Open(%s) succeeded", strings.SplitN(url, ":", 2)[0])
		}
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("Open: %v, want ErrUnavailable", err)
		}
		if strings.Contains(err.Error(), "s3cretpw") {
			t.Errorf("Open error reveals the password: %v", err)
		}
	}
}

// freePort returns a TCP port nothing listens on (at the time of the call).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
