package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/herald-idp/herald/storage"
)

// Audit actions of upstream sign-ins.
const (
	ActionUserCreateFederated = "user.create_federated"
	ActionUserLink            = "user.link"
)

// FederatedUserSpec is what an upstream provider says about a person
// signing in for the first time (after the connector's claim mapping).
// Values that would not pass CreateUser's checks are left out rather than
// refused: the upstream provider, not the person, chose them.
type FederatedUserSpec struct {
	Connector     string
	Username      string
	Email         string
	EmailVerified bool
	Name          string
	GivenName     string
	FamilyName    string
}

// CreateFederatedUser creates a user without a password (just-in-time
// provisioning). The username is the upstream one when it is valid and
// free, otherwise "{connector}-{random}".
func (r *Registry) CreateFederatedUser(ctx context.Context, tenant string, spec FederatedUserSpec) (*storage.User, error) {
	id, err := uuid.NewRandom()
	if err != nil {
		return nil, fmt.Errorf("generate user ID: %w", err)
	}
	now := r.now()
	u := &storage.User{
		TenantID:   tenant,
		ID:         id.String(),
		Name:       cleanLabel(spec.Name),
		GivenName:  cleanLabel(spec.GivenName),
		FamilyName: cleanLabel(spec.FamilyName),
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	if email := strings.TrimSpace(spec.Email); email != "" && emailProblem(email) == "" {
		u.Email, u.EmailVerified = email, spec.EmailVerified
	}
	candidates := []string{}
	if name, msg := usernameProblem(spec.Username); msg == "" {
		var p problems
		if checkUsername(&p, name); p.err() == nil {
			candidates = append(candidates, name)
		}
	}
	for range 3 {
		suffix, err := randomHex(4)
		if err != nil {
			return nil, err
		}
		candidates = append(candidates, NormalizeUsername(spec.Connector+"-"+suffix))
	}
	for _, name := range candidates {
		u.Username = name
		err = r.Store.Users().CreateUser(ctx, u)
		if !errors.Is(err, storage.ErrAlreadyExists) {
			break
		}
	}
	if err != nil {
		return nil, storeError(err, userRecord(tenant, u.Username))
	}
	if err := r.audit(ctx, ActionUserCreateFederated, tenant, TargetUser, u.ID, map[string]any{
		"username": u.Username, "connector": spec.Connector,
	}); err != nil {
		return nil, err
	}
	return u, nil
}

// cleanLabel keeps a label only if CreateUser would accept it (checkLabel).
func cleanLabel(s string) string {
	s = strings.TrimSpace(s)
	var p problems
	if checkLabel(&p, "", s); len(p) > 0 {
		return ""
	}
	return s
}

// LinkUser links the upstream account (connector, subject) to the user.
// ErrAlreadyExists (as a *storage.ConflictError) if that account is linked
// already. The subject is not audited (it is personal data of another
// provider); the connector and user are.
func (r *Registry) LinkUser(ctx context.Context, tenant, connector, subject, userID string) error {
	err := r.Store.Connectors().CreateUserLink(ctx, &storage.UserLink{
		TenantID: tenant, ConnectorID: connector, Subject: subject, UserID: userID, CreatedAt: r.now(),
	})
	if err != nil {
		return storeError(err, connectorRecord(tenant, connector))
	}
	return r.audit(ctx, ActionUserLink, tenant, TargetUser, userID, map[string]any{"connector": connector})
}

// ActionUserUnlink is the audit action of removing a link.
const ActionUserUnlink = "user.unlink"

// ErrLastSignInMethod refuses to remove a user's only way to sign in.
var ErrLastSignInMethod = errors.New("this is the only way to sign in to the account: set a password or link another account first")

// UserLinks returns the upstream accounts linked to the user.
func (r *Registry) UserLinks(ctx context.Context, tenant, userID string) ([]*storage.UserLink, error) {
	if _, err := r.Store.Users().User(ctx, tenant, userID); err != nil {
		return nil, storeError(err, userRecord(tenant, userID))
	}
	links, err := r.Store.Connectors().ListUserLinks(ctx, tenant, userID)
	if err != nil {
		return nil, storeError(err, userRecord(tenant, userID))
	}
	return links, nil
}

// UnlinkUser removes one of the user's links, but only while another way
// to sign in remains (a password or another link): otherwise
// ErrLastSignInMethod as a *ValidationError on "connector". For the account
// page (the person unlinks) and administrators.
func (r *Registry) UnlinkUser(ctx context.Context, tenant, userID, connector, subject string) error {
	u, err := r.Store.Users().User(ctx, tenant, userID)
	if err != nil {
		return storeError(err, userRecord(tenant, userID))
	}
	links, err := r.Store.Connectors().ListUserLinks(ctx, tenant, userID)
	if err != nil {
		return storeError(err, userRecord(tenant, userID))
	}
	found := false
	for _, l := range links {
		if l.ConnectorID == connector && l.Subject == subject {
			found = true
		}
	}
	if !found {
		return &storage.NotFoundError{Record: connectorRecord(tenant, connector)}
	}
	if u.PasswordHash == "" && len(links) < 2 {
		return &ValidationError{Field: "connector", Message: ErrLastSignInMethod.Error()}
	}
	if err := r.Store.Connectors().DeleteUserLink(ctx, tenant, connector, subject); err != nil {
		return storeError(err, connectorRecord(tenant, connector))
	}
	return r.audit(ctx, ActionUserUnlink, tenant, TargetUser, userID, map[string]any{"connector": connector})
}

// UnlinkConnector removes all of the user's links to connector, each
// through UnlinkUser, and returns how many; a NotFoundError when there was
// none. For administrators (admin API and CLI).
func (r *Registry) UnlinkConnector(ctx context.Context, tenant, userID, connector string) (int, error) {
	links, err := r.UserLinks(ctx, tenant, userID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range links {
		if l.ConnectorID != connector {
			continue
		}
		if err := r.UnlinkUser(ctx, tenant, userID, l.ConnectorID, l.Subject); err != nil {
			return n, err
		}
		n++
	}
	if n == 0 {
		return 0, &storage.NotFoundError{Record: storage.Record{Kind: "link to connector", Tenant: tenant, ID: connector}}
	}
	return n, nil
}
