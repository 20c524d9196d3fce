package storagetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

// errAbort is what update closures return to check that an error aborts.
var errAbort = errors.New("update aborted by test")

func testTenants(t *testing.T, f *fixture) {
	ctx, ts := t.Context(), f.s.Tenants()

	want := newTenant("acme", f.now)
	want.Disabled = true
	must(t, ts.CreateTenant(ctx, want))
	got, err := ts.Tenant(ctx, "acme")
	must(t, err)
	equal(t, got, want)

	wantErr(t, ts.CreateTenant(ctx, newTenant("acme", f.now)), storage.ErrAlreadyExists)
	_, err = ts.Tenant(ctx, "nope")
	wantNotFound(t, err)

	list, err := ts.ListTenants(ctx)
	must(t, err)
	var names []string
	for _, tn := range list {
		names = append(names, tn.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"acme", tenantA, tenantB}) {
		t.Fatalf("ListTenants = %v", names)
	}

	updated, err := ts.UpdateTenant(ctx, "acme", func(tn *storage.Tenant) error {
		if tn.DisplayName != want.DisplayName {
			t.Errorf("closure got DisplayName %q, want the stored %q", tn.DisplayName, want.DisplayName)
		}
		tn.DisplayName = "ACME Corp"
		tn.Disabled = false
		tn.UpdatedAt = f.now.Add(time.Hour)
		return nil
	})
	must(t, err)
	got, err = ts.Tenant(ctx, "acme")
	must(t, err)
	equal(t, got, updated)
	if got.DisplayName != "ACME Corp" || got.Disabled || !got.UpdatedAt.Equal(f.now.Add(time.Hour)) {
		t.Fatalf("update not stored: %+v", got)
	}

	_, err = ts.UpdateTenant(ctx, "acme", func(tn *storage.Tenant) error {
		tn.DisplayName = "must not be stored"
		return errAbort
	})
	wantErr(t, err, errAbort)
	got, err = ts.Tenant(ctx, "acme")
	must(t, err)
	equal(t, got, updated)

	_, err = ts.UpdateTenant(ctx, "acme", func(tn *storage.Tenant) error { tn.Name = "renamed"; return nil })
	if err == nil {
		t.Fatal("UpdateTenant changing the name succeeded")
	}
	_, err = ts.UpdateTenant(ctx, "nope", func(*storage.Tenant) error { return nil })
	wantNotFound(t, err)

	must(t, ts.DeleteTenant(ctx, "acme"))
	_, err = ts.Tenant(ctx, "acme")
	wantNotFound(t, err)
	wantNotFound(t, ts.DeleteTenant(ctx, "acme"))
}

func testClients(t *testing.T, f *fixture) {
	ctx, cs := t.Context(), f.s.Clients()

	want := newClient(tenantA, "web", f.now)
	must(t, cs.CreateClient(ctx, want))
	got, err := cs.Client(ctx, tenantA, "web")
	must(t, err)
	equal(t, got, want)

	// A public client with empty lists and zero lifetimes round-trips too.
	public := &storage.Client{TenantID: tenantA, ID: "spa", AuthMethod: storage.AuthMethodNone,
		ApplicationType: storage.AppTypeUserAgent, RedirectURIs: []string{"https://spa.example/"},
		CreatedAt: f.now, UpdatedAt: f.now}
	must(t, cs.CreateClient(ctx, public))
	got, err = cs.Client(ctx, tenantA, "spa")
	must(t, err)
	equal(t, got, public)

	wantErr(t, cs.CreateClient(ctx, newClient(tenantA, "web", f.now)), storage.ErrAlreadyExists)
	// The same client ID in another tenant is a different client.
	must(t, cs.CreateClient(ctx, newClient(tenantB, "web", f.now)))
	_, err = cs.Client(ctx, tenantA, "nope")
	wantNotFound(t, err)

	list, err := cs.ListClients(ctx, tenantA)
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("ListClients(A) returned %d clients, want 2", len(list))
	}
	for _, c := range list {
		if c.TenantID != tenantA {
			t.Fatalf("ListClients(A) returned a client of %q", c.TenantID)
		}
	}

	updated, err := cs.UpdateClient(ctx, tenantA, "web", func(c *storage.Client) error {
		c.RedirectURIs = []string{"https://rp.example/new"}
		c.AccessTokenLifetime = time.Minute
		c.FirstParty = false
		return nil
	})
	must(t, err)
	got, err = cs.Client(ctx, tenantA, "web")
	must(t, err)
	equal(t, got, updated)
	if !slices.Equal(got.RedirectURIs, []string{"https://rp.example/new"}) || got.AccessTokenLifetime != time.Minute || got.FirstParty {
		t.Fatalf("update not stored: %+v", got)
	}
	other, err := cs.Client(ctx, tenantB, "web")
	must(t, err)
	wantOther := newClient(tenantB, "web", f.now)
	wantOther.UID = other.UID
	equal(t, other, wantOther)
	if other.UID == "" || other.UID == got.UID {
		t.Fatalf("client UIDs %q (A) and %q (B) must be set and differ", got.UID, other.UID)
	}

	_, err = cs.UpdateClient(ctx, tenantA, "web", func(c *storage.Client) error {
		c.Name = "must not be stored"
		return errAbort
	})
	wantErr(t, err, errAbort)
	got, err = cs.Client(ctx, tenantA, "web")
	must(t, err)
	equal(t, got, updated)
	_, err = cs.UpdateClient(ctx, tenantA, "web", func(c *storage.Client) error { c.ID = "other"; return nil })
	if err == nil {
		t.Fatal("UpdateClient changing the ID succeeded")
	}
	_, err = cs.UpdateClient(ctx, tenantA, "nope", func(*storage.Client) error { return nil })
	wantNotFound(t, err)

	must(t, cs.DeleteClient(ctx, tenantA, "web"))
	_, err = cs.Client(ctx, tenantA, "web")
	wantNotFound(t, err)
	wantNotFound(t, cs.DeleteClient(ctx, tenantA, "web"))
	_, err = cs.Client(ctx, tenantB, "web")
	must(t, err)
}

func testUsers(t *testing.T, f *fixture) {
	ctx, us := t.Context(), f.s.Users()

	want := newUser(tenantA, "user-1", "ada", f.now)
	must(t, us.CreateUser(ctx, want))
	got, err := us.User(ctx, tenantA, "user-1")
	must(t, err)
	equal(t, got, want)
	got, err = us.UserByUsername(ctx, tenantA, "ada")
	must(t, err)
	equal(t, got, want)

	tests := []struct {
		name string
		user *storage.User
		want error
	}{
		{"duplicate username", newUser(tenantA, "user-2", "ada", f.now), storage.ErrAlreadyExists},
		{"duplicate id", newUser(tenantA, "user-1", "grace", f.now), storage.ErrAlreadyExists},
		{"same username in another tenant", newUser(tenantB, "user-9", "ada", f.now), nil},
		{"same id in another tenant", newUser(tenantB, "user-1", "bob", f.now), nil},
		{"second user", newUser(tenantA, "user-2", "grace", f.now), nil},
	}
	for _, tc := range tests {
		err := us.CreateUser(ctx, tc.user)
		if !errors.Is(err, tc.want) {
			t.Fatalf("%s: CreateUser error = %v, want %v", tc.name, err, tc.want)
		}
	}
	got, err = us.UserByUsername(ctx, tenantB, "ada")
	must(t, err)
	if got.ID != "user-9" {
		t.Fatalf("UserByUsername(B, ada) = %q, want user-9", got.ID)
	}
	_, err = us.UserByUsername(ctx, tenantA, "nobody")
	wantNotFound(t, err)
	_, err = us.UserByUsername(ctx, tenantA, "bob")
	wantNotFound(t, err)

	list, err := us.ListUsers(ctx, tenantA)
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("ListUsers(A) returned %d users, want 2", len(list))
	}

	_, err = us.UpdateUser(ctx, tenantA, "user-2", func(u *storage.User) error { u.Username = "ada"; return nil })
	wantErr(t, err, storage.ErrAlreadyExists)
	updated, err := us.UpdateUser(ctx, tenantA, "user-1", func(u *storage.User) error {
		u.Username = "ada.l"
		u.PasswordHash = "$2b$10$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01"
		u.Disabled = true
		return nil
	})
	must(t, err)
	got, err = us.UserByUsername(ctx, tenantA, "ada.l")
	must(t, err)
	equal(t, got, updated)
	_, err = us.UserByUsername(ctx, tenantA, "ada")
	wantNotFound(t, err)

	_, err = us.UpdateUser(ctx, tenantA, "user-1", func(u *storage.User) error {
		u.Email = "must-not-be-stored@example.com"
		return errAbort
	})
	wantErr(t, err, errAbort)
	got, err = us.User(ctx, tenantA, "user-1")
	must(t, err)
	equal(t, got, updated)
	_, err = us.UpdateUser(ctx, tenantA, "nope", func(*storage.User) error { return nil })
	wantNotFound(t, err)

	must(t, us.DeleteUser(ctx, tenantA, "user-1"))
	_, err = us.User(ctx, tenantA, "user-1")
	wantNotFound(t, err)
	wantNotFound(t, us.DeleteUser(ctx, tenantA, "user-1"))
	// The username is free again after the delete.
	must(t, us.CreateUser(ctx, newUser(tenantA, "user-3", "ada.l", f.now)))
	_, err = us.User(ctx, tenantB, "user-1")
	must(t, err)
}
