package admin

import (
	"net/http"
	"strings"
	"testing"

	"github.com/herald-idp/herald/op/registry"
)

func TestUserRoutes(t *testing.T) {
	a := newAPI(t)
	res := a.call(t, http.MethodPost, "/tenants/acme/users", map[string]any{
		"username": "Alice", "email": "alice@acme.test", "password": strongPassword, "name": "Alice Liddell",
		"attributes": map[string]any{"tenant_id": "t-1", "plan_level": 3, "groups": []string{"admins"}},
	}).want(t, http.StatusCreated)
	u := res.json(t)
	id, _ := u["id"].(string)
	if len(id) != 36 || u["username"] != "alice" || u["email"] != "alice@acme.test" || u["password"] != nil ||
		u["attributes"].(map[string]any)["plan_level"] != 3.0 {
		t.Fatalf("created user %s", res.body)
	}
	if strings.Contains(string(res.body), strongPassword) {
		t.Fatal("the password is echoed")
	}
	if loc := res.header.Get("Location"); loc != "/admin/v1/tenants/acme/users/"+id {
		t.Fatalf("Location %q", loc)
	}
	a.wantAudit(t, "acme", registry.ActionUserCreate, id)

	a.call(t, http.MethodPost, "/tenants/acme/users", map[string]any{"username": "ALICE", "password": strongPassword}).
		wantError(t, http.StatusConflict, "conflict")
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no password", map[string]any{"username": "bob"}, "password"},
		{"short password", map[string]any{"username": "bob", "password": "short"}, "password"},
		{"common password", map[string]any{"username": "bob", "password": "password1234"}, "password"},
		{"no username", map[string]any{"password": strongPassword}, "username"},
		{"bad email", map[string]any{"username": "bob", "password": strongPassword, "email": "bob"}, "email"},
		{"bad attribute", map[string]any{"username": "bob", "password": strongPassword, "attributes": map[string]any{"a b": 1}}, "attributes"},
		{"hash import", map[string]any{"username": "bob", "password_hash": "$2b$10$x"}, "password_hash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a.call(t, http.MethodPost, "/tenants/acme/users", tc.body).wantField(t, tc.field)
		})
	}
	a.call(t, http.MethodPost, "/tenants/nope/users", map[string]any{"username": "bob", "password": strongPassword}).want(t, 404)

	a.call(t, http.MethodGet, "/tenants/acme/users/"+id, nil).want(t, 200)
	if n := len(a.call(t, http.MethodGet, "/tenants/acme/users", nil).want(t, 200).json(t)["users"].([]any)); n != 1 {
		t.Fatalf("want 1 user, got %d", n)
	}
	a.call(t, http.MethodGet, "/tenants/acme/users/nope", nil).wantError(t, http.StatusNotFound, "not_found")
	a.call(t, http.MethodGet, "/tenants/nope/users", nil).want(t, 404)

	res = a.call(t, http.MethodPatch, "/tenants/acme/users/"+id, map[string]any{
		"email": "alice@new.acme.test", "disabled": true, "attributes": map[string]any{"plan_level": "gold"},
	}).want(t, 200)
	if p := res.json(t); p["email"] != "alice@new.acme.test" || p["disabled"] != true || p["name"] != "Alice Liddell" ||
		p["attributes"].(map[string]any)["plan_level"] != "gold" || p["attributes"].(map[string]any)["tenant_id"] != nil {
		t.Fatalf("patched user %s", res.body)
	}
	a.wantAudit(t, "acme", registry.ActionUserUpdate, id)
	a.call(t, http.MethodPatch, "/tenants/acme/users/"+id, map[string]any{"email": "nope"}).wantField(t, "email")
	a.call(t, http.MethodPatch, "/tenants/acme/users/"+id, map[string]any{"username": "bob"}).wantField(t, "username")
	a.call(t, http.MethodPatch, "/tenants/acme/users/nope", map[string]any{"name": "x"}).want(t, 404)

	a.call(t, http.MethodPut, "/tenants/acme/users/"+id+"/password", map[string]any{"password": "another long passphrase"}).
		want(t, http.StatusNoContent)
	a.wantAudit(t, "acme", registry.ActionUserSetPassword, id)
	stored, err := a.store.Users().User(t.Context(), "acme", id)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := a.reg.Passwords.Verify(t.Context(), "another long passphrase", stored.PasswordHash); !ok {
		t.Fatal("the new password does not verify")
	}
	a.call(t, http.MethodPut, "/tenants/acme/users/"+id+"/password", map[string]any{"password": "short"}).wantField(t, "password")
	a.call(t, http.MethodPut, "/tenants/acme/users/nope/password", map[string]any{"password": "another long passphrase"}).want(t, 404)
	a.send(t, http.MethodPut, "/tenants/acme/users/"+id+"/password", "password=x", "application/x-www-form-urlencoded", tokenAdmin).
		want(t, http.StatusUnsupportedMediaType)

	a.call(t, http.MethodDelete, "/tenants/acme/users/"+id, nil).want(t, http.StatusNoContent)
	a.wantAudit(t, "acme", registry.ActionUserDelete, id)
	a.call(t, http.MethodGet, "/tenants/acme/users/"+id, nil).want(t, 404)
	a.call(t, http.MethodDelete, "/tenants/acme/users/"+id, nil).want(t, 404)
}

func TestTenantPasswordPolicyOverAPI(t *testing.T) {
	a := newAPI(t)
	a.call(t, http.MethodPatch, "/tenants/acme", map[string]any{"settings": map[string]any{"password_min_length": 30}}).want(t, 200)
	a.call(t, http.MethodPost, "/tenants/acme/users", map[string]any{"username": "bob", "password": strongPassword}).wantField(t, "password")
	a.call(t, http.MethodPost, "/tenants/acme/users", map[string]any{"username": "bob", "password": strongPassword + " and more"}).want(t, 201)
}
