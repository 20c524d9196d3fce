package main

import (
	"context"

	"github.com/herald-idp/herald/op/admin"
)

// userMFACommands are "herald user mfa status|reset" (docs/mfa.md).
func userMFACommands() map[string]command {
	return map[string]command{
		"status": {"show whether a user has a second factor", runUserMFAStatus},
		"reset":  {"remove a user's second factor (lost device)", runUserMFAReset},
	}
}

func runUserMFAStatus(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "user mfa status", userTargetSynopsis,
		"Shows whether the user has a second factor, as the admin API does:\n"+
			"{\"enabled\",\"pending\",\"confirmed_at\",\"recovery_codes_left\"} (never the secret or codes).")
	t := newUserTarget(d)
	return t.run(ctx, d, args, func(a *app, id string) (any, error) {
		s, err := a.registry.UserMFA(ctx, t.tenant, id)
		return rendered(s, err, admin.RenderUserMFA)
	})
}

func runUserMFAReset(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "user mfa reset", userTargetSynopsis,
		"Removes the user's second factor and recovery codes (a lost device). The next sign-in\n"+
			"asks for the password only, or sets up a new factor where the tenant requires one.\n"+
			"Prints the status afterwards.")
	t := newUserTarget(d)
	return t.run(ctx, d, args, func(a *app, id string) (any, error) {
		if err := a.registry.ResetUserMFA(ctx, t.tenant, id); err != nil {
			return nil, err
		}
		s, err := a.registry.UserMFA(ctx, t.tenant, id)
		return rendered(s, err, admin.RenderUserMFA)
	})
}
