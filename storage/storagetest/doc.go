// Package storagetest is the storage contract suite: Run exercises any
// storage.Store backend with the same subtests (CRUD, tenant isolation,
// expiry, single use under concurrency, cascades, sweeping). Every backend's
// test calls it. It imports only storage and the standard library.
package storagetest
