package redisstore

// NewClientForTest exposes the URL parsing to the external tests, which
// inspect and clean up keys with a client of the same kind (single node,
// Cluster or Sentinel) as the Store's.
var NewClientForTest = newClient
