package main

import (
	"context"

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
	cfg, envErr := loadConfig()
	fs := newFlagSet(c, "keys list", "--tenant TENANT [flags]",
		"Lists a tenant's signing keys, newest first, as {\"keys\":[{\"kid\",\"alg\",\"status\",\n"+
			"\"created_at\"}]}. The public keys are in the tenant's JWKS ({issuer}/jwks); the\n"+
			"private keys are never printed.")
	var tenant string
	fs.StringVar(&tenant, "tenant", "", "tenant `name` (required)")
	a, err := setup(ctx, c, fs, cfg, envErr, args, map[string]*string{"tenant": &tenant})
	if err != nil {
		return err
	}
	defer a.Close()
	ks, err := a.registry.ListKeys(ctx, tenant)
	if err != nil {
		return err
	}
	out := struct {
		Keys []keyJSON `json:"keys"`
	}{Keys: []keyJSON{}}
	for _, k := range ks {
		out.Keys = append(out.Keys, keyJSON{KeyID: k.ID, Algorithm: k.Algorithm, Status: k.Status, CreatedAt: k.CreatedAt})
	}
	return writeJSON(c.stdout, out)
}

func runAuditList(ctx context.Context, c *cli, args []string) error {
	cfg, envErr := loadConfig()
	fs := newFlagSet(c, "audit list", "[--tenant TENANT] [--limit N] [flags]",
		"Lists audit events, newest first, as {\"events\":[...]}: who (actor \"cli\" for this\n"+
			"command line, the admin client's ID for the admin API), what (action, target) and\n"+
			"when. Events of deleted tenants are kept.")
	var (
		tenant string
		limit  int
	)
	fs.StringVar(&tenant, "tenant", "", "only events about this tenant `name` (default: all tenants)")
	fs.IntVar(&limit, "limit", storage.DefaultAuditLimit, "at most `N` events, 1-1000")
	a, err := setup(ctx, c, fs, cfg, envErr, args, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	if limit < 1 {
		return &registry.ValidationError{Field: "limit", Message: "must be a positive integer"}
	}
	events, err := a.registry.ListAudit(ctx, tenant, limit)
	if err != nil {
		return err
	}
	out := struct {
		Events []auditEventJSON `json:"events"`
	}{Events: []auditEventJSON{}}
	for _, e := range events {
		out.Events = append(out.Events, auditEventJSON{
			ID: e.ID, Time: e.Time, ActorTenant: e.ActorTenant, Actor: e.Actor, Action: e.Action,
			TargetTenant: e.TargetTenant, TargetType: e.TargetType, TargetID: e.TargetID, Details: e.Details,
		})
	}
	return writeJSON(c.stdout, out)
}
