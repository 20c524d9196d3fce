package op

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/storage"
)

// Revocation answers RFC 7009. Whatever token_type_hint says (§2.1: it is
// only a hint), the token is looked up as a refresh token and as an access
// token; if it was issued to the authenticated client, its whole grant is
// revoked in one write, which ends every token of it — on every replica at
// once, since grants are read at every use. Unknown tokens and tokens of
// other clients get 200 as well (§2.2), so nothing leaks about them. A
// store outage is a 503, never a 200 that did nothing.
func (p *protocolServer) Revocation(ctx context.Context, r *zop.ClientRequest[oidc.RevocationRequest]) (*zop.Response, error) {
	s := p.s
	c := r.Client.(*client)
	t := c.tenant
	now := s.now()
	token := r.Data.Token
	var grantID string
	rt, err := s.store.Tokens().RefreshToken(ctx, t.Name, hashToken(token), now)
	switch {
	case err == nil:
		if rt.ClientID == c.GetID() {
			grantID = rt.GrantID
		}
	case !errors.Is(err, storage.ErrNotFound):
		return nil, storageError(ctx, "revoke", err)
	default:
		info, err := s.checkAccessToken(ctx, t, token)
		switch {
		case err == nil:
			if info.at.ClientID == c.GetID() {
				grantID = info.grant.ID
			}
		case !errors.Is(err, errInactive):
			return nil, storageError(ctx, "revoke", err)
		}
	}
	if grantID != "" {
		if err := s.revokeGrant(ctx, t.Name, grantID, now); err != nil {
			return nil, storageError(ctx, "revoke", err)
		}
	}
	return zop.NewResponse(nil), nil
}

// revokeGrant revokes one grant. A client_credentials grant is also
// forgotten by this replica at once, so that its next token belongs to the
// next epoch (grantcheck.go); other replicas move on within
// clientCredentialsGrantTTL.
func (s *Server) revokeGrant(ctx context.Context, tenant, grantID string, now time.Time) error {
	if err := s.store.Grants().RevokeGrant(ctx, tenant, grantID, now); err != nil {
		return err
	}
	slog.InfoContext(ctx, "grant revoked", "tenant", tenant)
	if strings.HasPrefix(grantID, "cc-") {
		s.ccGrants.Purge()
	}
	return nil
}
