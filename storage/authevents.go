package storage

import (
	"context"
	"time"
)

// Authentication events (AuthEvent.Event).
const (
	EventLoginSucceeded  = "login.succeeded"
	EventLoginFailed     = "login.failed"
	EventLoginThrottled  = "login.throttled"
	EventLogout          = "logout"
	EventConsentGiven    = "consent.given"
	EventConsentDenied   = "consent.denied"
	EventCodeReplay      = "code.replay"
	EventRefreshReuse    = "refresh.reuse"
	EventPasswordChanged = "password.changed"
	// The account page: a session ended from another one, and a consent
	// withdrawn by the user.
	EventSessionEnded     = "session.ended"
	EventConsentWithdrawn = "consent.withdrawn"

	// Second factor (docs/mfa.md). A sign-in with a second factor records
	// EventMFASucceeded and then EventLoginSucceeded; Reason
	// "recovery_code" says a recovery code was used.
	EventMFASucceeded        = "mfa.succeeded"
	EventMFAFailed           = "mfa.failed"
	EventMFAThrottled        = "mfa.throttled"
	EventMFAEnrolled         = "mfa.enrolled"
	EventMFARemoved          = "mfa.removed"
	EventMFARecoveryCodesNew = "mfa.recovery_codes_regenerated"
	EventMFAReset            = "mfa.reset" // by an administrator

	// A link to an upstream account removed by the user on the account
	// page (Reason "account:{connector}"), or refused because it was the
	// last way to sign in (Outcome "denied").
	EventLinkRemoved = "link.removed"
)

// AuthEvent is one entry of the authentication audit trail. Addresses,
// attempted usernames and devices are stored as keyed hashes (the caller
// hashes them), so the trail can correlate without holding the raw values.
type AuthEvent struct {
	// Seq orders events (assigned by the store, grows with every insert);
	// it is the cursor of ListAuthEvents.
	Seq    int64
	ID     string
	Time   time.Time
	Tenant string
	Event  string
	// UserID is the account's ID when it is known; otherwise UsernameHash
	// is a keyed hash of the attempted username.
	UserID       string
	UsernameHash string
	ClientID     string
	// Address is the source address: a keyed hash, or the raw address when
	// the installation chose so.
	Address string
	// Device is a keyed hash of the device cookie and the user agent.
	Device    string
	UserAgent string
	RequestID string
	// Outcome is "success", "failure" or "denied"; Reason says why
	// ("unknown_user", "wrong_password", "throttled", "disabled", ...).
	Outcome string
	Reason  string
}

// AuthEventFilter selects events of ListAuthEvents; zero fields match all.
type AuthEventFilter struct {
	Event  string
	UserID string
	// Since (inclusive) and Until (exclusive) bound the event time.
	Since, Until time.Time
	// Before lists events with a Seq below it (the previous page's last
	// Seq); 0 starts from the newest.
	Before int64
	// Limit as for ListAudit: ≤ 0 is DefaultAuditLimit, at most MaxAuditLimit.
	Limit int
}

// AuthEvents is the authentication audit trail of every tenant.
type AuthEvents interface {
	// AppendAuthEvent stores e, filling in ID (random) and Time (now) when
	// empty, and Seq.
	AppendAuthEvent(ctx context.Context, e *AuthEvent) error
	// ListAuthEvents returns the tenant's events matching f, newest first
	// (by Seq).
	ListAuthEvents(ctx context.Context, tenant string, f AuthEventFilter) ([]*AuthEvent, error)
	// DeleteAuthEventsBefore removes every event older than before (the
	// retention sweep) and reports how many it removed.
	DeleteAuthEventsBefore(ctx context.Context, before time.Time) (int64, error)
}
