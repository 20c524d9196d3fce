package op

import (
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/herald-idp/herald/storage"
)

// issuedRefreshTokens remembers, per replica, the records of the refresh
// tokens this replica minted, so that redeeming one here skips reading it
// back (on SQLite that read cost as much CPU as the rotation's write
// transaction; docs/benchmarks.md, W4). A single node on SQLite always
// finds its own tokens here.
//
// Only what never changes is taken from a remembered record: the client,
// grant, user, session, scopes, authentication facts and expiry. Whether
// the token is still unused and its grant live is decided by
// RotateRefreshToken in its transaction, which fails with ErrAlreadyUsed or
// ErrRevoked otherwise; the refresh grant then reads the stored record to
// tell a second tab within the reuse grace window from a replay.
type issuedRefreshTokens struct {
	lru *expirable.LRU[string, *storage.RefreshToken]
}

const (
	// issuedRefreshTokenTTL: a single-page app refreshes every few minutes
	// (its access token's lifetime); an hour covers that with room.
	issuedRefreshTokenTTL = time.Hour
	// issuedRefreshTokenCacheSize bounds the records kept (about half a
	// kilobyte each).
	issuedRefreshTokenCacheSize = 8192
)

func newIssuedRefreshTokens() *issuedRefreshTokens {
	return &issuedRefreshTokens{lru: expirable.NewLRU[string, *storage.RefreshToken](issuedRefreshTokenCacheSize, nil, issuedRefreshTokenTTL)}
}

func issuedRefreshKey(tenant, id string) string { return tenant + "\x00" + id }

// remember keeps rt, just stored. rt must not be changed afterwards.
func (c *issuedRefreshTokens) remember(rt *storage.RefreshToken) {
	if rt != nil {
		c.lru.Add(issuedRefreshKey(rt.TenantID, rt.ID), rt)
	}
}

// lookup returns the remembered record of refresh token id (its hash).
func (c *issuedRefreshTokens) lookup(tenant, id string) (*storage.RefreshToken, bool) {
	return c.lru.Get(issuedRefreshKey(tenant, id))
}

// forget drops the record of a token that has been presented: used or
// refused, it is never worth remembering again.
func (c *issuedRefreshTokens) forget(tenant, id string) {
	c.lru.Remove(issuedRefreshKey(tenant, id))
}
