package op_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/herald-idp/herald/op"
	"github.com/herald-idp/herald/storage"
)

// stoppableStore answers every grant, token and user read with
// ErrUnavailable while stopped, as a backend does when its server is down.
// Tenants, clients and keys stay readable: they are cached anyway.
type stoppableStore struct {
	storage.Store
	down atomic.Bool
}

func (s *stoppableStore) err() error {
	if s.down.Load() {
		return fmt.Errorf("dial tcp 127.0.0.1:5432: connection refused: %w", storage.ErrUnavailable)
	}
	return nil
}

func (s *stoppableStore) Grants() storage.Grants { return stoppableGrants{s.Store.Grants(), s} }
func (s *stoppableStore) Tokens() storage.Tokens { return stoppableTokens{s.Store.Tokens(), s} }
func (s *stoppableStore) Users() storage.Users   { return stoppableUsers{s.Store.Users(), s} }

type stoppableGrants struct {
	storage.Grants
	s *stoppableStore
}

func (g stoppableGrants) Grant(ctx context.Context, tenant, id string) (*storage.Grant, error) {
	if err := g.s.err(); err != nil {
		return nil, err
	}
	return g.Grants.Grant(ctx, tenant, id)
}

func (g stoppableGrants) RevokeGrant(ctx context.Context, tenant, id string, now time.Time) error {
	if err := g.s.err(); err != nil {
		return err
	}
	return g.Grants.RevokeGrant(ctx, tenant, id, now)
}

type stoppableTokens struct {
	storage.Tokens
	s *stoppableStore
}

func (t stoppableTokens) AccessToken(ctx context.Context, tenant, id string, now time.Time) (*storage.AccessToken, error) {
	if err := t.s.err(); err != nil {
		return nil, err
	}
	return t.Tokens.AccessToken(ctx, tenant, id, now)
}

func (t stoppableTokens) RefreshToken(ctx context.Context, tenant, id string, now time.Time) (*storage.RefreshToken, error) {
	if err := t.s.err(); err != nil {
		return nil, err
	}
	return t.Tokens.RefreshToken(ctx, tenant, id, now)
}

type stoppableUsers struct {
	storage.Users
	s *stoppableStore
}

func (u stoppableUsers) User(ctx context.Context, tenant, id string) (*storage.User, error) {
	if err := u.s.err(); err != nil {
		return nil, err
	}
	return u.Users.User(ctx, tenant, id)
}

// TestE2EStoreOutage: with the store down, every token check answers 503
// temporarily_unavailable — never 401 invalid_token or active:false, which
// resource servers would take for "revoked" (issue 9).
func TestE2EStoreOutage(t *testing.T) {
	t.Parallel()
	st := &stoppableStore{}
	e := newTestServer(t, withStore(func(s storage.Store) storage.Store { st.Store = s; return st }))
	b := e.newBrowser(t)
	jwt := e.tokens(t, b, e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
	opaque := e.tokens(t, b, e.opaque, oidc.ScopeOpenID)
	e.requireAlive(t, jwt.AccessToken, jwt.RefreshToken)

	st.down.Store(true)
	// The grant-state cache (grantcache.go) may answer for a token checked
	// less than op.GrantStateTTL ago — with what storage said then, never
	// with a refusal. Past it, every check needs storage.
	req, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+jwt.AccessToken)
	if r := e.doJSON(t, req); r.status != http.StatusOK && r.status != http.StatusServiceUnavailable {
		t.Errorf("userinfo (JWT) at the start of the outage: %d %s, want 200 (cached) or 503", r.status, r.body)
	}
	time.Sleep(op.GrantStateTTL + 100*time.Millisecond)
	unavailable := func(what string, r *jsonResponse) {
		t.Helper()
		if r.status != http.StatusServiceUnavailable || r.str("error") != "temporarily_unavailable" {
			t.Errorf("%s during the outage: %d %s, want 503 temporarily_unavailable", what, r.status, r.body)
		}
		requireNoGoErrors(t, what, r.body)
	}
	for name, token := range map[string]string{"JWT": jwt.AccessToken, "opaque": opaque.AccessToken} {
		req, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		unavailable("userinfo ("+name+")", e.doJSON(t, req))
		unavailable("introspection ("+name+")", e.postForm(t, e.issuer+"/introspect", &e.gateway, url.Values{"token": {token}}))
	}
	unavailable("introspection (refresh token)", e.postForm(t, e.issuer+"/introspect", &e.gateway, url.Values{"token": {jwt.RefreshToken}}))
	unavailable("refresh", e.refresh(t, e.web, jwt.RefreshToken))
	unavailable("revocation", e.postForm(t, e.issuer+"/revoke", &e.web, url.Values{"token": {jwt.AccessToken}}))

	st.down.Store(false)
	e.requireAlive(t, jwt.AccessToken, jwt.RefreshToken)
}
