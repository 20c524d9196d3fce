package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/herald-idp/herald/storage"
)

// wantTenantAt fails unless host resolves to the tenant called want.
func wantTenantAt(t *testing.T, ts storage.Tenants, host, want string) *storage.Tenant {
	t.Helper()
	got, err := ts.TenantByHostname(t.Context(), host)
	if err != nil {
		t.Fatalf("TenantByHostname(%q): %v, want tenant %q", host, err, want)
	}
	if got.Name != want {
		t.Fatalf("TenantByHostname(%q) = tenant %q, want %q", host, got.Name, want)
	}
	return got
}

func wantNoTenantAt(t *testing.T, ts storage.Tenants, host string) {
	t.Helper()
	got, err := ts.TenantByHostname(t.Context(), host)
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("TenantByHostname(%q) = %+v, %v; want ErrNotFound", host, got, err)
	}
}

func wantHostnames(t *testing.T, ts storage.Tenants, tenant string, want ...string) {
	t.Helper()
	got, err := ts.Tenant(t.Context(), tenant)
	must(t, err)
	if !slices.Equal(got.Hostnames, want) {
		t.Fatalf("tenant %q hostnames = %q, want %q", tenant, got.Hostnames, want)
	}
}

func testHostnames(t *testing.T, f *fixture) {
	ctx, ts := t.Context(), f.s.Tenants()

	// Lookups find the tenant that claims the host, and only that one.
	for _, name := range []string{tenantA, tenantB} {
		want := newTenant(name, f.now)
		for _, host := range want.Hostnames {
			equal(t, wantTenantAt(t, ts, host, name), want)
		}
	}
	// Exact match on the stored lower-case name: no case folding, no port,
	// no suffix or prefix matching.
	for _, host := range []string{"", "TENANT-A.example.test", "tenant-a.example.test:443",
		"tenant-a.example.test.", "example.test", "x.tenant-a.example.test", "unknown.example.test", "%"} {
		wantNoTenantAt(t, ts, host)
	}

	// Hostnames come back sorted and without duplicates.
	acme := newTenant("acme", f.now)
	acme.Hostnames = []string{"z.acme.test", "a.acme.test", "z.acme.test"}
	must(t, ts.CreateTenant(ctx, acme))
	wantHostnames(t, ts, "acme", "a.acme.test", "z.acme.test")
	list, err := ts.ListTenants(ctx)
	must(t, err)
	for _, tn := range list {
		if want := newTenant(tn.Name, f.now).Hostnames; tn.Name == "acme" {
			want = []string{"a.acme.test", "z.acme.test"}
			if !slices.Equal(tn.Hostnames, want) {
				t.Fatalf("ListTenants: %q hostnames = %q, want %q", tn.Name, tn.Hostnames, want)
			}
		} else if !slices.Equal(tn.Hostnames, want) {
			t.Fatalf("ListTenants: %q hostnames = %q, want %q", tn.Name, tn.Hostnames, want)
		}
	}

	// A hostname of another tenant cannot be claimed, and the failed create
	// leaves nothing behind.
	thief := newTenant("thief", f.now)
	thief.Hostnames = []string{"free.thief.test", tenantB + ".login.example.test"}
	err = ts.CreateTenant(ctx, thief)
	wantErr(t, err, storage.ErrAlreadyExists)
	wantErr(t, err, storage.ErrHostnameTaken)
	_, err = ts.Tenant(ctx, "thief")
	wantNotFound(t, err)
	wantNoTenantAt(t, ts, "free.thief.test")
	wantTenantAt(t, ts, tenantB+".login.example.test", tenantB)

	// UpdateTenant replaces the set; claiming another tenant's hostname
	// fails and changes nothing.
	_, err = ts.UpdateTenant(ctx, "acme", func(tn *storage.Tenant) error {
		tn.Hostnames = []string{"new.acme.test", tenantA + ".example.test"}
		tn.DisplayName = "must not be stored"
		return nil
	})
	wantErr(t, err, storage.ErrHostnameTaken)
	wantHostnames(t, ts, "acme", "a.acme.test", "z.acme.test")
	wantNoTenantAt(t, ts, "new.acme.test")
	wantTenantAt(t, ts, tenantA+".example.test", tenantA)

	updated, err := ts.UpdateTenant(ctx, "acme", func(tn *storage.Tenant) error {
		tn.Hostnames = []string{"new.acme.test", "a.acme.test"}
		return nil
	})
	must(t, err)
	if !slices.Equal(updated.Hostnames, []string{"a.acme.test", "new.acme.test"}) {
		t.Fatalf("UpdateTenant returned hostnames %q", updated.Hostnames)
	}
	wantHostnames(t, ts, "acme", "a.acme.test", "new.acme.test")
	wantTenantAt(t, ts, "new.acme.test", "acme")
	wantNoTenantAt(t, ts, "z.acme.test")

	// An update of other fields keeps the hostnames.
	_, err = ts.UpdateTenant(ctx, "acme", func(tn *storage.Tenant) error { tn.DisplayName = "ACME"; return nil })
	must(t, err)
	wantHostnames(t, ts, "acme", "a.acme.test", "new.acme.test")

	// A released hostname is free for another tenant.
	_, err = ts.UpdateTenant(ctx, tenantB, func(tn *storage.Tenant) error {
		tn.Hostnames = append(tn.Hostnames, "z.acme.test")
		return nil
	})
	must(t, err)
	wantTenantAt(t, ts, "z.acme.test", tenantB)

	// Removing every hostname.
	_, err = ts.UpdateTenant(ctx, tenantB, func(tn *storage.Tenant) error { tn.Hostnames = nil; return nil })
	must(t, err)
	wantHostnames(t, ts, tenantB)
	wantNoTenantAt(t, ts, "z.acme.test")
	wantNoTenantAt(t, ts, tenantB+".example.test")

	// Deleting a tenant frees its hostnames.
	must(t, ts.DeleteTenant(ctx, "acme"))
	wantNoTenantAt(t, ts, "new.acme.test")
	globex := newTenant("globex", f.now)
	globex.Hostnames = []string{"new.acme.test"}
	must(t, ts.CreateTenant(ctx, globex))
	wantTenantAt(t, ts, "new.acme.test", "globex")
}

// Of tenants racing to claim one hostname exactly one gets it.
func testHostnamesConcurrentClaim(t *testing.T, f *fixture) {
	ctx, ts := t.Context(), f.s.Tenants()
	const host = "contested.example.test"
	const n = 10
	for i := range n {
		tn := newTenant(fmt.Sprintf("racer-%d", i), f.now)
		tn.Hostnames = nil
		must(t, ts.CreateTenant(ctx, tn))
	}
	errs := race(n, func(i int) error {
		_, err := ts.UpdateTenant(ctx, fmt.Sprintf("racer-%d", i), func(tn *storage.Tenant) error {
			tn.Hostnames = []string{host}
			return nil
		})
		return err
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("both racer-%d and racer-%d claimed %s", winner, i, host)
		case err == nil:
			winner = i
		case !errors.Is(err, storage.ErrHostnameTaken):
			t.Fatalf("racer-%d: %v, want ErrHostnameTaken", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no racer claimed the hostname")
	}
	wantTenantAt(t, ts, host, fmt.Sprintf("racer-%d", winner))
}

// Hostnames that are not lower-case DNS names are refused with a plain
// error (not a conflict), on create and on update.
func testHostnameValidation(t *testing.T, f *fixture) {
	ctx, ts := t.Context(), f.s.Tenants()
	bad := []string{"", "Login.Example.test", "login.example.test:8443", "login.example.test.",
		"a..b", "-a.example.test", "a-.example.test", "under_score.test", "sp ace.test",
		"https://login.example.test", "xn--bcher-kva.example/path", "ünicode.example.test",
		strings.Repeat("a", 64) + ".example.test", strings.Repeat("a.", 130) + "test"}
	for _, host := range bad {
		tn := newTenant("invalid", f.now)
		tn.Hostnames = []string{"ok.example.test", host}
		err := ts.CreateTenant(ctx, tn)
		if err == nil || errors.Is(err, storage.ErrAlreadyExists) {
			t.Fatalf("CreateTenant with hostname %q: %v, want a validation error", host, err)
		}
		_, err = ts.Tenant(ctx, "invalid")
		wantNotFound(t, err)
		_, err = ts.UpdateTenant(ctx, tenantA, func(tn *storage.Tenant) error {
			tn.Hostnames = []string{host}
			return nil
		})
		if err == nil || errors.Is(err, storage.ErrAlreadyExists) {
			t.Fatalf("UpdateTenant with hostname %q: %v, want a validation error", host, err)
		}
	}
	wantHostnames(t, ts, tenantA, newTenant(tenantA, f.now).Hostnames...)
	// IDNs in A-label form and single-label names are hostnames.
	tn := newTenant("valid", f.now)
	tn.Hostnames = []string{"localhost", "xn--bcher-kva.example", "123.example.test"}
	must(t, ts.CreateTenant(ctx, tn))
	wantTenantAt(t, ts, "xn--bcher-kva.example", "valid")
}
