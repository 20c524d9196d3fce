package storagetest

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

func newConnector(tenant, id string, now time.Time) *storage.Connector {
	return &storage.Connector{
		TenantID:     tenant,
		ID:           id,
		Type:         storage.ConnectorOIDC,
		DisplayName:  "Connector " + id,
		Issuer:       "https://idp.example.test/" + id,
		ClientID:     "herald-" + id,
		ClientSecret: []byte{0x01, 0xde, 0xad, 0x00, 0xbe, 0xef},
		Scopes:       []string{"openid", "email", "profile"},
		ClaimMapping: map[string]string{"username": "preferred_username", "email": "mail"},
		JITCreate:    true,
		LinkByEmail:  true,
		Disabled:     true,
		CreatedAt:    now,
		UpdatedAt:    now.Add(time.Second),
	}
}

// Connectors round-trip every field, are scoped to their tenant, and their
// update rules match the other records'.
func testConnectors(t *testing.T, f *fixture) {
	ctx, cs := t.Context(), f.s.Connectors()

	want := newConnector(tenantA, "corp", f.now)
	must(t, cs.CreateConnector(ctx, want))
	got, err := cs.Connector(ctx, tenantA, "corp")
	must(t, err)
	equal(t, got, want)

	wantErr(t, cs.CreateConnector(ctx, newConnector(tenantA, "corp", f.now)), storage.ErrAlreadyExists)
	wantNotFound(t, cs.CreateConnector(ctx, newConnector("no-such-tenant", "corp", f.now)))
	must(t, cs.CreateConnector(ctx, newConnector(tenantB, "corp", f.now)))
	bare := &storage.Connector{TenantID: tenantA, ID: "a-bare", Type: storage.ConnectorGitHub,
		CreatedAt: f.now, UpdatedAt: f.now}
	must(t, cs.CreateConnector(ctx, bare))
	got, err = cs.Connector(ctx, tenantA, "a-bare")
	must(t, err)
	equal(t, got, bare)

	list, err := cs.ListConnectors(ctx, tenantA)
	must(t, err)
	if len(list) != 2 || list[0].ID != "a-bare" || list[1].ID != "corp" {
		t.Fatalf("ListConnectors = %+v, want a-bare, corp", list)
	}
	_, err = cs.Connector(ctx, tenantA, "nope")
	wantNotFound(t, err)

	updated, err := cs.UpdateConnector(ctx, tenantA, "corp", func(c *storage.Connector) error {
		c.ClaimMapping = nil
		c.Scopes = nil
		c.ClientSecret = []byte{0x01, 0x02}
		c.JITCreate = false
		return nil
	})
	must(t, err)
	got, err = cs.Connector(ctx, tenantA, "corp")
	must(t, err)
	equal(t, got, updated)
	if got.JITCreate || len(got.ClaimMapping) != 0 || string(got.ClientSecret) != "\x01\x02" {
		t.Fatalf("update not stored: %+v", got)
	}
	boom := errors.New("boom")
	_, err = cs.UpdateConnector(ctx, tenantA, "corp", func(c *storage.Connector) error {
		c.DisplayName = "changed"
		return boom
	})
	wantErr(t, err, boom)
	_, err = cs.UpdateConnector(ctx, tenantA, "corp", func(c *storage.Connector) error {
		c.ID = "other"
		return nil
	})
	if err == nil {
		t.Fatal("UpdateConnector changed the ID")
	}
	_, err = cs.UpdateConnector(ctx, tenantA, "nope", func(*storage.Connector) error { return nil })
	wantNotFound(t, err)
	got, err = cs.Connector(ctx, tenantA, "corp")
	must(t, err)
	equal(t, got, updated)

	// Tenant B's connector of the same ID is untouched.
	got, err = cs.Connector(ctx, tenantB, "corp")
	must(t, err)
	equal(t, got, newConnector(tenantB, "corp", f.now))

	must(t, cs.DeleteConnector(ctx, tenantA, "corp"))
	wantNotFound(t, cs.DeleteConnector(ctx, tenantA, "corp"))
	_, err = cs.Connector(ctx, tenantB, "corp")
	must(t, err)
}

// User links: unique per upstream account, cascade from their connector,
// their user and their tenant.
func testUserLinks(t *testing.T, f *fixture) {
	ctx, cs, us := t.Context(), f.s.Connectors(), f.s.Users()
	must(t, cs.CreateConnector(ctx, newConnector(tenantA, "corp", f.now)))
	must(t, cs.CreateConnector(ctx, newConnector(tenantA, "gh", f.now)))
	must(t, us.CreateUser(ctx, newUser(tenantA, "user-1", "ada", f.now)))
	must(t, us.CreateUser(ctx, newUser(tenantA, "user-2", "grace", f.now)))

	link := &storage.UserLink{TenantID: tenantA, ConnectorID: "corp", Subject: "up-1", UserID: "user-1", CreatedAt: f.now}
	must(t, cs.CreateUserLink(ctx, link))
	got, err := cs.UserLink(ctx, tenantA, "corp", "up-1")
	must(t, err)
	equal(t, got, link)

	// One upstream account links to one user only.
	wantErr(t, cs.CreateUserLink(ctx, &storage.UserLink{TenantID: tenantA, ConnectorID: "corp",
		Subject: "up-1", UserID: "user-2", CreatedAt: f.now}), storage.ErrAlreadyExists)
	// Unknown connector or user.
	wantNotFound(t, cs.CreateUserLink(ctx, &storage.UserLink{TenantID: tenantA, ConnectorID: "nope",
		Subject: "x", UserID: "user-1", CreatedAt: f.now}))
	wantNotFound(t, cs.CreateUserLink(ctx, &storage.UserLink{TenantID: tenantA, ConnectorID: "corp",
		Subject: "x", UserID: "nobody", CreatedAt: f.now}))
	// Another tenant's lookups do not see it.
	_, err = cs.UserLink(ctx, tenantB, "corp", "up-1")
	wantNotFound(t, err)

	must(t, cs.CreateUserLink(ctx, &storage.UserLink{TenantID: tenantA, ConnectorID: "gh", Subject: "42", UserID: "user-1", CreatedAt: f.now}))
	must(t, cs.CreateUserLink(ctx, &storage.UserLink{TenantID: tenantA, ConnectorID: "gh", Subject: "43", UserID: "user-2", CreatedAt: f.now}))
	links, err := cs.ListUserLinks(ctx, tenantA, "user-1")
	must(t, err)
	if len(links) != 2 || links[0].ConnectorID != "corp" || links[1].ConnectorID != "gh" {
		t.Fatalf("ListUserLinks = %+v", links)
	}

	// Users by e-mail: case-insensitive, tenant-scoped.
	byMail, err := cs.UsersByEmail(ctx, tenantA, "ADA@example.com")
	must(t, err)
	if len(byMail) != 1 || byMail[0].ID != "user-1" {
		t.Fatalf("UsersByEmail = %+v", byMail)
	}
	byMail, err = cs.UsersByEmail(ctx, tenantB, "ada@example.com")
	must(t, err)
	if len(byMail) != 0 {
		t.Fatalf("UsersByEmail crossed tenants: %+v", byMail)
	}

	// Deleting the connector removes its links.
	must(t, cs.DeleteConnector(ctx, tenantA, "corp"))
	_, err = cs.UserLink(ctx, tenantA, "corp", "up-1")
	wantNotFound(t, err)
	// Deleting the user removes theirs.
	must(t, us.DeleteUser(ctx, tenantA, "user-1"))
	_, err = cs.UserLink(ctx, tenantA, "gh", "42")
	wantNotFound(t, err)
	// DeleteUserLink.
	must(t, cs.DeleteUserLink(ctx, tenantA, "gh", "43"))
	wantNotFound(t, cs.DeleteUserLink(ctx, tenantA, "gh", "43"))

	// Deleting the tenant removes connectors, links and states.
	must(t, cs.CreateUserLink(ctx, &storage.UserLink{TenantID: tenantA, ConnectorID: "gh", Subject: "43", UserID: "user-2", CreatedAt: f.now}))
	must(t, cs.CreateUpstreamState(ctx, &storage.UpstreamState{TenantID: tenantA, StateHash: "h1",
		ConnectorID: "gh", AuthRequestID: "ar", CreatedAt: f.now, ExpiresAt: f.now.Add(time.Hour)}))
	must(t, f.s.Tenants().DeleteTenant(ctx, tenantA))
	must(t, f.s.Tenants().CreateTenant(ctx, newTenant(tenantA, f.now)))
	list, err := cs.ListConnectors(ctx, tenantA)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("connectors survived their tenant: %+v", list)
	}
	_, err = cs.UserLink(ctx, tenantA, "gh", "43")
	wantNotFound(t, err)
	_, err = cs.ConsumeUpstreamState(ctx, tenantA, "h1", f.now)
	wantNotFound(t, err)
}

// Upstream states are single use, expire, are tenant-scoped and swept.
func testUpstreamStates(t *testing.T, f *fixture) {
	ctx, cs := t.Context(), f.s.Connectors()
	want := &storage.UpstreamState{TenantID: tenantA, StateHash: "hash-1", ConnectorID: "corp",
		AuthRequestID: "req-1", Nonce: "n-1", CodeVerifier: "v-1", CreatedAt: f.now, ExpiresAt: f.now.Add(10 * time.Minute)}
	must(t, cs.CreateUpstreamState(ctx, want))
	wantErr(t, cs.CreateUpstreamState(ctx, want), storage.ErrAlreadyExists)

	_, err := cs.ConsumeUpstreamState(ctx, tenantB, "hash-1", f.now)
	wantNotFound(t, err)
	got, err := cs.ConsumeUpstreamState(ctx, tenantA, "hash-1", f.now)
	must(t, err)
	equal(t, got, want)
	_, err = cs.ConsumeUpstreamState(ctx, tenantA, "hash-1", f.now)
	wantNotFound(t, err)

	// Expired: not returned.
	must(t, cs.CreateUpstreamState(ctx, &storage.UpstreamState{TenantID: tenantA, StateHash: "hash-2",
		CreatedAt: f.now, ExpiresAt: f.now.Add(time.Minute)}))
	_, err = cs.ConsumeUpstreamState(ctx, tenantA, "hash-2", f.now.Add(time.Minute))
	wantNotFound(t, err)

	// Swept once expired.
	must(t, cs.CreateUpstreamState(ctx, &storage.UpstreamState{TenantID: tenantA, StateHash: "hash-3",
		CreatedAt: f.now, ExpiresAt: f.now.Add(time.Minute)}))
	must(t, f.s.Sweep(ctx, f.now.Add(2*time.Minute)))
	_, err = cs.ConsumeUpstreamState(ctx, tenantA, "hash-3", f.now)
	wantNotFound(t, err)

	// Concurrent consumes: exactly one wins.
	must(t, cs.CreateUpstreamState(ctx, &storage.UpstreamState{TenantID: tenantA, StateHash: "hash-4",
		CreatedAt: f.now, ExpiresAt: f.now.Add(time.Hour)}))
	var won atomic.Int32
	errs := race(concurrency, func(int) error {
		_, err := cs.ConsumeUpstreamState(ctx, tenantA, "hash-4", f.now)
		if err == nil {
			won.Add(1)
		}
		return err
	})
	for _, err := range errs {
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("concurrent consume: %v", err)
		}
	}
	if won.Load() != 1 {
		t.Fatalf("%d concurrent consumes won, want 1", won.Load())
	}
}
