package op

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/herald-idp/herald/storage"
)

// This file keeps, per replica, what the validity of a token depends on
// besides its signature and expiry: its grant and, for a user's grant, the
// user. Reading both from storage at every use cost more CPU than the RS256
// verification of the token itself (two PostgreSQL round trips per userinfo
// or introspection request; docs/benchmarks.md, W7).
//
// The promise (docs/tokens.md, "Consistency across replicas"):
//
//   - A change made through this replica — a revocation of any kind, a
//     logout, a password change, a user disabled, updated or deleted, a
//     consent withdrawn, a client deleted — takes effect here at once.
//     Every write through the Server's store that can end a grant or change
//     a user advances an epoch when it returns (grantStateStore), and an
//     entry read under an older epoch is never used.
//   - A change made anywhere else (another replica, the herald CLI) takes
//     effect here within grantStateTTL, by expiry alone: no announcement has
//     to arrive, so a lost or late message cannot stretch the bound.
//   - Minting never relies on the cache: IssueTokens and RotateRefreshToken
//     check the grant in the same transaction as their write, so a token
//     minted concurrently with a revocation still dies with its grant.
//   - Admin API tokens are checked against storage on every request
//     (checkGrantNow): a deleted admin client stops working at once on every
//     replica.

const (
	// grantStateTTL bounds how long a revocation made elsewhere can go
	// unseen here. Issue 9 allows one second; half of it leaves room for
	// the read that filled the entry and for the request that uses it.
	grantStateTTL = 500 * time.Millisecond
	// grantStateCacheSize bounds the grants remembered (each entry holds a
	// grant and a user record, about a kilobyte).
	grantStateCacheSize = 8192
)

// grantState is a grant as storage returned it and, for a user's grant,
// its user (nil for client_credentials). Both are shared by every request
// that finds them in the cache: read-only.
type grantState struct {
	epoch uint64 // grantStates.epoch when the read began
	grant *storage.Grant
	user  *storage.User
}

// grantStates is the per-replica cache of grant states.
type grantStates struct {
	// epoch advances after every local write that may end a grant or
	// change a user; entries read under an older epoch are stale.
	epoch   atomic.Uint64
	entries *expirable.LRU[string, grantState]
}

func newGrantStates() *grantStates {
	return &grantStates{entries: expirable.NewLRU[string, grantState](grantStateCacheSize, nil, grantStateTTL)}
}

func grantStateKey(tenant, grantID string) string { return tenant + "\x00" + grantID }

// get returns the cached state of the grant if it was read under the
// current epoch and has not expired.
func (c *grantStates) get(tenant, grantID string) (grantState, bool) {
	st, ok := c.entries.Get(grantStateKey(tenant, grantID))
	if !ok || st.epoch != c.epoch.Load() {
		return grantState{}, false
	}
	return st, true
}

// put remembers st, which was read from storage after st.epoch was
// loaded: if a local write has advanced the epoch since, the read may
// predate it and is not kept.
func (c *grantStates) put(tenant, grantID string, st grantState) {
	if st.epoch != c.epoch.Load() {
		return
	}
	c.entries.Add(grantStateKey(tenant, grantID), st)
}

// changed marks every cached state stale. Writers call it after their
// write returns, failed or not (a failed call may still have committed).
func (c *grantStates) changed() { c.epoch.Add(1) }

// grantStateStore is the Server's view of storage: writes that can end a
// grant or change a user advance the grant-state epoch when they return.
// Each wrapper below implements its whole interface, without embedding, so
// that a method added to one of them fails to compile here until someone
// decides whether it must advance the epoch.
type grantStateStore struct {
	storage.Store
	states *grantStates
}

func (s grantStateStore) Grants() storage.Grants {
	return grantStateGrants{s.Store.Grants(), s.states}
}
func (s grantStateStore) Users() storage.Users { return grantStateUsers{s.Store.Users(), s.states} }
func (s grantStateStore) Clients() storage.Clients {
	return grantStateClients{s.Store.Clients(), s.states}
}
func (s grantStateStore) Consents() storage.Consents {
	return grantStateConsents{s.Store.Consents(), s.states}
}

type grantStateGrants struct {
	g      storage.Grants
	states *grantStates
}

func (g grantStateGrants) CreateGrant(ctx context.Context, gr *storage.Grant) error {
	return g.g.CreateGrant(ctx, gr)
}

func (g grantStateGrants) Grant(ctx context.Context, tenant, id string) (*storage.Grant, error) {
	return g.g.Grant(ctx, tenant, id)
}

func (g grantStateGrants) RevokeGrant(ctx context.Context, tenant, id string, now time.Time) error {
	defer g.states.changed()
	return g.g.RevokeGrant(ctx, tenant, id, now)
}

func (g grantStateGrants) RevokeUserGrants(ctx context.Context, tenant, userID string, now time.Time) error {
	defer g.states.changed()
	return g.g.RevokeUserGrants(ctx, tenant, userID, now)
}

func (g grantStateGrants) RevokeClientGrants(ctx context.Context, tenant, clientID string, now time.Time) error {
	defer g.states.changed()
	return g.g.RevokeClientGrants(ctx, tenant, clientID, now)
}

func (g grantStateGrants) RevokeSessionGrants(ctx context.Context, tenant, sessionID string, now time.Time) error {
	defer g.states.changed()
	return g.g.RevokeSessionGrants(ctx, tenant, sessionID, now)
}

func (g grantStateGrants) RevokeUserGrantsExcept(ctx context.Context, tenant, userID, keepSessionID string, now time.Time) error {
	defer g.states.changed()
	return g.g.RevokeUserGrantsExcept(ctx, tenant, userID, keepSessionID, now)
}

type grantStateUsers struct {
	u      storage.Users
	states *grantStates
}

func (u grantStateUsers) CreateUser(ctx context.Context, user *storage.User) error {
	return u.u.CreateUser(ctx, user)
}

func (u grantStateUsers) User(ctx context.Context, tenant, id string) (*storage.User, error) {
	return u.u.User(ctx, tenant, id)
}

func (u grantStateUsers) UserByUsername(ctx context.Context, tenant, username string) (*storage.User, error) {
	return u.u.UserByUsername(ctx, tenant, username)
}

func (u grantStateUsers) ListUsers(ctx context.Context, tenant string) ([]*storage.User, error) {
	return u.u.ListUsers(ctx, tenant)
}

// UpdateUser advances the epoch: userinfo and introspection answer from
// the cached user record, and a disabled user's tokens must stop at once.
func (u grantStateUsers) UpdateUser(ctx context.Context, tenant, id string, update func(*storage.User) error) (*storage.User, error) {
	defer u.states.changed()
	return u.u.UpdateUser(ctx, tenant, id, update)
}

func (u grantStateUsers) DeleteUser(ctx context.Context, tenant, id string) error {
	defer u.states.changed()
	return u.u.DeleteUser(ctx, tenant, id)
}

type grantStateClients struct {
	c      storage.Clients
	states *grantStates
}

func (c grantStateClients) CreateClient(ctx context.Context, cl *storage.Client) error {
	return c.c.CreateClient(ctx, cl)
}

func (c grantStateClients) Client(ctx context.Context, tenant, id string) (*storage.Client, error) {
	return c.c.Client(ctx, tenant, id)
}

func (c grantStateClients) ListClients(ctx context.Context, tenant string) ([]*storage.Client, error) {
	return c.c.ListClients(ctx, tenant)
}

// UpdateClient does not advance the epoch: the client registration a token
// is checked against comes from the tenant cache (tenantcache.go), which
// the registry's change forgets.
func (c grantStateClients) UpdateClient(ctx context.Context, tenant, id string, update func(*storage.Client) error) (*storage.Client, error) {
	return c.c.UpdateClient(ctx, tenant, id, update)
}

func (c grantStateClients) DeleteClient(ctx context.Context, tenant, id string) error {
	defer c.states.changed()
	return c.c.DeleteClient(ctx, tenant, id)
}

type grantStateConsents struct {
	c      storage.Consents
	states *grantStates
}

func (c grantStateConsents) Consent(ctx context.Context, tenant, userID, clientID string) (*storage.Consent, error) {
	return c.c.Consent(ctx, tenant, userID, clientID)
}

func (c grantStateConsents) GrantConsent(ctx context.Context, con *storage.Consent) error {
	return c.c.GrantConsent(ctx, con)
}

func (c grantStateConsents) RevokeConsent(ctx context.Context, tenant, userID, clientID string) error {
	defer c.states.changed()
	return c.c.RevokeConsent(ctx, tenant, userID, clientID)
}

func (c grantStateConsents) ListUserConsents(ctx context.Context, tenant, userID string) ([]*storage.Consent, error) {
	return c.c.ListUserConsents(ctx, tenant, userID)
}
