package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/herald-idp/herald/storage"
)

// Identity is who the upstream provider says signed in, after the
// connector's claim mapping.
type Identity struct {
	// Subject is the upstream account's stable ID (sub; GitHub's numeric
	// user ID): the key of the link to a local user.
	Subject       string
	Username      string
	Email         string
	EmailVerified bool
	Name          string
	GivenName     string
	FamilyName    string
}

// Kind classifies a failed upstream sign-in.
type Kind int

const (
	// Invalid: the upstream answer cannot be trusted (bad signature,
	// wrong issuer, audience or nonce, no subject) or the code was refused.
	Invalid Kind = iota
	// Unavailable: the provider could not be reached or answered with a
	// server error; the person may retry.
	Unavailable
	// Denied: the person (or the provider) refused, e.g. an unverified
	// e-mail where one is required.
	Denied
)

// Error is a failed upstream step. Err is for the log only: it may quote
// the provider's answer, never a secret.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return "upstream: " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func invalid(format string, args ...any) error {
	return &Error{Kind: Invalid, Err: fmt.Errorf(format, args...)}
}

// classify wraps a transport or protocol error: network failures and 5xx
// answers are Unavailable, everything else Invalid.
func classify(what string, err error) error {
	var ue *Error
	if errors.As(err, &ue) {
		return err
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.Response != nil && re.Response.StatusCode >= 500 {
			return &Error{Kind: Unavailable, Err: fmt.Errorf("%s: status %d", what, re.Response.StatusCode)}
		}
		return &Error{Kind: Invalid, Err: fmt.Errorf("%s: %s", what, re.ErrorCode)}
	}
	if isTransport(err) {
		return &Error{Kind: Unavailable, Err: fmt.Errorf("%s: %w", what, err)}
	}
	return &Error{Kind: Invalid, Err: fmt.Errorf("%s: %w", what, err)}
}

func isTransport(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) ||
		strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "no such host")
}

// Client talks to upstream providers. The zero value is not usable: use New.
type Client struct {
	http *http.Client

	mu        sync.Mutex
	providers map[string]cachedProvider // by issuer
	ttl       time.Duration
	now       func() time.Time
}

type cachedProvider struct {
	p       *oidc.Provider
	expires time.Time
}

// New returns a Client using hc for every upstream call (nil: a client with
// a 10-second timeout).
func New(hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &Client{http: hc, providers: map[string]cachedProvider{}, ttl: 10 * time.Minute, now: time.Now}
}

// Request is one upstream sign-in: the connector with its opened secret
// and the values op/login keeps server-side.
type Request struct {
	Connector    *storage.Connector
	ClientSecret []byte
	RedirectURL  string // {issuer}/upstream/{connector}/callback
	State        string
	Nonce        string
	CodeVerifier string
}

// AuthURL is where to send the browser to sign in upstream.
func (c *Client) AuthURL(ctx context.Context, req Request) (string, error) {
	cfg, _, err := c.config(ctx, req)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(req.CodeVerifier)}
	if req.Connector.Type == storage.ConnectorOIDC {
		opts = append(opts, oidc.Nonce(req.Nonce))
	}
	return cfg.AuthCodeURL(req.State, opts...), nil
}

// Exchange redeems the upstream code and returns who signed in.
func (c *Client) Exchange(ctx context.Context, req Request, code string) (*Identity, error) {
	cfg, p, err := c.config(ctx, req)
	if err != nil {
		return nil, err
	}
	ctx = oidc.ClientContext(ctx, c.http)
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(req.CodeVerifier))
	if err != nil {
		return nil, classify("token request", err)
	}
	switch req.Connector.Type {
	case storage.ConnectorOIDC:
		return c.oidcIdentity(ctx, req, p, tok)
	case storage.ConnectorGitHub:
		return c.githubIdentity(ctx, req, tok)
	}
	return nil, invalid("unknown connector type %q", req.Connector.Type)
}

func (c *Client) config(ctx context.Context, req Request) (*oauth2.Config, *oidc.Provider, error) {
	conn := req.Connector
	cfg := &oauth2.Config{
		ClientID:     conn.ClientID,
		ClientSecret: string(req.ClientSecret),
		RedirectURL:  req.RedirectURL,
		Scopes:       conn.Scopes,
	}
	switch conn.Type {
	case storage.ConnectorOIDC:
		p, err := c.provider(ctx, conn.Issuer)
		if err != nil {
			return nil, nil, err
		}
		cfg.Endpoint = p.Endpoint()
		return cfg, p, nil
	case storage.ConnectorGitHub:
		cfg.Endpoint = githubEndpoint(conn.Issuer)
		return cfg, nil, nil
	}
	return nil, nil, invalid("unknown connector type %q", conn.Type)
}

// provider discovers an OpenID provider, cached for ttl. Failures are not
// cached.
func (c *Client) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	now := c.now()
	c.mu.Lock()
	cp, ok := c.providers[issuer]
	c.mu.Unlock()
	if ok && now.Before(cp.expires) {
		return cp.p, nil
	}
	// The provider keeps the context for fetching its keys later: it must
	// outlive this request, and carries only the HTTP client.
	p, err := oidc.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), c.http), issuer)
	if err != nil {
		return nil, classify("discovery", err)
	}
	c.mu.Lock()
	c.providers[issuer] = cachedProvider{p: p, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return p, nil
}

func (c *Client) oidcIdentity(ctx context.Context, req Request, p *oidc.Provider, tok *oauth2.Token) (*Identity, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, invalid("the token response has no id_token")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: req.Connector.ClientID}).Verify(ctx, raw)
	if err != nil {
		if isTransport(err) {
			return nil, &Error{Kind: Unavailable, Err: fmt.Errorf("verify id_token: %w", err)}
		}
		return nil, invalid("verify id_token: %v", err)
	}
	if idt.Nonce != req.Nonce || req.Nonce == "" {
		return nil, invalid("id_token nonce does not match")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, invalid("id_token claims: %v", err)
	}
	if idt.Subject == "" {
		return nil, invalid("id_token has no sub")
	}
	return mapClaims(idt.Subject, claims, req.Connector.ClaimMapping, "preferred_username"), nil
}

// mapClaims reads the local fields from claims, each under the claim the
// mapping names or its standard name.
func mapClaims(subject string, claims map[string]any, mapping map[string]string, usernameClaim string) *Identity {
	name := func(field, std string) string {
		if m := mapping[field]; m != "" {
			return m
		}
		return std
	}
	str := func(field, std string) string {
		v, _ := claims[name(field, std)].(string)
		return v
	}
	id := &Identity{
		Subject:    subject,
		Username:   str("username", usernameClaim),
		Email:      str("email", "email"),
		Name:       str("name", "name"),
		GivenName:  str("given_name", "given_name"),
		FamilyName: str("family_name", "family_name"),
	}
	switch v := claims[name("email_verified", "email_verified")].(type) {
	case bool:
		id.EmailVerified = v
	case string: // some providers send "true"
		id.EmailVerified = v == "true"
	}
	return id
}
