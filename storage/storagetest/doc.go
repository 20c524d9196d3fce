// Package storagetest is the storage contract suite: Run exercises any
// storage.Store backend with the same subtests (CRUD, tenant isolation,
// expiry, single use under concurrency, cascades, sweeping, hostnames,
// audit log). Every backend's test calls it; RunNotifier does the same for
// storage.Notifier backends. It imports only storage and the standard library.
package storagetest
