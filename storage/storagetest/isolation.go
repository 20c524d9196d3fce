package storagetest

import (
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

// populate stores one record of every tenant-scoped kind in tenant, with
// fixed IDs so that tests can look them up (in this and other tenants).
func populate(t *testing.T, s storage.Store, tenant string, now time.Time) {
	t.Helper()
	ctx := t.Context()
	must(t, s.Clients().CreateClient(ctx, newClient(tenant, "web", now)))
	must(t, s.Users().CreateUser(ctx, newUser(tenant, "user-1", "ada", now)))
	must(t, s.Keys().CreateKey(ctx, newKey(tenant, "kid-1", now)))
	must(t, s.Consents().GrantConsent(ctx, &storage.Consent{TenantID: tenant, UserID: "user-1",
		ClientID: "web", Scopes: []string{"openid"}, UpdatedAt: now}))
	must(t, s.AuthRequests().CreateAuthRequest(ctx, newAuthRequest(tenant, "req-1", now)))
	must(t, s.AuthCodes().CreateAuthCode(ctx, newAuthCode(tenant, "hash-1", "grant-1", now)))
	must(t, s.Sessions().CreateSession(ctx, newSession(tenant, "sess-1", "user-1", now)))
	must(t, s.Grants().CreateGrant(ctx, newGrant(tenant, "grant-1", now)))
	must(t, s.Tokens().IssueTokens(ctx, newAccessToken(tenant, "at-1", "grant-1", now),
		newRefreshToken(tenant, "rt-1", "grant-1", now)))
}

// lookups reads every record populate stored; each entry returns the
// lookup's error.
func lookups(s storage.Store, tenant string, now time.Time) map[string]func(*testing.T) error {
	return map[string]func(*testing.T) error{
		"client": func(t *testing.T) error { _, err := s.Clients().Client(t.Context(), tenant, "web"); return err },
		"user":   func(t *testing.T) error { _, err := s.Users().User(t.Context(), tenant, "user-1"); return err },
		"user by username": func(t *testing.T) error {
			_, err := s.Users().UserByUsername(t.Context(), tenant, "ada")
			return err
		},
		"consent": func(t *testing.T) error {
			_, err := s.Consents().Consent(t.Context(), tenant, "user-1", "web")
			return err
		},
		"auth request": func(t *testing.T) error {
			_, err := s.AuthRequests().AuthRequest(t.Context(), tenant, "req-1")
			return err
		},
		"session": func(t *testing.T) error {
			_, err := s.Sessions().Session(t.Context(), tenant, "sess-1", now)
			return err
		},
		"access token": func(t *testing.T) error {
			_, err := s.Tokens().AccessToken(t.Context(), tenant, "at-1", now)
			return err
		},
		"refresh token": func(t *testing.T) error {
			_, err := s.Tokens().RefreshToken(t.Context(), tenant, "rt-1", now)
			return err
		},
		"signing key": func(t *testing.T) error {
			keys, err := s.Keys().ListKeys(t.Context(), tenant)
			if err == nil && len(keys) == 0 {
				return storage.ErrNotFound
			}
			return err
		},
		"client list": func(t *testing.T) error {
			list, err := s.Clients().ListClients(t.Context(), tenant)
			if err == nil && len(list) == 0 {
				return storage.ErrNotFound
			}
			return err
		},
		"user list": func(t *testing.T) error {
			list, err := s.Users().ListUsers(t.Context(), tenant)
			if err == nil && len(list) == 0 {
				return storage.ErrNotFound
			}
			return err
		},
	}
}

func testTenantIsolation(t *testing.T, f *fixture) {
	ctx, s, now := t.Context(), f.s, f.now
	populate(t, s, tenantA, now)

	for name, lookup := range lookups(s, tenantB, now) {
		t.Run("read "+name, func(t *testing.T) { wantNotFound(t, lookup(t)) })
	}

	// Single-use and mutating operations addressed to B leave A alone.
	_, err := s.AuthCodes().ConsumeAuthCode(ctx, tenantB, "hash-1", now)
	wantNotFound(t, err)
	err = s.Tokens().RotateRefreshToken(ctx, tenantB, "rt-1", now, newAccessToken(tenantB, "at-2", "grant-1", now), nil)
	wantNotFound(t, err)
	wantNotFound(t, s.Sessions().TouchSession(ctx, tenantB, "sess-1", now, now.Add(time.Hour)))
	wantNotFound(t, s.Clients().DeleteClient(ctx, tenantB, "web"))
	wantNotFound(t, s.Users().DeleteUser(ctx, tenantB, "user-1"))
	_, err = s.Clients().UpdateClient(ctx, tenantB, "web", func(*storage.Client) error { return nil })
	wantNotFound(t, err)
	_, err = s.Users().UpdateUser(ctx, tenantB, "user-1", func(*storage.User) error { return nil })
	wantNotFound(t, err)
	_, err = s.AuthRequests().UpdateAuthRequest(ctx, tenantB, "req-1", func(*storage.AuthRequest) error { return nil })
	wantNotFound(t, err)
	_, err = s.Keys().UpdateKey(ctx, tenantB, "kid-1", func(*storage.SigningKey) error { return nil })
	wantNotFound(t, err)
	must(t, s.Sessions().DeleteSession(ctx, tenantB, "sess-1"))
	must(t, s.Sessions().DeleteUserSessions(ctx, tenantB, "user-1"))
	must(t, s.AuthRequests().DeleteAuthRequest(ctx, tenantB, "req-1"))
	must(t, s.Grants().RevokeGrant(ctx, tenantB, "grant-1", now))
	must(t, s.Consents().RevokeConsent(ctx, tenantB, "user-1", "web"))

	for name, lookup := range lookups(s, tenantA, now) {
		t.Run("still in A "+name, func(t *testing.T) { must(t, lookup(t)) })
	}
	code, err := s.AuthCodes().ConsumeAuthCode(ctx, tenantA, "hash-1", now)
	must(t, err)
	if code.TenantID != tenantA {
		t.Fatalf("consumed code of tenant %q", code.TenantID)
	}
}

func testDeleteTenantCascades(t *testing.T, f *fixture) {
	ctx, s, now := t.Context(), f.s, f.now
	populate(t, s, tenantA, now)
	populate(t, s, tenantB, now)

	must(t, s.Tenants().DeleteTenant(ctx, tenantA))
	// Recreate the tenant: nothing of the old one may reappear.
	must(t, s.Tenants().CreateTenant(ctx, newTenant(tenantA, now)))

	for name, lookup := range lookups(s, tenantA, now) {
		t.Run("gone "+name, func(t *testing.T) { wantNotFound(t, lookup(t)) })
	}
	_, err := s.AuthCodes().ConsumeAuthCode(ctx, tenantA, "hash-1", now)
	wantNotFound(t, err)
	for name, lookup := range lookups(s, tenantB, now) {
		t.Run("kept "+name, func(t *testing.T) { must(t, lookup(t)) })
	}
	_, err = s.AuthCodes().ConsumeAuthCode(ctx, tenantB, "hash-1", now)
	must(t, err)
	// The IDs are free again in the recreated tenant.
	populate(t, s, tenantA, now)
}
