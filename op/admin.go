package op

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/op/admin"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// authenticateAdmin verifies the bearer token of an admin API request the
// way any resource server would (RFC 9068 §4): a JWT access token signed by
// the system tenant's key, issued by it, unexpired, still on record (so
// revocation counts), carrying herald:admin and naming the admin API as
// audience. Tokens of other tenants fail the signature and issuer checks.
// "Still on record" is its grant (grantcheck.go): the admin client's
// existence and registration decide, not a per-token row.
func (s *Server) authenticateAdmin(r *http.Request) (admin.Principal, error) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return admin.Principal{}, admin.ErrUnauthenticated
	}
	ctx := r.Context()
	t, err := s.caches.tenant(ctx, registry.SystemTenant)
	if errors.Is(err, storage.ErrNotFound) {
		return admin.Principal{}, fmt.Errorf("%w: no system tenant (run herald admin bootstrap)", admin.ErrUnauthenticated)
	}
	if err != nil {
		return admin.Principal{}, err
	}
	issuer := s.Issuer(t.Name)
	ctx = zop.ContextWithIssuer(withTenant(ctx, &resolvedTenant{tenant: t, issuer: issuer}), issuer)
	claims, err := zop.VerifyAccessToken[*oidc.AccessTokenClaims](ctx, token, s.provider.AccessTokenVerifier(ctx))
	if err != nil {
		return admin.Principal{}, fmt.Errorf("%w: %v", admin.ErrUnauthenticated, err)
	}
	// The token lives only as long as its grant, the admin client's
	// registration: deleting the client or revoking the token ends it.
	grantID, ok := grantOfJTI(claims.JWTID)
	if !ok {
		return admin.Principal{}, fmt.Errorf("%w: not an access token", admin.ErrUnauthenticated)
	}
	if _, err := s.checkGrantNow(ctx, t, grantID, claims.ClientID, s.now()); err != nil {
		if errors.Is(err, errInactive) {
			return admin.Principal{}, fmt.Errorf("%w: token revoked", admin.ErrUnauthenticated)
		}
		return admin.Principal{}, err
	}
	if !slices.Contains(claims.Scopes, registry.AdminScope) {
		return admin.Principal{}, admin.ErrForbidden
	}
	if !slices.Contains(claims.Audience, s.AdminAudience()) {
		return admin.Principal{}, fmt.Errorf("%w: audience", admin.ErrUnauthenticated)
	}
	return admin.Principal{Tenant: t.Name, ClientID: claims.ClientID, Scopes: claims.Scopes}, nil
}
