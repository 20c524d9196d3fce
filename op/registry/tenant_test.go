package registry

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

var admin = Actor{Tenant: SystemTenant, ClientID: "ops"}

func ptr[T any](v T) *T { return &v }

// lastAudit returns the newest audit event.
func lastAudit(t *testing.T, r *Registry) *storage.AuditEvent {
	t.Helper()
	events, err := r.ListAudit(t.Context(), "", 1)
	if err != nil || len(events) != 1 {
		t.Fatalf("ListAudit = %v, %v", events, err)
	}
	return events[0]
}

func TestCreateTenantWithHostnamesAndSettings(t *testing.T) {
	r := newRegistry(t).As(admin)
	ctx := t.Context()
	tn, err := r.CreateTenant(ctx, TenantSpec{
		Name: "acme", SigningAlgorithm: "ES256",
		Hostnames: []string{"login.acme.test", "id.acme.test", "login.acme.test"},
		Settings: storage.TenantSettings{
			AccentColor: "#AABBCC", PasswordMinLength: 16, AllowedSigningAlgorithms: []string{"ES256"},
			CustomClaims: []storage.ClaimMapping{{Claim: "plan", Attribute: "plan_level", Targets: []string{"id_token", "id_token"}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := r.GetTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []*storage.Tenant{tn, stored} {
		if !slices.Equal(got.Hostnames, []string{"id.acme.test", "login.acme.test"}) ||
			got.Settings.AccentColor != "#aabbcc" || got.Settings.PasswordMinLength != 16 ||
			!slices.Equal(got.Settings.CustomClaims[0].Targets, []string{"id_token"}) {
			t.Fatalf("tenant = %+v", got)
		}
	}
	e := lastAudit(t, r)
	if e.Action != ActionTenantCreate || e.Actor != "ops" || e.ActorTenant != SystemTenant ||
		e.TargetTenant != "acme" || e.TargetType != TargetTenant || e.TargetID != "acme" || !e.Time.Equal(testNow) {
		t.Fatalf("audit event %+v", e)
	}

	// A hostname claimed by acme cannot be claimed by another tenant.
	_, err = r.CreateTenant(ctx, TenantSpec{Name: "beta", Hostnames: []string{"login.acme.test"}})
	if !errors.Is(err, storage.ErrHostnameTaken) || !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("taken hostname: want ErrHostnameTaken, got %v", err)
	}
	if _, err := r.GetTenant(ctx, "beta"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the refused tenant must not exist: %v", err)
	}
}

func TestCreateTenantRefusals(t *testing.T) {
	r := newRegistry(t)
	ctx := t.Context()
	for _, tc := range []struct {
		name  string
		spec  TenantSpec
		field string
	}{
		{"reserved system", TenantSpec{Name: SystemTenant}, "name"},
		{"public host", TenantSpec{Name: "a", Hostnames: []string{"id.example.com"}}, "hostnames"},
		{"bad hostname", TenantSpec{Name: "a", Hostnames: []string{"https://x.example"}}, "hostnames"},
		{"alg outside allowed", TenantSpec{Name: "a", SigningAlgorithm: "EdDSA", Settings: storage.TenantSettings{AllowedSigningAlgorithms: []string{"RS256"}}}, "settings.allowed_signing_algorithms"},
	} {
		_, err := r.CreateTenant(ctx, tc.spec)
		wantFieldError(t, err, tc.field)
	}
	if list, _ := r.ListTenants(ctx); len(list) != 0 {
		t.Fatalf("refused tenants were stored: %v", list)
	}
}

func TestUpdateTenant(t *testing.T) {
	r := newTenant(t).As(admin)
	ctx := t.Context()
	if _, err := r.UpdateTenant(ctx, "acme", TenantUpdate{Settings: &SettingsUpdate{
		AccentColor: ptr("#112233"), AccessTokenLifetime: ptr(5 * time.Minute),
	}}); err != nil {
		t.Fatal(err)
	}
	// A second update of other settings keeps the first ones.
	tn, err := r.UpdateTenant(ctx, "acme", TenantUpdate{
		DisplayName: ptr("  Acme Inc.  "), SigningAlgorithm: ptr("EdDSA"),
		Hostnames: &[]string{"login.acme.test"},
		Settings:  &SettingsUpdate{PasswordMinLength: ptr(10)},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := tn.Settings
	if tn.DisplayName != "Acme Inc." || tn.SigningAlgorithm != "EdDSA" || !slices.Equal(tn.Hostnames, []string{"login.acme.test"}) ||
		s.AccentColor != "#112233" || s.AccessTokenLifetime != 5*time.Minute || s.PasswordMinLength != 10 {
		t.Fatalf("tenant = %+v", tn)
	}
	keys, err := r.ListKeys(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(keys, func(k KeyInfo) bool { return k.Algorithm == "EdDSA" && k.Status == storage.KeyActive }) {
		t.Fatalf("switching to EdDSA must create an EdDSA key: %+v", keys)
	}
	e := lastAudit(t, r)
	if e.Action != ActionTenantUpdate || !slices.Equal(e.Details["changed"].([]any), []any{"display_name", "signing_alg", "hostnames", "settings.password_min_length"}) {
		t.Fatalf("audit event %+v", e)
	}

	// Invalid updates change nothing.
	for _, tc := range []struct {
		u     TenantUpdate
		field string
	}{
		{TenantUpdate{SigningAlgorithm: ptr("HS256")}, "signing_alg"},
		{TenantUpdate{DisplayName: ptr("a\x00")}, "display_name"},
		{TenantUpdate{Hostnames: &[]string{"Login.acme.test"}}, "hostnames"},
		{TenantUpdate{Settings: &SettingsUpdate{SessionIdleTimeout: ptr(48 * time.Hour), SessionAbsoluteLifetime: ptr(time.Hour)}}, "settings.session_idle_timeout"},
		{TenantUpdate{Settings: &SettingsUpdate{AllowedSigningAlgorithms: &[]string{"RS256"}}}, "settings.allowed_signing_algorithms"},
		{TenantUpdate{Settings: &SettingsUpdate{CustomClaims: &[]storage.ClaimMapping{{Claim: "iss", Attribute: "x"}}}}, "settings.custom_claims[0].claim"},
	} {
		_, err := r.UpdateTenant(ctx, "acme", tc.u)
		wantFieldError(t, err, tc.field)
	}
	after, _ := r.GetTenant(ctx, "acme")
	if after.DisplayName != "Acme Inc." || after.SigningAlgorithm != "EdDSA" || len(after.Settings.CustomClaims) != 0 {
		t.Fatalf("an invalid update changed the tenant: %+v", after)
	}
	if _, err := r.UpdateTenant(ctx, "nope", TenantUpdate{DisplayName: ptr("x")}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown tenant: want ErrNotFound, got %v", err)
	}
}

func TestDisableEnableDeleteTenant(t *testing.T) {
	r := newTenant(t).As(admin)
	ctx := t.Context()
	tn, err := r.DisableTenant(ctx, "acme")
	if err != nil || !tn.Disabled {
		t.Fatalf("DisableTenant = %+v, %v", tn, err)
	}
	if e := lastAudit(t, r); e.Action != ActionTenantDisable {
		t.Fatalf("audit action %q", e.Action)
	}
	if tn, err = r.EnableTenant(ctx, "acme"); err != nil || tn.Disabled {
		t.Fatalf("EnableTenant = %+v, %v", tn, err)
	}
	if e := lastAudit(t, r); e.Action != ActionTenantEnable {
		t.Fatalf("audit action %q", e.Action)
	}
	if err := r.DeleteTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.GetTenant(ctx, "acme"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("deleted tenant: %v", err)
	}
	if err := r.DeleteTenant(ctx, "acme"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("second delete: want ErrNotFound, got %v", err)
	}
	events, err := r.ListAudit(ctx, "acme", 0)
	if err != nil || len(events) == 0 || events[0].Action != ActionTenantDelete {
		t.Fatalf("the deletion must be audited and outlive the tenant: %v, %v", events, err)
	}
}

func TestSystemTenantIsProtected(t *testing.T) {
	r := newRegistry(t)
	ctx := t.Context()
	id, secret, issuer, err := r.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if issuer != "https://id.example.com/t/system" || len(secret) < 43 || id == "" {
		t.Fatalf("Bootstrap = %q, %q, %q", id, secret, issuer)
	}
	c, err := r.Store.Clients().Client(ctx, SystemTenant, id)
	if err != nil {
		t.Fatal(err)
	}
	if !VerifyClientSecret(secret, c.SecretHash) || !slices.Equal(c.GrantTypes, []string{GrantClientCredentials}) ||
		!slices.Equal(c.Scopes, []string{AdminScope}) || c.IsPublic() {
		t.Fatalf("admin client %+v", c)
	}
	if e := lastAudit(t, r); e.Action != ActionClientCreate || e.Actor != "cli" || e.TargetTenant != SystemTenant {
		t.Fatalf("bootstrap must be audited as the CLI: %+v", e)
	}
	// A second bootstrap adds a client to the existing tenant.
	id2, _, _, err := r.Bootstrap(ctx, "https://other.example")
	if err != nil || id2 == id {
		t.Fatalf("second Bootstrap = %q, %v", id2, err)
	}
	if cs, _ := r.ListClients(ctx, SystemTenant); len(cs) != 2 {
		t.Fatalf("want 2 admin clients, got %d", len(cs))
	}

	_, err = r.DisableTenant(ctx, SystemTenant)
	wantFieldError(t, err, "disabled")
	wantFieldError(t, r.DeleteTenant(ctx, SystemTenant), "name")
	if tn, err := r.GetTenant(ctx, SystemTenant); err != nil || tn.Disabled {
		t.Fatalf("system tenant = %+v, %v", tn, err)
	}
}
