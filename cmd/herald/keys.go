package main

import (
	"context"
	"encoding/json"
	"io"
	"strconv"

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
	d := newAppCommand(c, "audit list", "[--tenant TENANT] [--limit N] [--event E] [--user ID] [--since T] [--until T] [--cursor C] [--jsonl] [flags]",
		"Lists audit events, newest first, as {\"events\":[...]}: who (actor \"cli\" for this\n"+
			"command line, the admin client's ID for the admin API), what (action, target) and\n"+
			"when. Events of deleted tenants are kept.\n\n"+
			"With --auth, or any of --event, --user, --since, --until, --cursor, --jsonl, it\n"+
			"lists the tenant's authentication trail instead (logins, throttling, logout,\n"+
			"consent, code replay, refresh reuse, password changes; --tenant required) as\n"+
			"{\"events\":[...],\"next_cursor\":\"...\"}, or with --jsonl every matching event\n"+
			"as JSON lines. Example: herald audit list --tenant acme --event login.failed")
	var (
		tenant, event, user, since, until, cursor string
		limit                                     int
		auth, jsonl                               bool
	)
	d.fs.StringVar(&tenant, "tenant", "", "only events about this tenant `name` (default: all tenants)")
	d.fs.IntVar(&limit, "limit", storage.DefaultAuditLimit, "at most `N` events, 1-1000")
	d.fs.BoolVar(&auth, "auth", false, "list the tenant's authentication trail")
	d.fs.StringVar(&event, "event", "", "authentication trail: only this `event` (login.failed, login.throttled, ...)")
	d.fs.StringVar(&user, "user", "", "authentication trail: only events of this user `ID`")
	d.fs.StringVar(&since, "since", "", "authentication trail: from this RFC 3339 `time`")
	d.fs.StringVar(&until, "until", "", "authentication trail: before this RFC 3339 `time`")
	d.fs.StringVar(&cursor, "cursor", "", "authentication trail: the `next_cursor` of the previous page")
	d.fs.BoolVar(&jsonl, "jsonl", false, "authentication trail: every matching event as JSON lines (export)")
	return d.run(ctx, args, func(a *app) (any, error) {
		if limit < 1 {
			return nil, &registry.ValidationError{Field: "limit", Message: "must be a positive integer"}
		}
		if !auth && !jsonl && event == "" && user == "" && since == "" && until == "" && cursor == "" {
			events, err := a.registry.ListAudit(ctx, tenant, limit)
			return renderedList("events", events, err, admin.RenderAuditEvent)
		}
		if tenant == "" {
			return nil, &registry.ValidationError{Field: "tenant", Message: "is required for the authentication trail"}
		}
		values := map[string]string{"event": event, "user": user, "since": since, "until": until,
			"cursor": cursor, "limit": strconv.Itoa(limit)}
		f, err := admin.AuthEventFilter(func(k string) string { return values[k] })
		if err != nil {
			return nil, err
		}
		if jsonl {
			return jsonLines{}, exportAuthEvents(ctx, c.stdout, a.registry, tenant, f)
		}
		events, err := a.registry.ListAuthEvents(ctx, tenant, f)
		if err != nil {
			return nil, err
		}
		next := ""
		if len(events) > 0 && len(events) == storage.AuditLimit(f.Limit) {
			next = strconv.FormatInt(events[len(events)-1].Seq, 10)
		}
		return struct {
			Events     []admin.AuthEventJSON `json:"events"`
			NextCursor string                `json:"next_cursor"`
		}{admin.RenderList("events", events, admin.RenderAuthEvent)["events"], next}, nil
	})
}

// jsonLines marks output already written as JSON lines.
type jsonLines struct{}

// exportAuthEvents writes every event matching f as JSON lines, newest
// first, a page of MaxAuditLimit at a time.
func exportAuthEvents(ctx context.Context, w io.Writer, reg *registry.Registry, tenant string, f storage.AuthEventFilter) error {
	f.Limit = storage.MaxAuditLimit
	enc := json.NewEncoder(w)
	for {
		events, err := reg.ListAuthEvents(ctx, tenant, f)
		if err != nil {
			return err
		}
		for _, e := range events {
			if err := enc.Encode(admin.RenderAuthEvent(e)); err != nil {
				return err
			}
		}
		if len(events) < f.Limit {
			return nil
		}
		f.Before = events[len(events)-1].Seq
	}
}
