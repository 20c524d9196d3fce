package op

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/storage"
)

// failingTokens fails every refresh-token lookup with err. A unit test of
// the error mapping only; the revocation endpoint itself is exercised end
// to end in e2e_tokens_test.go.
type failingTokens struct {
	storage.Tokens // nil: any other call panics
	err            error
}

func (f failingTokens) RefreshToken(context.Context, string, string, time.Time) (*storage.RefreshToken, error) {
	return nil, f.err
}

type failingTokenStore struct {
	storage.Store
	err error
}

func (f failingTokenStore) Tokens() storage.Tokens { return failingTokens{err: f.err} }

// TestRevocationStorageErrorDoesNotLeak: a storage failure while the
// revocation endpoint looks up a refresh token reaches the client as an
// OAuth error without the storage error's text (checklist K2), an outage
// as temporarily_unavailable (never a 200 that did nothing).
func TestRevocationStorageErrorDoesNotLeak(t *testing.T) {
	const secret = "pq: password authentication failed for user herald at 10.0.0.7"
	for _, tc := range []struct {
		name     string
		err      error
		wantType string
	}{
		{"outage", fmt.Errorf("postgres: %w: %w", storage.ErrUnavailable, io.ErrUnexpectedEOF), temporarilyUnavailable},
		{"other failure", errors.New(secret), string(oidc.ServerError)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &protocolServer{s: &Server{store: failingTokenStore{err: tc.err}, now: time.Now}}
			req := &zop.ClientRequest[oidc.RevocationRequest]{
				Request: &zop.Request[oidc.RevocationRequest]{Data: &oidc.RevocationRequest{Token: "some-token"}},
				Client:  &client{c: &storage.Client{ID: "web"}, tenant: &storage.Tenant{Name: "acme"}},
			}
			resp, err := p.Revocation(context.Background(), req)
			if err == nil {
				t.Fatalf("revocation answered %+v during a storage failure", resp)
			}
			var oe *oidc.Error
			if !errors.As(err, &oe) {
				t.Fatalf("err = %T %v, want an *oidc.Error", err, err)
			}
			if string(oe.ErrorType) != tc.wantType {
				t.Errorf("error type = %q, want %q", oe.ErrorType, tc.wantType)
			}
			// What the library writes for it (token_revocation.go).
			w := httptest.NewRecorder()
			zop.RevocationRequestError(w, httptest.NewRequest(http.MethodPost, "/revoke", nil), err)
			desc, _ := json.Marshal(oe)
			for _, out := range []string{w.Body.String(), string(desc), oe.Description} {
				if strings.Contains(out, "pq:") || strings.Contains(out, "10.0.0.7") || strings.Contains(out, "postgres") {
					t.Errorf("response leaks the storage error: %s", out)
				}
			}
		})
	}
}
