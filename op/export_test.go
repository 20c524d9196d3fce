package op

// GrantStateTTL lets the external tests wait out the grant-state cache
// (grantcache.go) instead of repeating its lifetime.
const GrantStateTTL = grantStateTTL
