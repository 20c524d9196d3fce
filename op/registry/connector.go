package registry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/herald-idp/herald/storage"
)

// Audit actions and target of connectors.
const (
	ActionConnectorCreate = "connector.create"
	ActionConnectorUpdate = "connector.update"
	ActionConnectorDelete = "connector.delete"
	TargetConnector       = "connector"
)

// connectorIDPattern: a connector ID is a path segment of its callback URL
// and the value of idp_hint.
var connectorIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ClaimFields are the local user fields a connector's claim mapping may
// name; each maps to the upstream claim (oidc) or GitHub user field it is
// read from.
var ClaimFields = []string{"username", "email", "email_verified", "name", "given_name", "family_name"}

// DefaultGitHubAPI is the API base URL of github.com.
const DefaultGitHubAPI = "https://api.github.com"

// ConnectorSpec describes an upstream identity provider to create.
type ConnectorSpec struct {
	ID          string // [a-z0-9][a-z0-9_-]{0,62}
	Type        string // oidc or github
	DisplayName string // the button's label; defaults to the ID
	// Issuer: the upstream issuer (oidc, required) or the API base URL
	// (github; default https://api.github.com, GitHub Enterprise:
	// https://github.example.com/api/v3).
	Issuer       string
	ClientID     string
	ClientSecret string // sealed before it is stored; required for github
	Scopes       []string
	ClaimMapping map[string]string
	JITCreate    bool
	LinkByEmail  bool
	Disabled     bool
}

func connectorRecord(tenant, id string) storage.Record {
	return storage.Record{Kind: "connector", Tenant: tenant, ID: id}
}

// checkConnectorSpec validates spec and fills in defaults.
func checkConnectorSpec(spec *ConnectorSpec, creating bool) error {
	var p problems
	if !connectorIDPattern.MatchString(spec.ID) {
		p.add("id", "must be 1-63 of a-z, 0-9, '_' and '-', starting with a letter or digit")
	}
	if spec.DisplayName == "" {
		spec.DisplayName = spec.ID
	}
	checkLabel(&p, "display_name", spec.DisplayName)
	switch spec.Type {
	case storage.ConnectorOIDC:
		if spec.Issuer == "" {
			p.add("issuer", "is required for an oidc connector")
		}
		if len(spec.Scopes) == 0 {
			spec.Scopes = []string{"openid", "email", "profile"}
		}
		if !slices.Contains(spec.Scopes, "openid") {
			p.add("scopes", "must include openid")
		}
	case storage.ConnectorGitHub:
		if spec.Issuer == "" {
			spec.Issuer = DefaultGitHubAPI
		}
		if len(spec.Scopes) == 0 {
			spec.Scopes = []string{"read:user", "user:email"}
		}
		if creating && spec.ClientSecret == "" {
			p.add("client_secret", "is required for a github connector")
		}
	default:
		p.add("type", "must be oidc or github")
	}
	if spec.Issuer != "" {
		if msg := upstreamURLProblem(spec.Issuer); msg != "" {
			p.add("issuer", "%s", msg)
		}
	}
	if spec.ClientID == "" || len(spec.ClientID) > 255 {
		p.add("client_id", "is required (at most 255 characters)")
	} else {
		checkLabel(&p, "client_id", spec.ClientID)
	}
	if len(spec.ClientSecret) > 1024 {
		p.add("client_secret", "must be at most 1024 characters")
	}
	for _, s := range spec.Scopes {
		if !scopeTokenPattern.MatchString(s) {
			p.add("scopes", "%q is not a valid scope", s)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(spec.ClaimMapping)) {
		v := spec.ClaimMapping[k]
		if !slices.Contains(ClaimFields, k) {
			p.add("claim_mapping", "%q is not a mappable field (one of %s)", k, strings.Join(ClaimFields, ", "))
		}
		if !scopeTokenPattern.MatchString(v) {
			p.add("claim_mapping", "%q: the upstream claim name must be 1-128 printable characters", k)
		}
	}
	return p.err()
}

// upstreamURLProblem: absolute https (http only for loopback hosts), no
// query, fragment or user information.
func upstreamURLProblem(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Hostname() == "" {
		return fmt.Sprintf("%q must be an absolute URL", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Sprintf("%q must not contain user information, a query or a fragment", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
	default:
		return fmt.Sprintf("%q: must be https (http only for loopback hosts)", raw)
	}
	if msg := portProblem(u); msg != "" {
		return fmt.Sprintf("%q: %s", raw, msg)
	}
	return ""
}

// CreateConnector validates spec and adds the connector to tenant, its
// client secret sealed under the KEK. The returned connector carries no
// secret.
func (r *Registry) CreateConnector(ctx context.Context, tenant string, spec ConnectorSpec) (*storage.Connector, error) {
	if err := checkConnectorSpec(&spec, true); err != nil {
		return nil, err
	}
	if _, err := r.tenant(ctx, tenant); err != nil {
		return nil, err
	}
	sealed, err := r.sealConnectorSecret(tenant, spec.ID, spec.ClientSecret)
	if err != nil {
		return nil, err
	}
	now := r.now()
	c := &storage.Connector{
		TenantID: tenant, ID: spec.ID, Type: spec.Type, DisplayName: spec.DisplayName,
		Issuer: spec.Issuer, ClientID: spec.ClientID, ClientSecret: sealed, Scopes: spec.Scopes,
		ClaimMapping: spec.ClaimMapping, JITCreate: spec.JITCreate, LinkByEmail: spec.LinkByEmail,
		Disabled: spec.Disabled, CreatedAt: now, UpdatedAt: now,
	}
	if err := r.Store.Connectors().CreateConnector(ctx, c); err != nil {
		return nil, storeError(err, connectorRecord(tenant, spec.ID))
	}
	r.changed(ctx, tenant)
	if err := r.audit(ctx, ActionConnectorCreate, tenant, TargetConnector, c.ID, map[string]any{
		"type": c.Type, "issuer": c.Issuer, "jit_create": c.JITCreate, "link_by_email": c.LinkByEmail,
	}); err != nil {
		return nil, err
	}
	return withoutSecret(c), nil
}

func (r *Registry) sealConnectorSecret(tenant, id, secret string) ([]byte, error) {
	if secret == "" {
		return nil, nil
	}
	if r.Keys == nil {
		return nil, errors.New("registry: no key manager to seal the connector secret")
	}
	return r.Keys.SealConnectorSecret(tenant, id, []byte(secret))
}

// GetConnector returns a connector without its secret (HasSecret tells
// whether one is set).
func (r *Registry) GetConnector(ctx context.Context, tenant, id string) (*storage.Connector, error) {
	if _, err := r.tenant(ctx, tenant); err != nil {
		return nil, err
	}
	c, err := r.Store.Connectors().Connector(ctx, tenant, id)
	if err != nil {
		return nil, storeError(err, connectorRecord(tenant, id))
	}
	return withoutSecret(c), nil
}

// withoutSecret replaces a stored secret with a one-byte marker, so that
// callers can tell "set" from "unset" without ever holding it.
func withoutSecret(c *storage.Connector) *storage.Connector {
	if len(c.ClientSecret) > 0 {
		c.ClientSecret = []byte{0}
	}
	return c
}

// ListConnectors returns the tenant's connectors without secrets.
func (r *Registry) ListConnectors(ctx context.Context, tenant string) ([]*storage.Connector, error) {
	if _, err := r.tenant(ctx, tenant); err != nil {
		return nil, err
	}
	cs, err := r.Store.Connectors().ListConnectors(ctx, tenant)
	if err != nil {
		return nil, storeError(err, tenantRecord(tenant))
	}
	for _, c := range cs {
		withoutSecret(c)
	}
	return cs, nil
}

// ConnectorUpdate changes a connector: each non-nil field replaces the
// stored value. The type cannot change.
type ConnectorUpdate struct {
	DisplayName, Issuer, ClientID, ClientSecret *string
	Scopes                                      *[]string
	ClaimMapping                                *map[string]string
	JITCreate, LinkByEmail, Disabled            *bool
}

func (u ConnectorUpdate) changed() []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"display_name", u.DisplayName != nil}, {"issuer", u.Issuer != nil}, {"client_id", u.ClientID != nil},
		{"client_secret", u.ClientSecret != nil}, {"scopes", u.Scopes != nil},
		{"claim_mapping", u.ClaimMapping != nil}, {"jit_create", u.JITCreate != nil},
		{"link_by_email", u.LinkByEmail != nil}, {"disabled", u.Disabled != nil},
	} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}

// UpdateConnector applies u atomically, validating the result with the
// rules of CreateConnector.
func (r *Registry) UpdateConnector(ctx context.Context, tenant, id string, u ConnectorUpdate) (*storage.Connector, error) {
	if _, err := r.tenant(ctx, tenant); err != nil {
		return nil, err
	}
	changed := u.changed()
	if len(changed) == 0 {
		return r.GetConnector(ctx, tenant, id)
	}
	var sealed []byte
	if u.ClientSecret != nil {
		var err error
		if sealed, err = r.sealConnectorSecret(tenant, id, *u.ClientSecret); err != nil {
			return nil, err
		}
	}
	now := r.now()
	c, err := r.Store.Connectors().UpdateConnector(ctx, tenant, id, func(c *storage.Connector) error {
		spec := ConnectorSpec{ID: c.ID, Type: c.Type, DisplayName: c.DisplayName, Issuer: c.Issuer,
			ClientID: c.ClientID, Scopes: c.Scopes, ClaimMapping: c.ClaimMapping,
			JITCreate: c.JITCreate, LinkByEmail: c.LinkByEmail, Disabled: c.Disabled}
		setIf(&spec.DisplayName, u.DisplayName)
		setIf(&spec.Issuer, u.Issuer)
		setIf(&spec.ClientID, u.ClientID)
		setIf(&spec.Scopes, u.Scopes)
		setIf(&spec.ClaimMapping, u.ClaimMapping)
		setIf(&spec.JITCreate, u.JITCreate)
		setIf(&spec.LinkByEmail, u.LinkByEmail)
		setIf(&spec.Disabled, u.Disabled)
		if u.ClientSecret != nil {
			spec.ClientSecret = *u.ClientSecret
		}
		if err := checkConnectorSpec(&spec, false); err != nil {
			return err
		}
		if c.Type == storage.ConnectorGitHub && u.ClientSecret != nil && *u.ClientSecret == "" {
			return &ValidationError{Field: "client_secret", Message: "is required for a github connector"}
		}
		c.DisplayName, c.Issuer, c.ClientID, c.Scopes = spec.DisplayName, spec.Issuer, spec.ClientID, spec.Scopes
		c.ClaimMapping, c.JITCreate, c.LinkByEmail, c.Disabled = spec.ClaimMapping, spec.JITCreate, spec.LinkByEmail, spec.Disabled
		if u.ClientSecret != nil {
			c.ClientSecret = sealed
		}
		c.UpdatedAt = now
		return nil
	})
	if IsValidationError(err) {
		return nil, err
	}
	if err != nil {
		return nil, storeError(err, connectorRecord(tenant, id))
	}
	r.changed(ctx, tenant)
	if err := r.audit(ctx, ActionConnectorUpdate, tenant, TargetConnector, id, map[string]any{"changed": changed}); err != nil {
		return nil, err
	}
	return withoutSecret(c), nil
}

// DeleteConnector removes the connector and the links of upstream
// accounts to it (those users keep their other ways to sign in).
func (r *Registry) DeleteConnector(ctx context.Context, tenant, id string) error {
	if _, err := r.tenant(ctx, tenant); err != nil {
		return err
	}
	if err := r.Store.Connectors().DeleteConnector(ctx, tenant, id); err != nil {
		return storeError(err, connectorRecord(tenant, id))
	}
	r.changed(ctx, tenant)
	return r.audit(ctx, ActionConnectorDelete, tenant, TargetConnector, id, nil)
}
