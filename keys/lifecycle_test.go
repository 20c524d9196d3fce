package keys

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/storage/sqlite"
)

// newSQLite returns a real store (a file, so that two Managers can act as
// two replicas on it) with the tenants created.
func newSQLite(t *testing.T, tenants ...string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "herald.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	for _, name := range tenants {
		if err := s.Tenants().CreateTenant(t.Context(), &storage.Tenant{Name: name, DisplayName: name,
			SigningAlgorithm: ES256, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func statuses(t *testing.T, m *Manager, tenant string) map[string]string {
	t.Helper()
	recs, err := m.store.ListKeys(t.Context(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range recs {
		out[r.ID] = r.Status
	}
	return out
}

// acmeES256 is tenant acme on SQLite with a manager on a fake clock, its
// active ES256 key and the kid of the next key published with it.
func acmeES256(t *testing.T) (*sqlite.Store, *fakeClock, *Manager, *Key, string) {
	t.Helper()
	store := newSQLite(t, "acme")
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := newTestManager(t, store.Keys(), nil, WithClock(clock.Now))
	active, err := m.SigningKey(t.Context(), "acme", ES256)
	if err != nil {
		t.Fatal(err)
	}
	return store, clock, m, active, published(t, m, "acme")[0]
}

func published(t *testing.T, m *Manager, tenant string) []string {
	t.Helper()
	keys, err := m.PublicKeys(t.Context(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	return ids
}

func TestPolicyValidate(t *testing.T) {
	if err := DefaultPolicy().Validate(); err != nil {
		t.Fatalf("default policy: %v", err)
	}
	if DefaultPrePublish <= JWKSMaxAge+DefaultCacheTTL {
		t.Fatalf("pre-publication %s must exceed the JWKS max-age %s plus the key cache %s", DefaultPrePublish, JWKSMaxAge, DefaultCacheTTL)
	}
	for _, p := range []Policy{
		{RotationPeriod: time.Hour, PrePublish: JWKSMaxAge, RetireMargin: time.Minute},
		{RotationPeriod: 0, PrePublish: time.Hour},
		{RotationPeriod: time.Minute, PrePublish: time.Hour},
	} {
		if p.Validate() == nil {
			t.Errorf("policy %+v accepted", p)
		}
		if _, err := NewManager(newFakeKeys(), nil, WithPolicy(p)); err == nil {
			t.Errorf("NewManager accepted policy %+v", p)
		}
	}
}

func TestRotateLifecycle(t *testing.T) {
	ctx := t.Context()
	store := newSQLite(t, "acme")
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := newTestManager(t, store.Keys(), testKEK(t), WithClock(clock.Now))

	first, err := m.SigningKey(ctx, "acme", ES256)
	if err != nil {
		t.Fatal(err)
	}
	pub := published(t, m, "acme")
	if len(pub) != 2 || pub[1] != first.ID {
		t.Fatalf("a new tenant publishes %v, want a next key and the active %s", pub, first.ID)
	}
	next := pub[0]

	// The next key was just published: a rotation now could sign tokens
	// that relying parties holding the previous JWKS cannot verify.
	_, err = m.Rotate(ctx, "acme", ES256, RotateOptions{})
	var nr *NotReadyError
	if !errors.As(err, &nr) || !errors.Is(err, ErrNextNotReady) || nr.KeyID != next ||
		!nr.Until.Equal(clock.Now().Add(DefaultPrePublish)) {
		t.Fatalf("early Rotate = %v, want NotReadyError for %s until %s", err, next, clock.Now().Add(DefaultPrePublish))
	}
	clock.Advance(DefaultPrePublish)
	st, err := m.Rotate(ctx, "acme", ES256, RotateOptions{IfActive: first.ID})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Rotated || st.Active != next || st.Next == "" || st.Next == next || st.Next == first.ID {
		t.Fatalf("Rotate = %+v, want %s promoted and a fresh next key", st, next)
	}
	k, err := m.SigningKey(ctx, "acme", ES256)
	if err != nil || k.ID != next {
		t.Fatalf("signing key after rotation = %v, %v; want the promoted %s", k, err, next)
	}
	if got := statuses(t, m, "acme"); got[first.ID] != storage.KeyRetired || got[next] != storage.KeyActive || got[st.Next] != storage.KeyNext {
		t.Fatalf("states after rotation: %v", got)
	}
	if pub := published(t, m, "acme"); !slices.Equal(pub, []string{st.Next, next, first.ID}) {
		t.Fatalf("JWKS after rotation = %v, want next, active and the retired key", pub)
	}

	// A second request to rotate the same state (another admin, a retry)
	// does not rotate again.
	again, err := m.Rotate(ctx, "acme", ES256, RotateOptions{IfActive: first.ID})
	if err != nil || again.Rotated || again.Active != next {
		t.Fatalf("stale Rotate = %+v, %v; want no change", again, err)
	}

	// The retired key stays published until every token it signed has
	// expired (retain) plus the margin, then Maintain removes it.
	const retain = time.Hour
	clock.Advance(retain + DefaultRetireMargin - DefaultPrePublish - time.Second)
	if changed, err := m.Maintain(ctx, "acme", retainFor(retain)); err != nil || changed {
		t.Fatalf("Maintain before expiry = %v, %v; want no change", changed, err)
	}
	if pub := published(t, m, "acme"); !slices.Contains(pub, first.ID) {
		t.Fatalf("retired key left the JWKS early: %v", pub)
	}
	clock.Advance(DefaultPrePublish + time.Second)
	if changed, err := m.Maintain(ctx, "acme", retainFor(retain)); err != nil || !changed {
		t.Fatalf("Maintain after expiry = %v, %v; want a change", changed, err)
	}
	if got := statuses(t, m, "acme"); len(got) != 2 || got[first.ID] != "" {
		t.Fatalf("after removal: %v", got)
	}
}

func TestRevoke(t *testing.T) {
	ctx := t.Context()
	_, clock, m, active, next := acmeES256(t)

	if _, err := m.Revoke(ctx, "acme", "no-such-kid"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("Revoke of an unknown kid = %v, want ErrKeyNotFound", err)
	}
	if _, err := m.Revoke(ctx, "other-tenant", active.ID); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("Revoke through another tenant = %v, want ErrKeyNotFound", err)
	}

	// Revoking the active key promotes the next one at once, even inside
	// its pre-publication window: signing must go on.
	res, err := m.Revoke(ctx, "acme", active.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Promoted || res.PreviousStatus != storage.KeyActive || res.Active != next || res.Next == "" {
		t.Fatalf("Revoke(active) = %+v", res)
	}
	if pub := published(t, m, "acme"); slices.Contains(pub, active.ID) || len(pub) != 2 {
		t.Fatalf("JWKS after revocation = %v, want the revoked key gone", pub)
	}
	if k, err := m.PublicKey(ctx, "acme", active.ID); err != nil || k != nil {
		t.Fatalf("PublicKey of the revoked key = %v, %v; want none", k, err)
	}
	if k, err := m.SigningKey(ctx, "acme", ES256); err != nil || k.ID != next {
		t.Fatalf("signing key after revocation = %v, %v; want %s", k, err, next)
	}

	// Revoking the next key publishes a fresh one; revoking twice is a no-op.
	res2, err := m.Revoke(ctx, "acme", res.Next)
	if err != nil || res2.Promoted || res2.Active != next || res2.Next == "" || res2.Next == res.Next {
		t.Fatalf("Revoke(next) = %+v, %v", res2, err)
	}
	res3, err := m.Revoke(ctx, "acme", res.Next)
	if err != nil || res3.PreviousStatus != storage.KeyRevoked || res3.Next != res2.Next {
		t.Fatalf("second Revoke = %+v, %v", res3, err)
	}
	got := statuses(t, m, "acme")
	if got[active.ID] != storage.KeyRevoked || got[res.Next] != storage.KeyRevoked || len(got) != 4 {
		t.Fatalf("states after revocations: %v", got)
	}
	// Revoked keys are removed like retired ones once their tokens expired.
	clock.Advance(time.Hour + DefaultRetireMargin)
	if _, err := m.Maintain(ctx, "acme", retainFor(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := statuses(t, m, "acme"); len(got) != 2 {
		t.Fatalf("after Maintain: %v, want only the active and next keys", got)
	}
}

// TestScheduledRotationTwoReplicas: two Managers (replicas) on one database
// both find the rotation due at the same moment: exactly one new key.
func TestScheduledRotationTwoReplicas(t *testing.T) {
	ctx := t.Context()
	store := newSQLite(t, "acme")
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	kek := testKEK(t)
	a := newTestManager(t, store.Keys(), kek, WithClock(clock.Now))
	b := newTestManager(t, store.Keys(), kek, WithClock(clock.Now))
	first, err := a.SigningKey(ctx, "acme", ES256)
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := b.Maintain(ctx, "acme", retainFor(time.Hour)); err != nil || changed {
		t.Fatalf("Maintain with nothing due = %v, %v", changed, err)
	}
	clock.Advance(DefaultRotationPeriod)
	var wg sync.WaitGroup
	changed := make([]bool, 2)
	errs := make([]error, 2)
	for i, m := range []*Manager{a, b} {
		wg.Go(func() { changed[i], errs[i] = m.Maintain(ctx, "acme", retainFor(time.Hour)) })
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if changed[0] == changed[1] {
		t.Fatalf("replicas changed = %v, want exactly one to rotate", changed)
	}
	got := statuses(t, a, "acme")
	if len(got) != 3 || got[first.ID] != storage.KeyRetired {
		t.Fatalf("after the scheduled rotation: %v, want 3 keys with %s retired", got, first.ID)
	}
	for _, m := range []*Manager{a, b} {
		m.Invalidate("acme")
		k, err := m.SigningKey(ctx, "acme", ES256)
		if err != nil || k.ID == first.ID {
			t.Fatalf("replica signs with %v, %v after the rotation", k, err)
		}
	}
}

// TestMaintainPublishesMissingNext: keys from before the lifecycle (one
// active key, no next) get a next key, which signs only after the
// pre-publication window.
func TestMaintainPublishesMissingNext(t *testing.T) {
	ctx := t.Context()
	store, clock, m, active, next := acmeES256(t)
	if err := store.Keys().UpdateKeySet(ctx, "acme", ES256, func([]*storage.SigningKey) (*storage.KeySetChange, error) {
		return &storage.KeySetChange{Delete: []string{next}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	m.Invalidate("acme")
	_, err := m.Rotate(ctx, "acme", ES256, RotateOptions{})
	if !errors.Is(err, ErrNextNotReady) {
		t.Fatalf("Rotate without a next key = %v, want ErrNextNotReady (and a next key published)", err)
	}
	if got := statuses(t, m, "acme"); len(got) != 2 || got[active.ID] != storage.KeyActive {
		t.Fatalf("after Rotate without next: %v", got)
	}
	clock.Advance(DefaultPrePublish)
	if st, err := m.Rotate(ctx, "acme", ES256, RotateOptions{}); err != nil || !st.Rotated {
		t.Fatalf("Rotate after the window = %+v, %v", st, err)
	}
}

func retainFor(d time.Duration) RetainFunc {
	return func(context.Context) (time.Duration, error) { return d, nil }
}
