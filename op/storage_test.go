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
// as temporarily_unavailable, and an unknown token still as "not a refresh
// token" so that the library tries it as an access token (RFC 7009 §2.2).
func TestRevocationStorageErrorDoesNotLeak(t *testing.T) {
	const secret = "pq: password authentication failed for user herald at 10.0.0.7"
	for _, tc := range []struct {
		name     string
		err      error
		wantType string // "" when the library must see ErrInvalidRefreshToken
	}{
		{"unknown token", &storage.NotFoundError{}, ""},
		{"outage", fmt.Errorf("postgres: %w: %w", storage.ErrUnavailable, io.ErrUnexpectedEOF), temporarilyUnavailable},
		{"other failure", errors.New(secret), string(oidc.ServerError)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &opStorage{s: &Server{store: failingTokenStore{err: tc.err}, now: time.Now}}
			_, _, err := a.GetRefreshTokenInfo(context.Background(), "web", "some-token")
			if tc.wantType == "" {
				if !errors.Is(err, zop.ErrInvalidRefreshToken) {
					t.Fatalf("err = %v, want ErrInvalidRefreshToken", err)
				}
				return
			}
			if errors.Is(err, zop.ErrInvalidRefreshToken) {
				t.Fatalf("a storage failure was reported as an unknown token")
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
			zop.RevocationRequestError(w, httptest.NewRequest(http.MethodPost, "/revoke", nil), oidc.ErrServerError().WithParent(err))
			desc, _ := json.Marshal(oe)
			for _, out := range []string{w.Body.String(), string(desc), oe.Description} {
				if strings.Contains(out, "pq:") || strings.Contains(out, "10.0.0.7") || strings.Contains(out, "postgres") {
					t.Errorf("response leaks the storage error: %s", out)
				}
			}
		})
	}
}
