package registry

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op/password"
	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/storage/sqlite"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newRegistry returns a registry over a fresh SQLite file, with the
// cheapest argon2id parameters op/password accepts.
func newRegistry(t *testing.T) *Registry {
	t.Helper()
	ctx := t.Context()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	km, err := keys.NewManager(store.Keys(), make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	params := password.Params{MemoryKiB: password.MinMemoryKiB, Iterations: 1, Parallelism: 1}
	return &Registry{
		Store:     store,
		Keys:      km,
		Passwords: password.NewHasher(params, 2, time.Minute),
		PublicURL: "https://id.example.com",
		Now:       func() time.Time { return testNow },
	}
}

// newTenant returns a registry with tenant "acme".
func newTenant(t *testing.T) *Registry {
	t.Helper()
	r := newRegistry(t)
	if _, err := r.CreateTenant(t.Context(), TenantSpec{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	return r
}

// wantFieldError fails unless err is a validation failure naming field (or,
// for field == "", unless err is nil).
func wantFieldError(t *testing.T, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	ves := ValidationErrors(err)
	if len(ves) == 0 {
		t.Fatalf("want a validation error on %q, got %v", field, err)
	}
	for _, ve := range ves {
		if ve.Field == field {
			return
		}
	}
	t.Fatalf("want a validation error on %q, got %v", field, err)
}

func TestIssuerURL(t *testing.T) {
	for _, tc := range []struct{ base, tenant, want string }{
		{"https://id.example.com", "acme", "https://id.example.com/t/acme"},
		{"https://id.example.com/", "acme", "https://id.example.com/t/acme"},
		{"http://127.0.0.1:8080/auth", "demo", "http://127.0.0.1:8080/auth/t/demo"},
	} {
		if got := IssuerURL(tc.base, tc.tenant); got != tc.want {
			t.Errorf("IssuerURL(%q, %q) = %q, want %q", tc.base, tc.tenant, got, tc.want)
		}
	}
}

func TestValidationErrorsSplitsJoined(t *testing.T) {
	err := errors.Join(&ValidationError{"a", "x"}, errors.New("other"), &ValidationError{"b", "y"})
	got := ValidationErrors(err)
	if len(got) != 2 || got[0].Field != "a" || got[1].Field != "b" {
		t.Fatalf("ValidationErrors = %v", got)
	}
	if got[0].Error() != "a: x" {
		t.Errorf("Error() = %q", got[0].Error())
	}
	if ValidationErrors(errors.New("plain")) != nil || ValidationErrors(nil) != nil {
		t.Error("non-validation errors must yield nil")
	}
}

func TestCreateTenant(t *testing.T) {
	for _, tc := range []struct {
		name      string
		spec      TenantSpec
		wantField string
		wantAlg   string
	}{
		{"one char", TenantSpec{Name: "a"}, "", "RS256"},
		{"hyphenated", TenantSpec{Name: "acme-prod-1"}, "", "RS256"},
		{"63 chars", TenantSpec{Name: strings.Repeat("a", 63)}, "", "RS256"},
		{"ES256", TenantSpec{Name: "ec", SigningAlgorithm: "ES256"}, "", "ES256"},
		{"EdDSA", TenantSpec{Name: "ed", SigningAlgorithm: "EdDSA"}, "", "EdDSA"},
		{"explicit RS256", TenantSpec{Name: "rs", SigningAlgorithm: "RS256"}, "", "RS256"},
		{"empty name", TenantSpec{Name: ""}, "name", ""},
		{"64 chars", TenantSpec{Name: strings.Repeat("a", 64)}, "name", ""},
		{"upper case", TenantSpec{Name: "Acme"}, "name", ""},
		{"leading hyphen", TenantSpec{Name: "-acme"}, "name", ""},
		{"trailing hyphen", TenantSpec{Name: "acme-"}, "name", ""},
		{"underscore", TenantSpec{Name: "ac_me"}, "name", ""},
		{"dot", TenantSpec{Name: "ac.me"}, "name", ""},
		{"slash", TenantSpec{Name: "ac/me"}, "name", ""},
		{"HS256", TenantSpec{Name: "hs", SigningAlgorithm: "HS256"}, "signing_alg", ""},
		{"none", TenantSpec{Name: "no", SigningAlgorithm: "none"}, "signing_alg", ""},
		{"lower-case alg", TenantSpec{Name: "lc", SigningAlgorithm: "rs256"}, "signing_alg", ""},
		{"control char in display name", TenantSpec{Name: "cc", DisplayName: "a\x00b"}, "display_name", ""},
		{"long display name", TenantSpec{Name: "ld", DisplayName: strings.Repeat("x", 201)}, "display_name", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRegistry(t)
			ctx := t.Context()
			tn, err := r.CreateTenant(ctx, tc.spec)
			wantFieldError(t, err, tc.wantField)
			if tc.wantField != "" {
				if list, _ := r.ListTenants(ctx); len(list) != 0 {
					t.Fatalf("invalid spec stored a tenant: %v", list)
				}
				return
			}
			if tn.SigningAlgorithm != tc.wantAlg || tn.DisplayName != tc.spec.Name || !tn.CreatedAt.Equal(testNow) {
				t.Fatalf("tenant = %+v", tn)
			}
			stored, err := r.Store.Keys().ListKeys(ctx, tc.spec.Name)
			if err != nil {
				t.Fatal(err)
			}
			var algs []string
			for _, k := range stored {
				algs = append(algs, k.Algorithm)
			}
			// RS256 is always published; the chosen alg too.
			if !slices.Contains(algs, "RS256") || !slices.Contains(algs, tc.wantAlg) {
				t.Fatalf("keys for %s: %v", tc.wantAlg, algs)
			}
		})
	}
}

func TestCreateTenantDuplicate(t *testing.T) {
	r := newTenant(t)
	_, err := r.CreateTenant(t.Context(), TenantSpec{Name: "acme"})
	if !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("want ErrAlreadyExists, got %v", err)
	}
	list, err := r.ListTenants(t.Context())
	if err != nil || len(list) != 1 || list[0].Name != "acme" {
		t.Fatalf("ListTenants = %v, %v", list, err)
	}
}

func TestClientSecret(t *testing.T) {
	a, err := NewClientSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewClientSecret()
	if len(a) != 43 || a == b || strings.ContainsAny(a, "+/=") {
		t.Fatalf("secrets %q %q: want 43 distinct base64url characters", a, b)
	}
	h := HashClientSecret(a)
	if len(h) != 64 || strings.Contains(h, a) {
		t.Fatalf("hash %q", h)
	}
	for _, tc := range []struct {
		secret, hash string
		want         bool
	}{
		{a, h, true},
		{b, h, false},
		{a + "x", h, false},
		{"", HashClientSecret(""), true},
		{"", "", false}, // a public client's empty hash never matches
		{a, strings.ToUpper(h), false},
	} {
		if got := VerifyClientSecret(tc.secret, tc.hash); got != tc.want {
			t.Errorf("VerifyClientSecret(%q, %q) = %v, want %v", tc.secret, tc.hash, got, tc.want)
		}
	}
}

func TestUnknownTenantIsNotFound(t *testing.T) {
	r := newRegistry(t)
	ctx := t.Context()
	_, _, err := r.CreateClient(ctx, "nope", ClientSpec{RedirectURIs: []string{"https://app.example.com/cb"}})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("CreateClient: want ErrNotFound, got %v", err)
	}
	_, err = r.CreateUser(ctx, "nope", UserSpec{Username: "alice", Password: "correct horse battery"})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("CreateUser: want ErrNotFound, got %v", err)
	}
	if _, err = r.RotateClientSecret(ctx, "nope", "x"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("RotateClientSecret: want ErrNotFound, got %v", err)
	}
	if err = r.SetPassword(ctx, "nope", "x", "correct horse battery"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SetPassword: want ErrNotFound, got %v", err)
	}
}

func TestCreateTenantNeedsKeyManager(t *testing.T) {
	r := newRegistry(t)
	r.Keys = nil
	if _, err := r.CreateTenant(context.Background(), TenantSpec{Name: "acme"}); err == nil {
		t.Fatal("want an error without a key manager")
	}
}
