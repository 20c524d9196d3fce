package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/herald-idp/herald/storage"
)

// downStore is a real store whose tenant lookups fail as a backend does
// when its database is unreachable.
type downStore struct {
	storage.Store
	err error
}

func (s downStore) Tenants() storage.Tenants { return downTenants{s.Store.Tenants(), s.err} }

type downTenants struct {
	storage.Tenants
	err error
}

func (t downTenants) Tenant(context.Context, string) (*storage.Tenant, error) { return nil, t.err }
func (t downTenants) ListTenants(context.Context) ([]*storage.Tenant, error)  { return nil, t.err }

func TestStorageFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"unavailable", fmt.Errorf("dial tcp 10.0.0.5:5432: connection refused: %w", storage.ErrUnavailable), 503, "temporarily_unavailable"},
		{"internal", errors.New("sql: Scan error on column index 3: secret detail"), 500, "server_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := newAPI(t)
			reg := *base.reg
			reg.Store = downStore{base.store, tc.err}
			a := serve(t, &reg, base.store)
			for _, path := range []string{"/tenants", "/tenants/acme", "/tenants/acme/clients", "/tenants/acme/users/x"} {
				res := a.call(t, http.MethodGet, path, nil)
				res.wantError(t, tc.status, tc.code)
				if tc.status == 503 && res.header.Get("Retry-After") == "" {
					t.Error("503 without Retry-After")
				}
			}
		})
	}
}

// errorBodyOf decodes an error answer.
func errorBodyOf(t *testing.T, r response) errorBody {
	t.Helper()
	var body errorBody
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return body
}

// The answers name what is missing, taken or invalid, in the API's own
// field names, with no storage wording.
func TestErrorsNameRecordAndField(t *testing.T) {
	a := newAPI(t)
	a.call(t, http.MethodPost, "/tenants/acme/clients", map[string]any{"client_id": "web", "redirect_uris": []string{"https://a.test/cb"}}).
		want(t, http.StatusCreated)
	a.call(t, http.MethodPatch, "/tenants/acme", map[string]any{"hostnames": []string{"login.acme.test"}}).want(t, http.StatusOK)

	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		code, description  string
		field, message     string // the one field named, if any
	}{
		{"missing client", http.MethodGet, "/tenants/acme/clients/nope", nil,
			404, "not_found", `client "nope" in tenant "acme" not found`, "", ""},
		{"missing tenant", http.MethodGet, "/tenants/nope/clients", nil,
			404, "not_found", `tenant "nope" not found`, "", ""},
		{"missing user", http.MethodGet, "/tenants/acme/users/nope", nil,
			404, "not_found", `user "nope" in tenant "acme" not found`, "", ""},
		{"duplicate client", http.MethodPost, "/tenants/acme/clients", map[string]any{"client_id": "web", "redirect_uris": []string{"https://a.test/cb"}},
			409, "conflict", `client "web" in tenant "acme" already exists`, "", ""},
		{"duplicate tenant", http.MethodPost, "/tenants", map[string]any{"name": "acme"},
			409, "conflict", `tenant "acme" already exists`, "", ""},
		{"taken hostname", http.MethodPost, "/tenants", map[string]any{"name": "beta", "hostnames": []string{"login.acme.test"}},
			409, "conflict", `tenant "beta": hostname "login.acme.test" is claimed by tenant "acme"`,
			"hostnames", `hostname "login.acme.test" is claimed by tenant "acme"`},
		{"invalid field, RFC 7591 name", http.MethodPost, "/tenants/acme/clients", map[string]any{"client_id": "x y", "redirect_uris": []string{"https://a.test/cb"}},
			400, "invalid_request", "the request has invalid fields", "client_id", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := a.call(t, tc.method, tc.path, tc.body).want(t, tc.status)
			body := errorBodyOf(t, res)
			if body.Error != tc.code {
				t.Errorf("error %q, want %q", body.Error, tc.code)
			}
			if body.Description != tc.description {
				t.Errorf("description %q, want %q", body.Description, tc.description)
			}
			if strings.Contains(string(res.body), "storage:") {
				t.Errorf("storage wording leaked: %s", res.body)
			}
			switch {
			case tc.field == "" && len(body.Fields) != 0:
				t.Errorf("fields %+v, want none", body.Fields)
			case tc.field != "" && (len(body.Fields) != 1 || body.Fields[0].Field != tc.field):
				t.Errorf("fields %+v, want exactly %q", body.Fields, tc.field)
			case tc.message != "" && body.Fields[0].Message != tc.message:
				t.Errorf("field message %q, want %q", body.Fields[0].Message, tc.message)
			}
		})
	}
}

// A bare sentinel (no record named) still gets its status and a generic
// description, never the sentinel's Go text.
func TestBareSentinels(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{storage.ErrNotFound, 404, "not_found"},
		{fmt.Errorf("insert: %w", storage.ErrAlreadyExists), 409, "conflict"},
	} {
		rec := httptest.NewRecorder()
		fail(rec, httptest.NewRequest(http.MethodGet, "/x", nil), tc.err, nil)
		body := errorBodyOf(t, response{status: rec.Code, body: rec.Body.Bytes()})
		if rec.Code != tc.status || body.Error != tc.code || body.Description == "" || strings.Contains(body.Description, "storage") {
			t.Errorf("%v: %d %+v", tc.err, rec.Code, body)
		}
	}
}
