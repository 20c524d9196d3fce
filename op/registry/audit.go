package registry

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/herald-idp/herald/storage"
)

// Actor is who performs a registry operation, as the audit log records it.
type Actor struct {
	// Tenant is the tenant of the actor's access token (normally
	// SystemTenant); empty for the command line.
	Tenant string
	// ClientID is the admin client's ID, or "cli" for the command line.
	ClientID string
}

// CLI is the actor of the herald command line, which talks to storage
// directly. A Registry records it unless As names another actor.
var CLI = Actor{ClientID: "cli"}

// As returns a copy of r that records a as the author of every change it
// makes. The admin API calls it once per request with the token's client;
// the zero Registry acts as CLI, so that existing callers need no change.
func (r *Registry) As(a Actor) *Registry {
	c := *r
	c.actor = a
	return &c
}

// Actor is the actor r records.
func (r *Registry) Actor() Actor {
	if r.actor == (Actor{}) {
		return CLI
	}
	return r.actor
}

// Audit actions, "<target type>.<verb>".
const (
	ActionTenantCreate       = "tenant.create"
	ActionTenantUpdate       = "tenant.update"
	ActionTenantDelete       = "tenant.delete"
	ActionTenantDisable      = "tenant.disable"
	ActionTenantEnable       = "tenant.enable"
	ActionClientCreate       = "client.create"
	ActionClientUpdate       = "client.update"
	ActionClientDelete       = "client.delete"
	ActionClientRotateSecret = "client.rotate_secret"
	ActionUserCreate         = "user.create"
	ActionUserUpdate         = "user.update"
	ActionUserDelete         = "user.delete"
	ActionUserSetPassword    = "user.set_password"
)

// Audit target types.
const (
	TargetTenant = "tenant"
	TargetClient = "client"
	TargetUser   = "user"
)

// audit appends an event for a change that has been made. details must
// never hold secrets or hashes: callers pass names of changed fields and
// non-secret values only.
//
// The event is written after the change (so that every event is a change
// that really happened). If it cannot be written the operation reports the
// failure, naming the change, instead of succeeding unaudited.
func (r *Registry) audit(ctx context.Context, action, tenant, targetType, targetID string, details map[string]any) error {
	id, err := uuid.NewRandom()
	if err != nil {
		return fmt.Errorf("%s %s %q made but not audited: %w", action, targetType, targetID, err)
	}
	actor := r.Actor()
	e := &storage.AuditEvent{
		ID:           id.String(),
		Time:         r.now(),
		ActorTenant:  actor.Tenant,
		Actor:        actor.ClientID,
		Action:       action,
		TargetTenant: tenant,
		TargetType:   targetType,
		TargetID:     targetID,
		Details:      details,
	}
	// A cancelled request must not leave a made change unrecorded.
	if err := r.Store.Audit().AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		return fmt.Errorf("%s %s %q made but not audited: %w", action, targetType, targetID, err)
	}
	return nil
}

// ListAudit returns the newest audit events first, of one tenant or (tenant
// "") of all. limit ≤ 0 means storage.DefaultAuditLimit (100); more than
// storage.MaxAuditLimit (1000) is refused.
func (r *Registry) ListAudit(ctx context.Context, tenant string, limit int) ([]*storage.AuditEvent, error) {
	if limit > storage.MaxAuditLimit {
		return nil, &ValidationError{Field: "limit", Message: fmt.Sprintf("must be at most %d", storage.MaxAuditLimit)}
	}
	events, err := r.Store.Audit().ListAudit(ctx, tenant, storage.AuditLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return events, nil
}
