package registry

import (
	"context"
	"fmt"

	"github.com/herald-idp/herald/storage"
)

// ListAuthEvents returns the tenant's authentication events matching f,
// newest first (the admin API's and CLI's `audit list`). An unknown tenant
// is ErrNotFound (the events of a deleted tenant stay stored until their
// retention ends, but are no longer listed).
func (r *Registry) ListAuthEvents(ctx context.Context, tenant string, f storage.AuthEventFilter) ([]*storage.AuthEvent, error) {
	var p problems
	if tenant == "" {
		p.add("tenant", "is required")
	}
	if f.Limit > storage.MaxAuditLimit {
		p.add("limit", "must be at most %d", storage.MaxAuditLimit)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		p.add("until", "must be after since")
	}
	if f.Before < 0 {
		p.add("cursor", "is not a cursor from a previous page")
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	if _, err := r.tenant(ctx, tenant); err != nil {
		return nil, err
	}
	events, err := r.Store.AuthEvents().ListAuthEvents(ctx, tenant, f)
	if err != nil {
		return nil, fmt.Errorf("list auth events of tenant %q: %w", tenant, err)
	}
	return events, nil
}
