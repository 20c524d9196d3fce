package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op/password"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/storage/sqlite"
)

// Tokens the fake authenticator understands. The real one (the lead's)
// verifies JWT access tokens of the system tenant; these tests cover what
// the handler does with its verdicts.
const (
	tokenAdmin       = "admin-token"   // system tenant, herald:admin
	tokenNoScope     = "noscope-token" // ErrForbidden
	tokenInvalid     = "invalid-token" // ErrUnauthenticated
	tokenOtherTenant = "acme-token"    // accepted by a buggy authenticator: tenant acme
	tokenScopeless   = "scopeless"     // accepted by a buggy authenticator: no scope
	tokenDown        = "down-token"    // the authenticator cannot reach storage
	adminClient      = "ops-client"
	strongPassword   = "correct horse battery staple"
)

func fakeAuth(r *http.Request) (Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return Principal{}, ErrUnauthenticated
	}
	switch strings.TrimPrefix(h, "Bearer ") {
	case tokenAdmin:
		return Principal{Tenant: registry.SystemTenant, ClientID: adminClient, Scopes: []string{"openid", registry.AdminScope}}, nil
	case tokenNoScope:
		return Principal{}, fmt.Errorf("token lacks scope: %w", ErrForbidden)
	case tokenOtherTenant:
		return Principal{Tenant: "acme", ClientID: "x", Scopes: []string{registry.AdminScope}}, nil
	case tokenScopeless:
		return Principal{Tenant: registry.SystemTenant, ClientID: "x", Scopes: []string{"openid"}}, nil
	case tokenDown:
		return Principal{}, fmt.Errorf("load keys: %w", storage.ErrUnavailable)
	}
	return Principal{}, fmt.Errorf("signature: %w", ErrUnauthenticated)
}

type testAPI struct {
	ts    *httptest.Server
	reg   *registry.Registry
	store *sqlite.Store
}

// newAPI serves the admin API at /admin/v1, mounted the way the lead
// mounts it, over a fresh SQLite store with tenant acme.
func newAPI(t *testing.T) *testAPI {
	t.Helper()
	return newAPIWith(t, registry.TenantSpec{Name: "acme"}, nil)
}

// newAPIWith is newAPI with tenant acme as spec says, the registry's
// OnChange and options for the key manager.
func newAPIWith(t *testing.T, acme registry.TenantSpec, onChange func(context.Context, string), opts ...keys.Option) *testAPI {
	t.Helper()
	ctx := t.Context()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	km, err := keys.NewManager(store.Keys(), make([]byte, 32), opts...)
	if err != nil {
		t.Fatal(err)
	}
	params := password.Params{MemoryKiB: password.MinMemoryKiB, Iterations: 1, Parallelism: 1}
	reg := &registry.Registry{Store: store, Keys: km, Passwords: password.NewHasher(params, 4, time.Minute),
		PublicURL: "https://id.example.com", OnChange: onChange}
	if _, err := reg.CreateTenant(ctx, acme); err != nil {
		t.Fatal(err)
	}
	return serve(t, reg, store)
}

func serve(t *testing.T, reg *registry.Registry, store *sqlite.Store) *testAPI {
	root := chi.NewRouter()
	root.Mount("/admin/v1", NewHandler(reg, fakeAuth))
	ts := httptest.NewServer(root)
	t.Cleanup(ts.Close)
	return &testAPI{ts: ts, reg: reg, store: store}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return v
}

// call sends a request as the admin. body: nil (none), a string (sent
// as is) or a value (JSON-encoded).
func (a *testAPI) call(t *testing.T, method, path string, body any) response {
	t.Helper()
	return a.send(t, method, path, body, "application/json", tokenAdmin)
}

func (a *testAPI) send(t *testing.T, method, path string, body any, contentType, token string) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, a.ts.URL+"/admin/v1"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := a.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := response{status: res.StatusCode, header: res.Header, body: raw}
	// Whatever the route or outcome: never cached, never a Go error or a
	// password hash.
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s %s: Cache-Control %q, want no-store", method, path, cc)
	}
	for _, leak := range []string{"$argon2id$", "$2a$", "$2b$", "sql:", "goroutine", ".go:"} {
		if bytes.Contains(raw, []byte(leak)) {
			t.Errorf("%s %s: response contains %q: %s", method, path, leak, raw)
		}
	}
	return out
}

// want fails unless the response has the status.
func (r response) want(t *testing.T, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

// wantField fails unless the response is a 400 naming field.
func (r response) wantField(t *testing.T, field string) {
	t.Helper()
	r.want(t, http.StatusBadRequest)
	var body errorBody
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Error != "invalid_request" {
		t.Fatalf("error %q, want invalid_request", body.Error)
	}
	for _, f := range body.Fields {
		if f.Field == field && f.Message != "" {
			return
		}
	}
	t.Fatalf("no error on field %q: %s", field, r.body)
}

// wantError fails unless the response has the status and error code.
func (r response) wantError(t *testing.T, status int, code string) {
	t.Helper()
	r.want(t, status)
	var body errorBody
	if err := json.Unmarshal(r.body, &body); err != nil || body.Error != code || body.Description == "" {
		t.Fatalf("body %s, want error %q with a description", r.body, code)
	}
}

// audit returns the newest audit events of tenant.
func (a *testAPI) audit(t *testing.T, tenant string) []*storage.AuditEvent {
	t.Helper()
	events, err := a.reg.ListAudit(t.Context(), tenant, 0)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// wantAudit fails unless the newest event of tenant is action by the admin
// client on target.
func (a *testAPI) wantAudit(t *testing.T, tenant, action, target string) {
	t.Helper()
	events := a.audit(t, tenant)
	if len(events) == 0 {
		t.Fatalf("no audit events for %s", tenant)
	}
	e := events[0]
	if e.Action != action || e.TargetID != target || e.Actor != adminClient || e.ActorTenant != registry.SystemTenant {
		t.Fatalf("newest audit event %+v, want %s on %s by %s", e, action, target, adminClient)
	}
}
