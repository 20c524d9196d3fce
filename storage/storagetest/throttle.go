package storagetest

import (
	"sync"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

var testRule = storage.ThrottleRule{Free: 2, Base: time.Second, Max: 4 * time.Second, Window: time.Minute}

func attempt(t *testing.T, f *fixture, tenant, key string, at time.Time) storage.ThrottleDecision {
	t.Helper()
	d, err := f.s.LoginAttempts().Attempt(t.Context(), tenant, key, at, testRule)
	must(t, err)
	return d
}

func wantDecision(t *testing.T, got storage.ThrottleDecision, allowed bool, count int, retryAt time.Time) {
	t.Helper()
	if got.Allowed != allowed || got.Count != count || !got.RetryAt.Equal(retryAt) {
		t.Fatalf("Attempt = %+v, want allowed=%v count=%d retryAt=%v", got, allowed, count, retryAt)
	}
}

// testLoginAttempts walks one key through the back-off: free attempts,
// doubling delays capped at Max, refusals that change nothing, a reset,
// and expiry after Window.
func testLoginAttempts(t *testing.T, f *fixture) {
	now := f.now
	const key = "k-alice"
	wantDecision(t, attempt(t, f, tenantA, key, now), true, 1, now)
	wantDecision(t, attempt(t, f, tenantA, key, now), true, 2, now)
	wantDecision(t, attempt(t, f, tenantA, key, now), true, 3, now.Add(time.Second))
	// Backing off: refused, nothing counted.
	wantDecision(t, attempt(t, f, tenantA, key, now.Add(999*time.Millisecond)), false, 3, now.Add(time.Second))
	wantDecision(t, attempt(t, f, tenantA, key, now.Add(500*time.Millisecond)), false, 3, now.Add(time.Second))
	t1 := now.Add(time.Second)
	wantDecision(t, attempt(t, f, tenantA, key, t1), true, 4, t1.Add(2*time.Second))
	t2 := t1.Add(2 * time.Second)
	wantDecision(t, attempt(t, f, tenantA, key, t2), true, 5, t2.Add(4*time.Second))
	t3 := t2.Add(4 * time.Second)
	wantDecision(t, attempt(t, f, tenantA, key, t3), true, 6, t3.Add(4*time.Second)) // capped at Max

	// Other tenants and keys are separate.
	wantDecision(t, attempt(t, f, tenantB, key, t3), true, 1, t3)
	wantDecision(t, attempt(t, f, tenantA, "k-bob", t3), true, 1, t3)

	// Reset starts the key over.
	must(t, f.s.LoginAttempts().ResetAttempts(t.Context(), tenantA, key))
	must(t, f.s.LoginAttempts().ResetAttempts(t.Context(), tenantA, "absent"))
	wantDecision(t, attempt(t, f, tenantA, key, t3), true, 1, t3)
}

// testLoginAttemptsExpire: no permanent lock — a key with no attempt for
// Window after its last delay ends is forgotten. (Redis expires by its own
// clock, so this uses a short window and real time.)
func testLoginAttemptsExpire(t *testing.T, f *fixture) {
	rule := storage.ThrottleRule{Free: 1, Base: 200 * time.Millisecond, Max: time.Second, Window: 300 * time.Millisecond}
	la := f.s.LoginAttempts()
	start := time.Now().UTC().Truncate(time.Millisecond)
	for i := 1; i <= 2; i++ {
		d, err := la.Attempt(t.Context(), tenantA, "k-exp", start, rule)
		must(t, err)
		if !d.Allowed || d.Count != i {
			t.Fatalf("attempt %d: %+v", i, d)
		}
	}
	time.Sleep(800 * time.Millisecond) // > delay 200ms + window 300ms
	now := time.Now().UTC().Truncate(time.Millisecond)
	d, err := la.Attempt(t.Context(), tenantA, "k-exp", now, rule)
	must(t, err)
	if !d.Allowed || d.Count != 1 {
		t.Fatalf("after window: %+v, want a fresh count of 1", d)
	}
}

// testLoginAttemptsConcurrent: of concurrent attempts at one instant, exactly
// Free+1 go through (the Free ones, and the first that sets a delay).
func testLoginAttemptsConcurrent(t *testing.T, f *fixture) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range concurrency {
		wg.Go(func() {
			d, err := f.s.LoginAttempts().Attempt(t.Context(), tenantA, "k-race", f.now, testRule)
			if err != nil {
				t.Error(err)
				return
			}
			if d.Allowed {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != testRule.Free+1 {
		t.Fatalf("%d of %d concurrent attempts allowed, want %d", allowed, concurrency, testRule.Free+1)
	}
}
