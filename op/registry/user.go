package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/herald-idp/herald/op/password"
	"github.com/herald-idp/herald/storage"
)

// MinPasswordLength is the shortest password accepted by default (OWASP
// ASVS 4.0.3 V2.1.1 asks for at least 12 characters); a tenant may set its
// own minimum (Settings.PasswordMinLength).
const MinPasswordLength = 12

// passwordPolicy is tenant t's password policy.
// PasswordPolicy is the tenant's policy for new passwords (the account
// page checks a user's own change against it).
func PasswordPolicy(t *storage.Tenant) password.Policy { return passwordPolicy(t) }

func passwordPolicy(t *storage.Tenant) password.Policy {
	p := password.Policy{MinLength: MinPasswordLength, MinScore: t.Settings.PasswordMinScore}
	if n := t.Settings.PasswordMinLength; n > 0 {
		p.MinLength = n
	}
	return p
}

const (
	maxUsernameLength = 128
	maxEmailLength    = 254 // RFC 5321 §4.5.3.1.3 path limit, less the brackets
	// minBcryptCost for imported hashes: cheaper ones are too fast to
	// protect anything and are refused rather than kept.
	minBcryptCost = 10
)

// UserSpec describes a user to create. Exactly one of Password (plain text,
// hashed with argon2id) and PasswordHash (an imported bcrypt hash) is set.
type UserSpec struct {
	Username, Email, Name, GivenName, FamilyName string
	Password, PasswordHash                       string
	EmailVerified                                bool
	// Attributes are JSON values that custom claims may map into tokens;
	// names as claim names, at most MaxAttributesSize bytes as JSON.
	Attributes map[string]any
}

// CreateUser validates spec and creates the user in tenant with a random
// UUID as its ID (the OIDC sub, which never changes).
func (r *Registry) CreateUser(ctx context.Context, tenant string, spec UserSpec) (*storage.User, error) {
	// The tenant first: its settings hold the password policy.
	t, err := r.tenant(ctx, tenant)
	if err != nil {
		return nil, err
	}
	var p problems
	username, msg := usernameProblem(spec.Username)
	if msg != "" {
		p.add("username", "%s", msg)
	} else {
		checkUsername(&p, username)
	}
	email := strings.TrimSpace(spec.Email)
	if email != "" {
		if msg := emailProblem(email); msg != "" {
			p.add("email", "%s", msg)
		}
	}
	checkLabel(&p, "name", spec.Name)
	checkLabel(&p, "given_name", spec.GivenName)
	checkLabel(&p, "family_name", spec.FamilyName)
	switch {
	case spec.Password != "" && spec.PasswordHash != "":
		p.add("password", "give a password or a password hash, not both")
	case spec.Password == "" && spec.PasswordHash == "":
		p.add("password", "a password or a password hash is required")
	case spec.Password != "":
		if err := password.CheckPassword(spec.Password, passwordPolicy(t),
			username, email, spec.Name, spec.GivenName, spec.FamilyName); err != nil {
			p.add("password", "%v", err)
		}
	default:
		if msg := bcryptHashProblem(spec.PasswordHash); msg != "" {
			p.add("password_hash", "%s", msg)
		}
	}
	attrs := checkAttributes(&p, spec.Attributes)
	if err := p.err(); err != nil {
		return nil, err
	}

	hash := spec.PasswordHash
	if spec.Password != "" {
		if hash, err = r.hash(ctx, spec.Password); err != nil {
			return nil, err
		}
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return nil, fmt.Errorf("generate user ID: %w", err)
	}
	now := r.now()
	u := &storage.User{
		TenantID:      tenant,
		ID:            id.String(),
		Username:      username,
		Email:         email,
		EmailVerified: spec.EmailVerified,
		Name:          strings.TrimSpace(spec.Name),
		GivenName:     strings.TrimSpace(spec.GivenName),
		FamilyName:    strings.TrimSpace(spec.FamilyName),
		PasswordHash:  hash,
		Attributes:    attrs,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	if err := r.Store.Users().CreateUser(ctx, u); err != nil {
		return nil, storeError(err, userRecord(tenant, username))
	}
	if err := r.audit(ctx, ActionUserCreate, tenant, TargetUser, u.ID, map[string]any{"username": u.Username}); err != nil {
		return nil, err
	}
	return u, nil
}

// SetPassword checks pw against the policy, stores its argon2id hash and
// ends the user's SSO sessions: whoever knew the old password must log in
// again (OWASP ASVS 4.0.3 V3.3.3).
func (r *Registry) SetPassword(ctx context.Context, tenant, userID, pw string) error {
	t, err := r.tenant(ctx, tenant)
	if err != nil {
		return err
	}
	// Look the user up first so that an unknown ID costs no hashing (and
	// the policy can refuse a password made of the user's own names).
	u, err := r.Store.Users().User(ctx, tenant, userID)
	if err != nil {
		return storeError(err, userRecord(tenant, userID))
	}
	if err := password.CheckPassword(pw, passwordPolicy(t), u.Username, u.Email, u.Name, u.GivenName, u.FamilyName); err != nil {
		return &ValidationError{Field: "password", Message: err.Error()}
	}
	hash, err := r.hash(ctx, pw)
	if err != nil {
		return err
	}
	now := r.now()
	if _, err := r.Store.Users().UpdateUser(ctx, tenant, userID, func(u *storage.User) error {
		u.PasswordHash = hash
		u.UpdatedAt = now
		return nil
	}); err != nil {
		return storeError(err, userRecord(tenant, userID))
	}
	if err := r.Store.Sessions().DeleteUserSessions(ctx, tenant, userID); err != nil {
		return fmt.Errorf("end sessions of user %q in tenant %q: %w", userID, tenant, err)
	}
	// And every token issued on the old password, offline_access included.
	if err := r.Store.Grants().RevokeUserGrants(ctx, tenant, userID, now); err != nil {
		return fmt.Errorf("revoke grants of user %q in tenant %q: %w", userID, tenant, err)
	}
	// The authentication audit trail records it too (issue 10).
	if err := r.Store.AuthEvents().AppendAuthEvent(ctx, &storage.AuthEvent{Tenant: tenant,
		Event: storage.EventPasswordChanged, UserID: userID, Outcome: "success", Reason: "admin"}); err != nil {
		slog.WarnContext(ctx, "auth audit: password change", "error", err)
	}
	return r.audit(ctx, ActionUserSetPassword, tenant, TargetUser, userID, nil)
}

func (r *Registry) hash(ctx context.Context, pw string) (string, error) {
	if r.Passwords == nil {
		return "", errors.New("registry: no password hasher configured")
	}
	h, err := r.Passwords.Hash(ctx, pw)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// checkUsername checks an already normalised username.
func checkUsername(p *problems, username string) {
	switch n := utf8.RuneCountInString(username); {
	case !utf8.ValidString(username):
		p.add("username", "must be valid UTF-8")
	case n == 0:
		p.add("username", "is required")
	case n > maxUsernameLength:
		p.add("username", "must be at most %d characters", maxUsernameLength)
	case strings.IndexFunc(username, unicode.IsControl) >= 0:
		p.add("username", "must not contain control characters")
	}
}

// emailProblem accepts a bare address with exactly one @ and non-empty local
// and domain parts; display names ("Ann <ann@example.com>") are refused.
func emailProblem(email string) string {
	if len(email) > maxEmailLength {
		return fmt.Sprintf("must be at most %d characters", maxEmailLength)
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || addr.Address != email {
		return fmt.Sprintf("%q is not an e-mail address (name@domain)", email)
	}
	local, domain, _ := strings.Cut(email, "@")
	if local == "" || domain == "" || strings.Contains(domain, "@") {
		return fmt.Sprintf("%q must contain exactly one @ between a local part and a domain", email)
	}
	return ""
}

// bcryptHashProblem accepts an imported bcrypt hash ($2a$, $2b$ or $2y$,
// cost ≥ 10) in its standard 60-character form. Such users are rehashed to
// argon2id at their next login.
func bcryptHashProblem(h string) string {
	if !strings.HasPrefix(h, "$2a$") && !strings.HasPrefix(h, "$2b$") && !strings.HasPrefix(h, "$2y$") {
		return "must be a bcrypt hash starting with $2a$, $2b$ or $2y$"
	}
	if len(h) != 60 || strings.IndexFunc(h[7:], func(c rune) bool {
		return !(c == '.' || c == '/' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9')
	}) >= 0 || h[6] != '$' {
		return "is not a well-formed bcrypt hash ($2b$NN$ followed by 53 characters)"
	}
	cost, err := bcrypt.Cost([]byte(h))
	if err != nil {
		return "is not a well-formed bcrypt hash"
	}
	if cost < minBcryptCost {
		return fmt.Sprintf("bcrypt cost %d is too low (at least %d)", cost, minBcryptCost)
	}
	return ""
}
