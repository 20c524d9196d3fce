package main

import (
	"context"
	"encoding/json"
	"io"
	"strconv"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op"
	"github.com/herald-idp/herald/op/admin"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

func keysCommands() map[string]command {
	return map[string]command{
		"list":   {"list a tenant's signing keys (IDs and states, never key material)", runKeysList},
		"rotate": {"rotate a tenant's signing keys now (the published next key starts signing)", runKeysRotate},
		"revoke": {"emergency: remove a key from the JWKS at once; tokens it signed stop verifying", runKeysRevoke},
		"rewrap": {"re-encrypt every signing key under a new key-encryption key", runKeysRewrap},
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

func runKeysRotate(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "keys rotate", "--tenant TENANT [--alg ALG] [flags]",
		"Rotates the tenant's signing keys now: the next key, published in the JWKS since the\n"+
			"previous rotation, signs from now on; the active key is retired (it stays in the JWKS\n"+
			"until every token it signed has expired) and a fresh next key is published. Prints\n"+
			"{\"alg\",\"active\",\"next\"}. Running servers switch at once (change notification;\n"+
			"within a second on SQLite). Fails while the next key has been published for less than\n"+
			"the pre-publication window (docs/keys.md).")
	var tenant, alg string
	d.tenantFlag(&tenant)
	d.fs.StringVar(&alg, "alg", "", "key set to rotate: RS256, ES256 or EdDSA (default: the tenant's signing algorithm)")
	return d.run(ctx, args, func(a *app) (any, error) {
		st, err := a.registry.RotateKeys(ctx, tenant, alg)
		return rendered(st, err, admin.RenderRotation)
	})
}

func runKeysRevoke(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "keys revoke", "--tenant TENANT --kid KID [flags]",
		"Emergency revocation of a compromised key: it leaves the JWKS at once, so every token it\n"+
			"signed fails verification (at /userinfo and /introspect at once, at relying parties when\n"+
			"they refetch the JWKS), and it never signs again. Revoking the active key promotes the\n"+
			"next key immediately. Prints what happened, including a \"message\".")
	var tenant, kid string
	d.tenantFlag(&tenant)
	d.requiredString(&kid, "kid", "key ID to revoke (required; see herald keys list)")
	return d.run(ctx, args, func(a *app) (any, error) {
		res, err := a.registry.RevokeKey(ctx, tenant, kid)
		return rendered(res, err, admin.RenderRevocation)
	})
}

func runKeysRewrap(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "keys rewrap", "[--new-key-file FILE] [flags]",
		"Re-encrypts every tenant's signing keys (and the KEK check value) under a key-encryption\n"+
			"key, while servers keep running: each key is rewritten in its own transaction and\n"+
			"servers open keys with their current or previous KEK.\n"+
			"  With --new-key-file: seal under the KEK in FILE; the configured KEK (and\n"+
			"  HERALD_KEY_ENCRYPTION_KEY_PREVIOUS) open. Every server must already accept the new\n"+
			"  KEK (as HERALD_KEY_ENCRYPTION_KEY_PREVIOUS) before you run it.\n"+
			"  Without: seal under the configured KEK, opening with HERALD_KEY_ENCRYPTION_KEY_PREVIOUS\n"+
			"  (or reading unencrypted keys: how an installation without a KEK gets one).\n"+
			"Connectors' client secrets are re-sealed too.\n"+
			"Prints {\"tenants\",\"resealed\",\"unchanged\",\"secrets_resealed\",\"check_value_resealed\",\n"+
			"\"connector_secrets_resealed\"}.\n"+
			"Safe to run again.\n"+
			"See the KEK runbook in docs/keys.md.")
	var newKeyFile string
	d.fs.StringVar(&newKeyFile, "new-key-file", "", "`file` with the base64 of the new 32-byte KEK (default: the configured KEK)")
	d.cfg.skipKEKCheck = true
	return d.run(ctx, args, func(a *app) (any, error) {
		km := a.keys
		if newKeyFile != "" {
			newKEK, err := readKEKFile("--new-key-file", newKeyFile)
			if err != nil {
				return nil, err
			}
			current, err := a.cfg.keyEncryptionKey()
			if err != nil {
				return nil, err
			}
			prev, err := a.cfg.previousKEK()
			if err != nil {
				return nil, err
			}
			km, err = keys.NewManager(a.store.Keys(), newKEK, keys.WithSecrets(a.store.Secrets()), keys.WithSecondFactors(a.store.SecondFactors()),
				keys.WithPreviousKEK(current), keys.WithPreviousKEK(prev))
			if err != nil {
				return nil, err
			}
		}
		tenants, err := tenantNames(ctx, a.store)
		if err != nil {
			return nil, err
		}
		// Connector client secrets first: the check value, resealed last by
		// Rewrap, marks the change as complete.
		connectors, err := rewrapConnectorSecrets(ctx, a.store, km, tenants) // connector.go
		if err != nil {
			return nil, kekStartupError(err)
		}
		res, err := km.Rewrap(ctx, tenants, op.SealedSecrets...)
		if err != nil {
			return nil, kekStartupError(err)
		}
		return struct {
			Tenants int `json:"tenants"`
			*keys.RewrapResult
			Connectors int `json:"connector_secrets_resealed"`
		}{len(tenants), res, connectors}, nil
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
		return admin.RenderAuthEventPage(events, f.Limit), nil
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
