package main

import (
	"context"

	"github.com/herald-idp/herald/op/admin"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

func keysCommands() map[string]command {
	return map[string]command{
		"list": {"list a tenant's signing keys (IDs and states, never key material)", runKeysList},
	}
}

func auditCommands() map[string]command {
	return map[string]command{
		"list": {"list audit events, newest first", runAuditList},
	}
}

func runKeysList(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "keys list", "--tenant TENANT [flags]",
		"Lists a tenant's signing keys, newest first, as {\"keys\":[{\"kid\",\"alg\",\"status\",\n"+
			"\"created_at\"}]}. The public keys are in the tenant's JWKS ({issuer}/jwks); the\n"+
			"private keys are never printed.")
	var tenant string
	d.tenantFlag(&tenant)
	return d.run(ctx, args, func(a *app) (any, error) {
		ks, err := a.registry.ListKeys(ctx, tenant)
		return renderedList("keys", ks, err, admin.RenderKey)
	})
}

func runAuditList(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "audit list", "[--tenant TENANT] [--limit N] [flags]",
		"Lists audit events, newest first, as {\"events\":[...]}: who (actor \"cli\" for this\n"+
			"command line, the admin client's ID for the admin API), what (action, target) and\n"+
			"when. Events of deleted tenants are kept.")
	var (
		tenant string
		limit  int
	)
	d.fs.StringVar(&tenant, "tenant", "", "only events about this tenant `name` (default: all tenants)")
	d.fs.IntVar(&limit, "limit", storage.DefaultAuditLimit, "at most `N` events, 1-1000")
	return d.run(ctx, args, func(a *app) (any, error) {
		if limit < 1 {
			return nil, &registry.ValidationError{Field: "limit", Message: "must be a positive integer"}
		}
		events, err := a.registry.ListAudit(ctx, tenant, limit)
		return renderedList("events", events, err, admin.RenderAuditEvent)
	})
}
