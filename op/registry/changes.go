package registry

import "context"

// This file is how the registry reports changes: every method that changes
// a tenant, one of its clients or its keys calls r.changed after its write
// succeeded (and before the audit event, so that caches are dropped even
// when the audit log fails). User changes report nothing: users are read
// fresh on every use.

// WithOnChange returns a copy of r that reports changes to f instead of
// r.OnChange. The server derives the admin API's registry this way from the
// one cmd/herald built, so that its changes reach the server's caches.
func (r *Registry) WithOnChange(f func(ctx context.Context, tenant string)) *Registry {
	c := *r
	c.OnChange = f
	return &c
}

// changed tells OnChange (if set) that tenant changed. The change is made:
// a cancelled request must not keep other replicas from hearing of it.
func (r *Registry) changed(ctx context.Context, tenant string) {
	if r.OnChange != nil {
		r.OnChange(context.WithoutCancel(ctx), tenant)
	}
}
