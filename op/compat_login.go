package op

// Removed once op/login lands.
//
// The browser-flow files (authorize.go, login.go, logout.go), which are
// moving to op/login, still use two names that issue 8 items 2-4 replaced.
// They keep working here until the op/login adapter points at the new ones:
//
//	s.storage.client(ctx, id)  →  s.lookupClient(ctx, tenantFromContext(ctx), id)
//	s.cfg.Passwords            →  s.registry.Passwords

import (
	"context"

	"github.com/herald-idp/herald/op/password"
)

// client is the old internal client lookup through the zitadel adapter.
// Removed once op/login lands.
func (a *opStorage) client(ctx context.Context, id string) (*client, error) {
	return a.s.lookupClient(ctx, tenantFromContext(ctx), id)
}

// serverConfig is Config plus the password hasher login.go reads as
// s.cfg.Passwords (the registry's). Removed once op/login lands: Server.cfg
// is then a plain Config again.
type serverConfig struct {
	Config
	Passwords *password.Hasher
}
