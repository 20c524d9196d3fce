package storagetest

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

func newSecondFactor(tenant, userID string, secret string, now time.Time) *storage.SecondFactor {
	return &storage.SecondFactor{TenantID: tenant, UserID: userID, Secret: []byte(secret),
		CreatedAt: now, UpdatedAt: now}
}

// confirmedFactor stores a confirmed factor for a new user id of tenant.
func confirmedFactor(t *testing.T, f *fixture, tenant, id string, step int64, codes []string) {
	t.Helper()
	ctx := t.Context()
	must(t, f.s.Users().CreateUser(ctx, newUser(tenant, id, id+"-name", f.now)))
	must(t, f.s.SecondFactors().BeginSecondFactor(ctx, newSecondFactor(tenant, id, "sealed-"+id, f.now)))
	must(t, f.s.SecondFactors().ConfirmSecondFactor(ctx, tenant, id, []byte("sealed-"+id), step, codes, f.now))
}

// testSecondFactors walks a factor through set-up, confirmation, use,
// recovery codes and removal, and checks that every refusal stores nothing.
func testSecondFactors(t *testing.T, f *fixture) {
	ctx := t.Context()
	sf := f.s.SecondFactors()
	must(t, f.s.Users().CreateUser(ctx, newUser(tenantA, "u1", "alice", f.now)))

	_, err := sf.SecondFactor(ctx, tenantA, "u1")
	wantNotFound(t, err)
	// No user, no factor.
	wantNotFound(t, sf.BeginSecondFactor(ctx, newSecondFactor(tenantA, "ghost", "s", f.now)))
	wantNotFound(t, sf.BeginSecondFactor(ctx, newSecondFactor("no-such-tenant", "u1", "s", f.now)))

	// A pending set-up is replaced by the next one.
	must(t, sf.BeginSecondFactor(ctx, newSecondFactor(tenantA, "u1", "first", f.now)))
	must(t, sf.BeginSecondFactor(ctx, newSecondFactor(tenantA, "u1", "second", f.now)))
	got, err := sf.SecondFactor(ctx, tenantA, "u1")
	must(t, err)
	if got.Confirmed() || !bytes.Equal(got.Secret, []byte("second")) {
		t.Fatalf("pending factor = %+v", got)
	}
	// Nothing may be used before confirmation.
	wantNotFound(t, sf.UseTOTPStep(ctx, tenantA, "u1", 10, f.now))
	_, err = sf.UseRecoveryCode(ctx, tenantA, "u1", "h1", f.now)
	wantNotFound(t, err)
	wantNotFound(t, sf.ReplaceRecoveryCodes(ctx, tenantA, "u1", []string{"x"}, f.now))
	// The first set-up's code cannot confirm the second.
	wantNotFound(t, sf.ConfirmSecondFactor(ctx, tenantA, "u1", []byte("first"), 5, nil, f.now))

	at := f.now.Add(time.Minute)
	must(t, sf.ConfirmSecondFactor(ctx, tenantA, "u1", []byte("second"), 100, []string{"h1", "h2", "h3"}, at))
	got, err = sf.SecondFactor(ctx, tenantA, "u1")
	must(t, err)
	equal(t, got, &storage.SecondFactor{TenantID: tenantA, UserID: "u1", Secret: []byte("second"),
		ConfirmedAt: at, LastUsedStep: 100, RecoveryCodes: []string{"h1", "h2", "h3"}, CreatedAt: f.now, UpdatedAt: at})
	wantErr(t, sf.ConfirmSecondFactor(ctx, tenantA, "u1", []byte("second"), 101, nil, at), storage.ErrAlreadyExists)
	// A confirmed factor is not replaced by a new set-up.
	wantErr(t, sf.BeginSecondFactor(ctx, newSecondFactor(tenantA, "u1", "third", f.now)), storage.ErrAlreadyExists)

	// Steps: the confirming step and earlier ones are used; later ones once.
	wantErr(t, sf.UseTOTPStep(ctx, tenantA, "u1", 100, at), storage.ErrAlreadyUsed)
	wantErr(t, sf.UseTOTPStep(ctx, tenantA, "u1", 99, at), storage.ErrAlreadyUsed)
	must(t, sf.UseTOTPStep(ctx, tenantA, "u1", 101, at))
	wantErr(t, sf.UseTOTPStep(ctx, tenantA, "u1", 101, at), storage.ErrAlreadyUsed)
	must(t, sf.UseTOTPStep(ctx, tenantA, "u1", 103, at))
	wantErr(t, sf.UseTOTPStep(ctx, tenantA, "u1", 102, at), storage.ErrAlreadyUsed)
	wantNotFound(t, sf.UseTOTPStep(ctx, tenantB, "u1", 200, at))

	// Recovery codes are single use.
	n, err := sf.UseRecoveryCode(ctx, tenantA, "u1", "h2", at)
	must(t, err)
	if n != 2 {
		t.Fatalf("remaining = %d, want 2", n)
	}
	_, err = sf.UseRecoveryCode(ctx, tenantA, "u1", "h2", at)
	wantNotFound(t, err)
	_, err = sf.UseRecoveryCode(ctx, tenantA, "u1", "nope", at)
	wantNotFound(t, err)
	_, err = sf.UseRecoveryCode(ctx, tenantB, "u1", "h1", at)
	wantNotFound(t, err)
	got, err = sf.SecondFactor(ctx, tenantA, "u1")
	must(t, err)
	if got.LastUsedStep != 103 || len(got.RecoveryCodes) != 2 || got.RecoveryCodes[0] != "h1" || got.RecoveryCodes[1] != "h3" {
		t.Fatalf("after use: %+v", got)
	}
	// Regenerating replaces every code.
	must(t, sf.ReplaceRecoveryCodes(ctx, tenantA, "u1", []string{"n1", "n2"}, at))
	_, err = sf.UseRecoveryCode(ctx, tenantA, "u1", "h1", at)
	wantNotFound(t, err)
	n, err = sf.UseRecoveryCode(ctx, tenantA, "u1", "n2", at)
	must(t, err)
	if n != 1 {
		t.Fatalf("remaining = %d, want 1", n)
	}

	// Removal; then a new set-up may begin.
	must(t, sf.DeleteSecondFactor(ctx, tenantA, "u1"))
	wantNotFound(t, sf.DeleteSecondFactor(ctx, tenantA, "u1"))
	_, err = sf.SecondFactor(ctx, tenantA, "u1")
	wantNotFound(t, err)
	must(t, sf.BeginSecondFactor(ctx, newSecondFactor(tenantA, "u1", "fourth", f.now)))
}

// testSecondFactorsGoWithUser: deleting the user or the tenant deletes the
// factor; another tenant's user of the same ID keeps theirs.
func testSecondFactorsGoWithUser(t *testing.T, f *fixture) {
	ctx := t.Context()
	confirmedFactor(t, f, tenantA, "u1", 1, []string{"h"})
	confirmedFactor(t, f, tenantA, "u2", 1, []string{"h"})
	confirmedFactor(t, f, tenantB, "u1", 1, []string{"h"})
	must(t, f.s.Users().DeleteUser(ctx, tenantA, "u1"))
	_, err := f.s.SecondFactors().SecondFactor(ctx, tenantA, "u1")
	wantNotFound(t, err)
	// A user created again under the ID starts without a factor.
	must(t, f.s.Users().CreateUser(ctx, newUser(tenantA, "u1", "again", f.now)))
	_, err = f.s.SecondFactors().SecondFactor(ctx, tenantA, "u1")
	wantNotFound(t, err)
	_, err = f.s.SecondFactors().SecondFactor(ctx, tenantB, "u1")
	must(t, err)
	must(t, f.s.Tenants().DeleteTenant(ctx, tenantB))
	_, err = f.s.SecondFactors().SecondFactor(ctx, tenantB, "u1")
	wantNotFound(t, err)
	_, err = f.s.SecondFactors().SecondFactor(ctx, tenantA, "u2")
	must(t, err)
}

// testSecondFactorConcurrentUse: many concurrent uses of one time step, and
// of one recovery code: exactly one of each wins.
func testSecondFactorConcurrentUse(t *testing.T, f *fixture) {
	confirmedFactor(t, f, tenantA, "u1", 1, []string{"h1", "h2"})
	var steps, codes, bad atomic.Int32
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			switch err := f.s.SecondFactors().UseTOTPStep(t.Context(), tenantA, "u1", 7, f.now); {
			case err == nil:
				steps.Add(1)
			case !errors.Is(err, storage.ErrAlreadyUsed):
				t.Errorf("UseTOTPStep: %v", err)
				bad.Add(1)
			}
			switch _, err := f.s.SecondFactors().UseRecoveryCode(t.Context(), tenantA, "u1", "h2", f.now); {
			case err == nil:
				codes.Add(1)
			case !errors.Is(err, storage.ErrNotFound):
				t.Errorf("UseRecoveryCode: %v", err)
				bad.Add(1)
			}
		})
	}
	wg.Wait()
	if steps.Load() != 1 || codes.Load() != 1 {
		t.Fatalf("winners: step %d, recovery code %d; want exactly 1 each", steps.Load(), codes.Load())
	}
	got, err := f.s.SecondFactors().SecondFactor(t.Context(), tenantA, "u1")
	must(t, err)
	if got.LastUsedStep != 7 || len(got.RecoveryCodes) != 1 || got.RecoveryCodes[0] != "h1" {
		t.Fatalf("after the race: %+v", got)
	}
}

// testSecondFactorSecretSwap: listing per tenant and the compare-and-set
// re-seal of a secret.
func testSecondFactorSecretSwap(t *testing.T, f *fixture) {
	ctx := t.Context()
	sf := f.s.SecondFactors()
	confirmedFactor(t, f, tenantA, "u2", 1, nil)
	confirmedFactor(t, f, tenantA, "u1", 1, nil)
	confirmedFactor(t, f, tenantB, "u3", 1, nil)
	list, err := sf.ListSecondFactors(ctx, tenantA)
	must(t, err)
	if len(list) != 2 || list[0].UserID != "u1" || list[1].UserID != "u2" || !bytes.Equal(list[0].Secret, []byte("sealed-u1")) {
		t.Fatalf("ListSecondFactors = %+v", list)
	}
	ok, err := sf.SwapSecondFactorSecret(ctx, tenantA, "u1", []byte("stale"), []byte("new"))
	must(t, err)
	if ok {
		t.Fatal("swapped although the old value did not match")
	}
	ok, err = sf.SwapSecondFactorSecret(ctx, tenantA, "u1", []byte("sealed-u1"), []byte("resealed"))
	must(t, err)
	if !ok {
		t.Fatal("swap with the right old value refused")
	}
	got, err := sf.SecondFactor(ctx, tenantA, "u1")
	must(t, err)
	if !bytes.Equal(got.Secret, []byte("resealed")) || !got.Confirmed() || got.LastUsedStep != 1 {
		t.Fatalf("after swap: %+v", got)
	}
	_, err = sf.SwapSecondFactorSecret(ctx, tenantA, "ghost", []byte("a"), []byte("b"))
	wantNotFound(t, err)
	if l, err := sf.ListSecondFactors(ctx, "no-such-tenant"); err != nil || len(l) != 0 {
		t.Fatalf("unknown tenant: %v, %v", l, err)
	}
}
