package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

func testKeys(t *testing.T, f *fixture) {
	ctx, ks := t.Context(), f.s.Keys()

	older := newKey(tenantA, "kid-old", f.now.Add(-time.Hour))
	newer := newKey(tenantA, "kid-new", f.now)
	newer.Algorithm = "EdDSA"
	for _, k := range []*storage.SigningKey{older, newer, newKey(tenantB, "kid-b", f.now)} {
		must(t, ks.CreateKey(ctx, k))
	}
	wantErr(t, ks.CreateKey(ctx, newKey(tenantA, "kid-old", f.now)), storage.ErrAlreadyExists)

	list, err := ks.ListKeys(ctx, tenantA)
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("ListKeys(A) returned %d keys, want 2", len(list))
	}
	equal(t, list[0], newer) // newest first
	equal(t, list[1], older)

	retired, err := ks.UpdateKey(ctx, tenantA, "kid-old", func(k *storage.SigningKey) error {
		k.Status = storage.KeyRetired
		return nil
	})
	must(t, err)
	if retired.Status != storage.KeyRetired || !bytes.Equal(retired.PrivateKey, older.PrivateKey) {
		t.Fatalf("UpdateKey returned %+v", retired)
	}
	_, err = ks.UpdateKey(ctx, tenantA, "kid-new", func(k *storage.SigningKey) error {
		k.Status = storage.KeyRetired
		return errAbort
	})
	wantErr(t, err, errAbort)
	_, err = ks.UpdateKey(ctx, tenantA, "nope", func(*storage.SigningKey) error { return nil })
	wantNotFound(t, err)
	_, err = ks.UpdateKey(ctx, tenantB, "kid-old", func(*storage.SigningKey) error { return nil })
	wantNotFound(t, err)

	list, err = ks.ListKeys(ctx, tenantA)
	must(t, err)
	equal(t, list[0], newer)
	equal(t, list[1], retired)

	list, err = ks.ListKeys(ctx, "tenant-without-keys")
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("ListKeys of an unknown tenant returned %d keys", len(list))
	}
}

func testSecrets(t *testing.T, f *fixture) {
	ctx, ss := t.Context(), f.s.Secrets()

	generated := 0
	gen := func(v string) func() ([]byte, error) {
		return func() ([]byte, error) { generated++; return []byte(v), nil }
	}
	got, err := ss.Secret(ctx, "csrf", gen("first"))
	must(t, err)
	if string(got) != "first" {
		t.Fatalf("Secret = %q, want the generated value", got)
	}
	got, err = ss.Secret(ctx, "csrf", gen("second"))
	must(t, err)
	if string(got) != "first" {
		t.Fatalf("second Secret = %q, want the first value", got)
	}
	got, err = ss.Secret(ctx, "other-secret", gen("other"))
	must(t, err)
	if string(got) != "other" {
		t.Fatalf("Secret of another name = %q", got)
	}

	// A failing generator stores nothing; the next call generates again.
	_, err = ss.Secret(ctx, "broken", func() ([]byte, error) { return nil, errAbort })
	wantErr(t, err, errAbort)
	got, err = ss.Secret(ctx, "broken", gen("fixed"))
	must(t, err)
	if string(got) != "fixed" {
		t.Fatalf("Secret after a failed generate = %q", got)
	}
	if generated < 3 {
		t.Fatalf("generate called %d times, want at least 3", generated)
	}

	// Another replica stores first while this caller is generating: both
	// must end up with the other replica's value. (The nested call stands in
	// for the other replica, so a backend must not hold a lock across
	// generate.)
	var replica []byte
	got, err = ss.Secret(ctx, "raced", func() ([]byte, error) {
		var err error
		replica, err = ss.Secret(ctx, "raced", gen("replica"))
		if err != nil {
			return nil, err
		}
		return []byte("late"), nil
	})
	must(t, err)
	if string(replica) != "replica" || string(got) != "replica" {
		t.Fatalf("raced Secret: replica got %q, late caller got %q; both want %q", replica, got, "replica")
	}
	got, err = ss.Secret(ctx, "raced", gen("again"))
	must(t, err)
	if string(got) != "replica" {
		t.Fatalf("stored secret = %q, want the first stored value", got)
	}
}

func testSecretsConcurrent(t *testing.T, f *fixture) {
	ctx, ss := t.Context(), f.s.Secrets()
	values := make([][]byte, concurrency)
	errs := race(concurrency, func(i int) error {
		v, err := ss.Secret(ctx, "shared", func() ([]byte, error) {
			return fmt.Appendf(nil, "value-%d", i), nil
		})
		values[i] = v
		return err
	})
	for i, err := range errs {
		must(t, err)
		if !bytes.Equal(values[i], values[0]) {
			t.Fatalf("caller %d got %q, caller 0 got %q: replicas disagree", i, values[i], values[0])
		}
	}
	got, err := ss.Secret(ctx, "shared", func() ([]byte, error) { return nil, errors.New("must not generate") })
	must(t, err)
	if !bytes.Equal(got, values[0]) {
		t.Fatalf("stored secret %q differs from the one returned %q", got, values[0])
	}
}

func testConsents(t *testing.T, f *fixture) {
	ctx, cs := t.Context(), f.s.Consents()

	_, err := cs.Consent(ctx, tenantA, "user-1", "web")
	wantNotFound(t, err)

	must(t, cs.GrantConsent(ctx, &storage.Consent{TenantID: tenantA, UserID: "user-1", ClientID: "web",
		Scopes: []string{"openid", "profile"}, UpdatedAt: f.now}))
	must(t, cs.GrantConsent(ctx, &storage.Consent{TenantID: tenantA, UserID: "user-1", ClientID: "web",
		Scopes: []string{"email", "openid"}, UpdatedAt: f.now.Add(time.Minute)}))
	got, err := cs.Consent(ctx, tenantA, "user-1", "web")
	must(t, err)
	scopes := slices.Sorted(slices.Values(got.Scopes))
	if !slices.Equal(scopes, []string{"email", "openid", "profile"}) {
		t.Fatalf("consented scopes = %v, want the union of both grants", got.Scopes)
	}
	if got.TenantID != tenantA || got.UserID != "user-1" || got.ClientID != "web" || !got.UpdatedAt.Equal(f.now.Add(time.Minute)) {
		t.Fatalf("Consent = %+v", got)
	}

	// Other clients and users have their own consents.
	_, err = cs.Consent(ctx, tenantA, "user-1", "other-client")
	wantNotFound(t, err)
	_, err = cs.Consent(ctx, tenantA, "user-2", "web")
	wantNotFound(t, err)

	must(t, cs.RevokeConsent(ctx, tenantA, "user-1", "web"))
	_, err = cs.Consent(ctx, tenantA, "user-1", "web")
	wantNotFound(t, err)
	must(t, cs.RevokeConsent(ctx, tenantA, "user-1", "web"))
}

// testKeySet walks a key set through its lifecycle with UpdateKeySet: the
// closure sees only its tenant's keys of its algorithm, newest first, and
// every change (create, update, delete) lands at once or not at all.
func testKeySet(t *testing.T, f *fixture) {
	ctx, ks := t.Context(), f.s.Keys()

	active := newKey(tenantA, "kid-active", f.now.Add(-2*time.Hour))
	active.ActivatedAt = f.now.Add(-time.Hour)
	next := newKey(tenantA, "kid-next", f.now.Add(-time.Hour))
	next.Status = storage.KeyNext
	other := newKey(tenantA, "kid-eddsa", f.now)
	other.Algorithm = "EdDSA"
	for _, k := range []*storage.SigningKey{active, next, other, newKey(tenantB, "kid-b", f.now)} {
		must(t, ks.CreateKey(ctx, k))
	}

	// Rotate: next -> active, active -> retired, a fresh next.
	fresh := newKey(tenantA, "kid-fresh", f.now)
	fresh.Status = storage.KeyNext
	must(t, ks.UpdateKeySet(ctx, tenantA, "RS256", func(keys []*storage.SigningKey) (*storage.KeySetChange, error) {
		if ids := keyIDs(keys); !slices.Equal(ids, []string{"kid-next", "kid-active"}) {
			return nil, fmt.Errorf("closure saw %v, want the RS256 keys of tenant A newest first", ids)
		}
		if !keys[1].ActivatedAt.Equal(active.ActivatedAt) || !keys[0].ActivatedAt.IsZero() || !keys[0].RetiredAt.IsZero() {
			return nil, fmt.Errorf("lifecycle times did not round-trip: %+v %+v", keys[0], keys[1])
		}
		keys[0].Status, keys[0].ActivatedAt = storage.KeyActive, f.now
		keys[1].Status, keys[1].RetiredAt = storage.KeyRetired, f.now
		return &storage.KeySetChange{Create: []*storage.SigningKey{fresh}, Update: keys}, nil
	}))
	list, err := ks.ListKeys(ctx, tenantA)
	must(t, err)
	byID := map[string]*storage.SigningKey{}
	for _, k := range list {
		byID[k.ID] = k
	}
	if len(list) != 4 || byID["kid-fresh"].Status != storage.KeyNext || byID["kid-next"].Status != storage.KeyActive ||
		byID["kid-active"].Status != storage.KeyRetired || !byID["kid-active"].RetiredAt.Equal(f.now) ||
		!byID["kid-next"].ActivatedAt.Equal(f.now) || byID["kid-eddsa"].Status != storage.KeyActive {
		t.Fatalf("after rotation: %v", describeKeys(list))
	}

	// A failing closure, or a change that fails half-way (a kid that is
	// taken), stores nothing.
	wantErr(t, ks.UpdateKeySet(ctx, tenantA, "RS256", func(keys []*storage.SigningKey) (*storage.KeySetChange, error) {
		return &storage.KeySetChange{Delete: []string{"kid-active"}}, errAbort
	}), errAbort)
	dup := newKey(tenantA, "kid-eddsa-2", f.now)
	taken := newKey(tenantA, "kid-next", f.now)
	err = ks.UpdateKeySet(ctx, tenantA, "RS256", func(keys []*storage.SigningKey) (*storage.KeySetChange, error) {
		return &storage.KeySetChange{Create: []*storage.SigningKey{dup, taken}, Delete: []string{"kid-active"}}, nil
	})
	wantErr(t, err, storage.ErrAlreadyExists)
	if after, _ := ks.ListKeys(ctx, tenantA); len(after) != 4 {
		t.Fatalf("a failed change left %v", describeKeys(after))
	}

	// The closure cannot reach another algorithm's or tenant's keys.
	for name, change := range map[string]*storage.KeySetChange{
		"update other alg":    {Update: []*storage.SigningKey{other}},
		"delete other alg":    {Delete: []string{"kid-eddsa"}},
		"delete other tenant": {Delete: []string{"kid-b"}},
		"create other tenant": {Create: []*storage.SigningKey{newKey(tenantB, "kid-x", f.now)}},
	} {
		err := ks.UpdateKeySet(ctx, tenantA, "RS256", func([]*storage.SigningKey) (*storage.KeySetChange, error) {
			return change, nil
		})
		if err == nil {
			t.Fatalf("%s: UpdateKeySet accepted the change", name)
		}
	}

	// Remove the retired key.
	must(t, ks.UpdateKeySet(ctx, tenantA, "RS256", func(keys []*storage.SigningKey) (*storage.KeySetChange, error) {
		return &storage.KeySetChange{Delete: []string{"kid-active"}}, nil
	}))
	list, err = ks.ListKeys(ctx, tenantA)
	must(t, err)
	if ids := keyIDs(list); slices.Contains(ids, "kid-active") || len(ids) != 3 {
		t.Fatalf("after removal: %v", ids)
	}
	if b, _ := ks.ListKeys(ctx, tenantB); len(b) != 1 {
		t.Fatalf("tenant B's keys changed: %v", describeKeys(b))
	}

	// The first key of an unknown tenant cannot be created.
	err = ks.UpdateKeySet(ctx, "no-such-tenant", "RS256", func([]*storage.SigningKey) (*storage.KeySetChange, error) {
		return &storage.KeySetChange{Create: []*storage.SigningKey{newKey("no-such-tenant", "k", f.now)}}, nil
	})
	if err == nil {
		t.Fatal("UpdateKeySet created a key for an unknown tenant")
	}
}

// testKeySetConcurrentRotation: many replicas find a rotation due at once;
// the lock makes each see the previous one's result, so exactly one new key
// is created.
func testKeySetConcurrentRotation(t *testing.T, f *fixture) {
	ctx, ks := t.Context(), f.s.Keys()
	old := newKey(tenantA, "kid-old", f.now.Add(-100*24*time.Hour))
	must(t, ks.CreateKey(ctx, old))
	due := f.now.Add(-90 * 24 * time.Hour)
	created := make([]bool, concurrency)
	errs := race(concurrency, func(i int) error {
		k := newKey(tenantA, fmt.Sprintf("kid-%d", i), f.now)
		k.Status = storage.KeyNext
		return ks.UpdateKeySet(ctx, tenantA, "RS256", func(keys []*storage.SigningKey) (*storage.KeySetChange, error) {
			if len(keys) == 0 || keys[0].CreatedAt.After(due) {
				return nil, nil // another replica rotated already
			}
			created[i] = true
			return &storage.KeySetChange{Create: []*storage.SigningKey{k}}, nil
		})
	})
	n := 0
	for i, err := range errs {
		must(t, err)
		if created[i] {
			n++
		}
	}
	list, err := ks.ListKeys(ctx, tenantA)
	must(t, err)
	if n != 1 || len(list) != 2 {
		t.Fatalf("%d callers rotated, %d keys stored (%v); want exactly one new key", n, len(list), keyIDs(list))
	}
}

func testSwapSecret(t *testing.T, f *fixture) {
	ctx, ss := t.Context(), f.s.Secrets()
	_, err := ss.SwapSecret(ctx, "absent", []byte("a"), []byte("b"))
	wantNotFound(t, err)
	_, err = ss.Secret(ctx, "sealed", func() ([]byte, error) { return []byte("v1"), nil })
	must(t, err)
	ok, err := ss.SwapSecret(ctx, "sealed", []byte("stale"), []byte("v2"))
	must(t, err)
	if ok {
		t.Fatal("SwapSecret replaced a value that was not the expected old one")
	}
	ok, err = ss.SwapSecret(ctx, "sealed", []byte("v1"), []byte("v2"))
	must(t, err)
	got, err := ss.Secret(ctx, "sealed", func() ([]byte, error) { return nil, errors.New("must not generate") })
	must(t, err)
	if !ok || string(got) != "v2" {
		t.Fatalf("SwapSecret = %v, stored %q; want true, v2", ok, got)
	}
	// Concurrent swaps from the same old value: exactly one wins.
	wins := make([]bool, concurrency)
	errs := race(concurrency, func(i int) error {
		var err error
		wins[i], err = ss.SwapSecret(ctx, "sealed", []byte("v2"), fmt.Appendf(nil, "v3-%d", i))
		return err
	})
	n := 0
	for i, err := range errs {
		must(t, err)
		if wins[i] {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d concurrent swaps won, want exactly 1", n)
	}
}

func keyIDs(keys []*storage.SigningKey) []string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return ids
}

func describeKeys(keys []*storage.SigningKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = fmt.Sprintf("%s/%s/%s", k.ID, k.Algorithm, k.Status)
	}
	return out
}
