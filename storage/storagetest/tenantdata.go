package storagetest

import (
	"errors"
	"math"
	"testing"

	"github.com/herald-idp/herald/storage"
)

// Tenant settings are one document: every field round-trips, durations
// exactly (nanoseconds), and clearing them gives the zero settings back.
func testTenantSettings(t *testing.T, f *fixture) {
	ctx, ts := t.Context(), f.s.Tenants()

	got, err := ts.Tenant(ctx, tenantA)
	must(t, err)
	equal(t, &got.Settings, ptr(newSettings()))

	updated, err := ts.UpdateTenant(ctx, tenantA, func(tn *storage.Tenant) error {
		tn.Settings.SessionIdleTimeout += 1 // one nanosecond
		tn.Settings.CustomClaims = append(tn.Settings.CustomClaims,
			storage.ClaimMapping{Claim: "tid", Attribute: "tenant_id", Targets: []string{"access_token"}})
		return nil
	})
	must(t, err)
	got, err = ts.Tenant(ctx, tenantA)
	must(t, err)
	equal(t, got, updated)
	if got.Settings.SessionIdleTimeout != newSettings().SessionIdleTimeout+1 || len(got.Settings.CustomClaims) != 3 {
		t.Fatalf("settings update not stored: %+v", got.Settings)
	}

	_, err = ts.UpdateTenant(ctx, tenantA, func(tn *storage.Tenant) error {
		tn.Settings = storage.TenantSettings{}
		return nil
	})
	must(t, err)
	got, err = ts.Tenant(ctx, tenantA)
	must(t, err)
	equal(t, &got.Settings, &storage.TenantSettings{})

	// The other tenant's settings are its own.
	got, err = ts.Tenant(ctx, tenantB)
	must(t, err)
	equal(t, &got.Settings, ptr(newSettings()))
}

// User attributes are free-form JSON: nested values round-trip, numbers
// come back as float64, an empty map may come back as nil, and values JSON
// cannot encode are refused with an error rather than stored.
func testUserAttributes(t *testing.T, f *fixture) {
	ctx, us := t.Context(), f.s.Users()

	want := newUser(tenantA, "user-1", "ada", f.now)
	must(t, us.CreateUser(ctx, want))
	got, err := us.User(ctx, tenantA, "user-1")
	must(t, err)
	equal(t, got, want)
	groups, ok := got.Attributes["groups"].([]any)
	if !ok || len(groups) != 3 || groups[0] != "admins" || groups[2] != float64(7) {
		t.Fatalf("groups attribute = %#v", got.Attributes["groups"])
	}

	// Integers are stored as JSON numbers and read back as float64.
	_, err = us.UpdateUser(ctx, tenantA, "user-1", func(u *storage.User) error {
		u.Attributes = map[string]any{"plan_level": 4, "groups": []string{"ops"}}
		return nil
	})
	must(t, err)
	got, err = us.UserByUsername(ctx, tenantA, "ada")
	must(t, err)
	equal(t, &got.Attributes, &map[string]any{"plan_level": float64(4), "groups": []any{"ops"}})

	for _, empty := range []map[string]any{{}, nil} {
		_, err = us.UpdateUser(ctx, tenantA, "user-1", func(u *storage.User) error {
			u.Attributes = empty
			return nil
		})
		must(t, err)
		got, err = us.User(ctx, tenantA, "user-1")
		must(t, err)
		if len(got.Attributes) != 0 {
			t.Fatalf("attributes after clearing = %#v", got.Attributes)
		}
	}

	bad := newUser(tenantA, "user-2", "grace", f.now)
	bad.Attributes = map[string]any{"score": math.Inf(1)}
	if err := us.CreateUser(ctx, bad); err == nil {
		t.Fatal("CreateUser with an attribute JSON cannot encode succeeded")
	}
	_, err = us.User(ctx, tenantA, "user-2")
	wantNotFound(t, err)
	_, err = us.UpdateUser(ctx, tenantA, "user-1", func(u *storage.User) error {
		u.Attributes = map[string]any{"score": math.NaN()}
		return nil
	})
	if err == nil || errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("UpdateUser with an attribute JSON cannot encode: %v, want an encoding error", err)
	}

	// The same user ID in another tenant has its own attributes.
	other := newUser(tenantB, "user-1", "ada", f.now)
	other.Attributes = map[string]any{"tenant_id": "b"}
	must(t, us.CreateUser(ctx, other))
	got, err = us.User(ctx, tenantB, "user-1")
	must(t, err)
	equal(t, got, other)
	got, err = us.User(ctx, tenantA, "user-1")
	must(t, err)
	if len(got.Attributes) != 0 {
		t.Fatalf("tenant A's user got attributes %#v", got.Attributes)
	}
}

func ptr[T any](v T) *T { return &v }
