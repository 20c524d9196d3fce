package registry

import (
	"context"
	"errors"

	"github.com/herald-idp/herald/storage"
)

// Bootstrap prepares the admin API: it creates SystemTenant if it is
// missing and registers a new confidential admin client there, allowed the
// client_credentials grant with AdminScope only. It returns the client's ID
// and secret (shown this once) and the issuer to request tokens from
// ({publicURL}/t/system; publicURL "" means r.PublicURL). Each call makes
// another client, so that every operator or automation can have its own
// and lose it alone.
func (r *Registry) Bootstrap(ctx context.Context, publicURL string) (clientID, secret, issuer string, err error) {
	if publicURL == "" {
		publicURL = r.PublicURL
	}
	if _, err := r.tenant(ctx, SystemTenant); errors.Is(err, storage.ErrNotFound) {
		_, err = r.createTenant(ctx, TenantSpec{Name: SystemTenant, DisplayName: "Herald administration"})
		// Two bootstraps racing: the loser uses the winner's tenant.
		if err != nil && !errors.Is(err, storage.ErrAlreadyExists) {
			return "", "", "", err
		}
	} else if err != nil {
		return "", "", "", err
	}
	c, secret, err := r.CreateClient(ctx, SystemTenant, ClientSpec{
		Name:              "Herald admin",
		GrantTypes:        []string{GrantClientCredentials},
		Scopes:            []string{AdminScope},
		AccessTokenFormat: storage.AccessTokenJWT,
	})
	if err != nil {
		return "", "", "", err
	}
	return c.ID, secret, IssuerURL(publicURL, SystemTenant), nil
}
