package op

import (
	"slices"
	"strings"

	"github.com/herald-idp/herald/op/login"
	"github.com/herald-idp/herald/op/upstream"
)

// upstreamConfig turns on sign-in at the tenants' connectors
// (docs/federation.md): the upstream client, the KEK that opens the
// connectors' client secrets, and the registry that creates and links users.
func (s *Server) upstreamConfig() *login.UpstreamConfig {
	return &login.UpstreamConfig{
		Client:     upstream.New(nil),
		OpenSecret: s.keys.OpenConnectorSecret,
		Registry:   s.registry,
	}
}

// splitAMR separates Herald's internal connector marker ("idp:{id}", added
// by op/login for an upstream sign-in) from the amr values tokens carry,
// and returns the connector ID for the idp claim.
func splitAMR(amr []string) (public []string, idp string) {
	i := slices.IndexFunc(amr, func(v string) bool { return strings.HasPrefix(v, login.AMRConnectorPrefix) })
	if i < 0 {
		return amr, ""
	}
	public = slices.Delete(slices.Clone(amr), i, i+1)
	return public, strings.TrimPrefix(amr[i], login.AMRConnectorPrefix)
}
