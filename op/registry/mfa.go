package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/herald-idp/herald/storage"
)

// MFAPolicies are the values of settings.mfa.policy ("" is optional).
var MFAPolicies = []string{storage.MFAOff, storage.MFAOptional, storage.MFARequired, storage.MFARequiredForClients}

// checkMFA validates a tenant's second-factor policy and returns it
// normalised (optional stored as "", client IDs without duplicates).
func checkMFA(p *problems, m storage.MFASettings) storage.MFASettings {
	switch m.Policy {
	case "", storage.MFAOptional:
		m.Policy = ""
	case storage.MFAOff, storage.MFARequired, storage.MFARequiredForClients:
	default:
		p.add("settings.mfa.policy", "must be one of %s, not %q", strings.Join(MFAPolicies, ", "), m.Policy)
	}
	m.Clients = dedupe(m.Clients)
	for _, id := range m.Clients {
		if !clientIDPattern.MatchString(id) {
			p.add("settings.mfa.clients", "%q is not a client ID", id)
		}
	}
	switch {
	case m.Policy == storage.MFARequiredForClients && len(m.Clients) == 0:
		p.add("settings.mfa.clients", "must name at least one client when the policy is %q", storage.MFARequiredForClients)
	case m.Policy != storage.MFARequiredForClients && len(m.Clients) > 0:
		p.add("settings.mfa.clients", "is only used with the policy %q", storage.MFARequiredForClients)
	}
	if len(m.Clients) == 0 {
		m.Clients = nil
	}
	return m
}

// ActionUserMFAReset is the audit action of an administrator's reset of a
// user's second factor.
const ActionUserMFAReset = "user.mfa_reset"

// MFAStatus is what an administrator may know of a user's second factor:
// never the secret or the recovery codes.
type MFAStatus struct {
	// Enabled: a confirmed TOTP factor is asked for at sign-in.
	Enabled bool
	// Pending: a set-up was started and not confirmed.
	Pending bool
	// ConfirmedAt is when the factor was set up (zero when not enabled).
	ConfirmedAt time.Time
	// RecoveryCodesLeft counts the unused recovery codes.
	RecoveryCodesLeft int
}

// UserMFA reports the user's second factor.
func (r *Registry) UserMFA(ctx context.Context, tenant, userID string) (*MFAStatus, error) {
	if _, err := r.GetUser(ctx, tenant, userID); err != nil {
		return nil, err
	}
	f, err := r.Store.SecondFactors().SecondFactor(ctx, tenant, userID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return &MFAStatus{}, nil
	case err != nil:
		return nil, fmt.Errorf("second factor of user %q in tenant %q: %w", userID, tenant, err)
	case !f.Confirmed():
		return &MFAStatus{Pending: true}, nil
	}
	return &MFAStatus{Enabled: true, ConfirmedAt: f.ConfirmedAt, RecoveryCodesLeft: len(f.RecoveryCodes)}, nil
}

// ResetUserMFA removes the user's second factor (a lost device): the next
// sign-in asks for the password only, or for a new set-up where the
// tenant requires one. Resetting a user without a factor is not an error.
// The user's sessions stay; the change is audited in both trails.
func (r *Registry) ResetUserMFA(ctx context.Context, tenant, userID string) error {
	if _, err := r.GetUser(ctx, tenant, userID); err != nil {
		return err
	}
	err := r.Store.SecondFactors().DeleteSecondFactor(ctx, tenant, userID)
	existed := err == nil
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("reset second factor of user %q in tenant %q: %w", userID, tenant, err)
	}
	if err := r.Store.AuthEvents().AppendAuthEvent(ctx, &storage.AuthEvent{Tenant: tenant,
		Event: storage.EventMFAReset, UserID: userID, Outcome: "success", Reason: "admin"}); err != nil {
		slog.WarnContext(ctx, "auth audit: second factor reset", "error", err)
	}
	return r.audit(ctx, ActionUserMFAReset, tenant, TargetUser, userID, map[string]any{"had_second_factor": existed})
}
