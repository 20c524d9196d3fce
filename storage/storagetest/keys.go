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
