package registry

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

func TestUpdateClient(t *testing.T) {
	r := newTenant(t).As(admin)
	ctx := t.Context()
	web := []string{"https://a.example.com/cb"}
	_, secret, err := r.CreateClient(ctx, "acme", ClientSpec{ID: "web", RedirectURIs: web})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.CreateClient(ctx, "acme", ClientSpec{ID: "spa", Public: true, RedirectURIs: web}); err != nil {
		t.Fatal(err)
	}

	c, err := r.UpdateClient(ctx, "acme", "web", ClientUpdate{
		Name: ptr("Web"), AuthMethod: ptr(storage.AuthMethodPost), RedirectURIs: &[]string{"https://b.example.com/cb"},
		Scopes: &[]string{"openid", "orders:read"}, FirstParty: ptr(true), AccessTokenLifetime: ptr(time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Web" || c.AuthMethod != storage.AuthMethodPost || !slices.Equal(c.RedirectURIs, []string{"https://b.example.com/cb"}) ||
		!c.FirstParty || c.AccessTokenLifetime != time.Minute || c.SecretHash != "" || !c.CreatedAt.Equal(testNow) {
		t.Fatalf("updated client %+v", c)
	}
	stored, _ := r.Store.Clients().Client(ctx, "acme", "web")
	if !VerifyClientSecret(secret, stored.SecretHash) {
		t.Fatal("an update must keep the secret")
	}
	if e := lastAudit(t, r); e.Action != ActionClientUpdate || e.TargetID != "web" {
		t.Fatalf("audit event %+v", e)
	}

	spa, err := r.UpdateClient(ctx, "acme", "spa", ClientUpdate{ApplicationType: ptr(storage.AppTypeNative), RedirectURIs: &[]string{"com.example.app:/cb"}})
	if err != nil || spa.ApplicationType != storage.AppTypeNative || !spa.IsPublic() {
		t.Fatalf("SPA to native: %+v, %v", spa, err)
	}

	for _, tc := range []struct {
		id    string
		u     ClientUpdate
		field string
	}{
		{"web", ClientUpdate{AuthMethod: ptr(storage.AuthMethodNone)}, "auth_method"},
		{"spa", ClientUpdate{AuthMethod: ptr(storage.AuthMethodBasic)}, "auth_method"},
		{"web", ClientUpdate{ApplicationType: ptr(storage.AppTypeNative)}, "application_type"},
		{"spa", ClientUpdate{ApplicationType: ptr(storage.AppTypeWeb)}, "application_type"},
		{"web", ClientUpdate{RedirectURIs: &[]string{"http://evil.example/cb"}}, "redirect_uris"},
		{"web", ClientUpdate{RedirectURIs: &[]string{}}, "redirect_uris"},
		{"spa", ClientUpdate{GrantTypes: &[]string{"client_credentials"}}, "grant_types"},
		{"web", ClientUpdate{Name: ptr("a\nb")}, "name"},
		{"web", ClientUpdate{IDTokenLifetime: ptr(-time.Second)}, "id_token_lifetime"},
	} {
		_, err := r.UpdateClient(ctx, "acme", tc.id, tc.u)
		wantFieldError(t, err, tc.field)
	}
	if after, _ := r.GetClient(ctx, "acme", "web"); after.Name != "Web" || after.AuthMethod != storage.AuthMethodPost {
		t.Fatalf("invalid updates changed the client: %+v", after)
	}
	if _, err := r.UpdateClient(ctx, "acme", "nope", ClientUpdate{Name: ptr("x")}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown client: want ErrNotFound, got %v", err)
	}
}

func TestGetListDeleteClient(t *testing.T) {
	r := newTenant(t).As(admin)
	ctx := t.Context()
	if _, _, err := r.CreateClient(ctx, "acme", ClientSpec{ID: "web", RedirectURIs: []string{"https://a.example.com/cb"}}); err != nil {
		t.Fatal(err)
	}
	c, err := r.GetClient(ctx, "acme", "web")
	if err != nil || c.SecretHash != "" {
		t.Fatalf("GetClient = %+v, %v (the hash must not leave the registry)", c, err)
	}
	cs, err := r.ListClients(ctx, "acme")
	if err != nil || len(cs) != 1 || cs[0].SecretHash != "" {
		t.Fatalf("ListClients = %v, %v", cs, err)
	}
	if err := r.DeleteClient(ctx, "acme", "web"); err != nil {
		t.Fatal(err)
	}
	if e := lastAudit(t, r); e.Action != ActionClientDelete || e.TargetID != "web" {
		t.Fatalf("audit event %+v", e)
	}
	if _, err := r.GetClient(ctx, "acme", "web"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("deleted client: %v", err)
	}
	if err := r.DeleteClient(ctx, "acme", "web"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := r.ListClients(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("clients of unknown tenant: %v", err)
	}
}

func TestUserLifecycle(t *testing.T) {
	r := newTenant(t).As(admin)
	ctx := t.Context()
	u, err := r.CreateUser(ctx, "acme", UserSpec{Username: "alice", Email: "alice@example.com", EmailVerified: true,
		Password: goodPassword, Attributes: map[string]any{"plan_level": "gold"}})
	if err != nil {
		t.Fatal(err)
	}
	if e := lastAudit(t, r); e.Action != ActionUserCreate || e.TargetID != u.ID || e.Details["username"] != "alice" {
		t.Fatalf("audit event %+v", e)
	}
	got, err := r.GetUser(ctx, "acme", u.ID)
	if err != nil || got.PasswordHash != "" || got.Attributes["plan_level"] != "gold" {
		t.Fatalf("GetUser = %+v, %v", got, err)
	}
	sess := &storage.Session{TenantID: "acme", ID: "s1", UserID: u.ID, AuthTime: testNow, CreatedAt: testNow,
		IdleExpiresAt: testNow.Add(time.Hour), AbsoluteExpiresAt: testNow.Add(time.Hour)}
	if err := r.Store.Sessions().CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}

	got, err = r.UpdateUser(ctx, "acme", u.ID, UserUpdate{Email: ptr("alice@new.example"), Name: ptr(" Alice "),
		Attributes: &map[string]any{"groups": []any{"admins"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != "alice@new.example" || got.EmailVerified || got.Name != "Alice" || got.PasswordHash != "" ||
		got.Attributes["plan_level"] != nil || got.Attributes["groups"] == nil {
		t.Fatalf("updated user %+v (a new e-mail must be unverified; attributes replaced)", got)
	}
	if _, err := r.Store.Sessions().Session(ctx, "acme", "s1", testNow); err != nil {
		t.Fatalf("a profile change must not end sessions: %v", err)
	}
	for _, tc := range []struct {
		u     UserUpdate
		field string
	}{
		{UserUpdate{Email: ptr("not-an-email")}, "email"},
		{UserUpdate{GivenName: ptr("x\x00")}, "given_name"},
		{UserUpdate{Attributes: &map[string]any{"bad name": 1}}, "attributes"},
	} {
		_, err := r.UpdateUser(ctx, "acme", u.ID, tc.u)
		wantFieldError(t, err, tc.field)
	}

	if got, err = r.UpdateUser(ctx, "acme", u.ID, UserUpdate{Disabled: ptr(true)}); err != nil || !got.Disabled {
		t.Fatalf("disable: %+v, %v", got, err)
	}
	if _, err := r.Store.Sessions().Session(ctx, "acme", "s1", testNow); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("disabling a user must end their sessions: %v", err)
	}
	if e := lastAudit(t, r); e.Details["disabled"] != true {
		t.Fatalf("audit event %+v", e)
	}

	us, err := r.ListUsers(ctx, "acme")
	if err != nil || len(us) != 1 || us[0].PasswordHash != "" {
		t.Fatalf("ListUsers = %v, %v", us, err)
	}
	if err := r.DeleteUser(ctx, "acme", u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.GetUser(ctx, "acme", u.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("deleted user: %v", err)
	}
	if err := r.DeleteUser(ctx, "acme", u.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestTenantPasswordPolicy(t *testing.T) {
	r := newTenant(t)
	ctx := t.Context()
	// Default: 12 characters.
	_, err := r.CreateUser(ctx, "acme", UserSpec{Username: "a", Password: "elevenchars"})
	wantFieldError(t, err, "password")

	// zxcvbn scores 8 characters at most 2, so a tenant that allows them
	// also lowers the strength floor.
	if _, err := r.UpdateTenant(ctx, "acme", TenantUpdate{Settings: &SettingsUpdate{PasswordMinLength: ptr(8), PasswordMinScore: ptr(2)}}); err != nil {
		t.Fatal(err)
	}
	u, err := r.CreateUser(ctx, "acme", UserSpec{Username: "a", Password: "k7#pQ2!v"})
	if err != nil {
		t.Fatalf("8 characters must do with password_min_length 8: %v", err)
	}
	if _, err := r.UpdateTenant(ctx, "acme", TenantUpdate{Settings: &SettingsUpdate{PasswordMinLength: ptr(20)}}); err != nil {
		t.Fatal(err)
	}
	wantFieldError(t, r.SetPassword(ctx, "acme", u.ID, "nineteen characters"), "password")
	if err := r.SetPassword(ctx, "acme", u.ID, "twenty characters!!!"); err != nil {
		t.Fatal(err)
	}
	if e := lastAudit(t, r); e.Action != ActionUserSetPassword || e.TargetID != u.ID || len(e.Details) != 0 {
		t.Fatalf("audit event %+v", e)
	}
}

func TestListKeysShowsNoKeyMaterial(t *testing.T) {
	r := newTenant(t)
	ks, err := r.ListKeys(t.Context(), "acme")
	if err != nil || len(ks) == 0 {
		t.Fatalf("ListKeys = %v, %v", ks, err)
	}
	for _, k := range ks {
		if k.ID == "" || k.Algorithm != "RS256" || (k.Status != storage.KeyActive && k.Status != storage.KeyNext) || !k.CreatedAt.After(time.Time{}) {
			t.Fatalf("key %+v", k)
		}
	}
	if _, err := r.ListKeys(t.Context(), "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown tenant: %v", err)
	}
}

func TestAuditRecordsNoSecrets(t *testing.T) {
	r := newTenant(t).As(admin)
	ctx := t.Context()
	c, secret, err := r.CreateClient(ctx, "acme", ClientSpec{ID: "web", RedirectURIs: []string{"https://a.example.com/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := r.RotateClientSecret(ctx, "acme", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	u, err := r.CreateUser(ctx, "acme", UserSpec{Username: "alice", Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetPassword(ctx, "acme", u.ID, "another long passphrase"); err != nil {
		t.Fatal(err)
	}
	stored, _ := r.Store.Users().User(ctx, "acme", u.ID)
	storedClient, _ := r.Store.Clients().Client(ctx, "acme", c.ID)
	events, err := r.ListAudit(ctx, "acme", 0)
	if err != nil || len(events) < 4 {
		t.Fatalf("ListAudit = %d events, %v", len(events), err)
	}
	for _, e := range events {
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		text := string(raw)
		for _, s := range []string{secret, rotated, goodPassword, "another long passphrase", stored.PasswordHash, storedClient.SecretHash} {
			if strings.Contains(text, s) {
				t.Fatalf("audit event %s leaks a secret", e.Action)
			}
		}
	}
	_, err = r.ListAudit(ctx, "", 1001)
	wantFieldError(t, err, "limit")
}

func TestOnChangeForTenantsAndClients(t *testing.T) {
	r := newTenant(t)
	var changed []string
	r.OnChange = func(_ context.Context, tenant string) { changed = append(changed, tenant) }
	r = r.As(admin) // the hook survives As
	ctx := t.Context()
	if _, err := r.CreateTenant(ctx, TenantSpec{Name: "beta"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.CreateClient(ctx, "acme", ClientSpec{ID: "svc", GrantTypes: []string{GrantClientCredentials}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.RotateClientSecret(ctx, "acme", "svc"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateUser(ctx, "acme", UserSpec{Username: "alice", Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.UpdateTenant(ctx, "beta", TenantUpdate{DisplayName: ptr("Beta")}); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteClient(ctx, "acme", "svc"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateTenant(ctx, TenantSpec{Name: "Bad"}); err == nil {
		t.Fatal("want a validation error")
	}
	if want := []string{"beta", "acme", "acme", "beta", "acme"}; !slices.Equal(changed, want) {
		t.Fatalf("OnChange calls %v, want %v", changed, want)
	}
}
