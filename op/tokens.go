package op

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"
	"go.opentelemetry.io/otel/attribute"

	"github.com/herald-idp/herald/internal/telemetry"
	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op/mfa"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// This file is where every token Herald issues is minted: access tokens
// (RFC 9068 at+jwt, or opaque), ID tokens and refresh tokens.

const (
	typAccessToken = "at+jwt" // RFC 9068 §2.1
	typIDToken     = "JWT"
)

// randomToken returns n bytes from crypto/rand, base64url-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms (Go ≥1.24)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is how codes, refresh tokens and session cookies are stored: a
// database leak yields no usable credential (RFC 6819 §5.1.4.1.3).
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// minter signs tokens with the keys of the request's tenant. Signers
// (jws.go) are built once per key and kept with the tenant's other caches
// (tenantcache.go), so a token costs one signature and no key parsing.
type minter struct {
	keys   *keys.Manager
	caches *tenantCaches
	tel    *telemetry.Telemetry // spans signing, counts tokens (nil: nothing)
}

func newMinter(km *keys.Manager, caches *tenantCaches) *minter {
	return &minter{keys: km, caches: caches}
}

// signingKey is the key new tokens of tenant t are signed with: the
// newest active key of the algorithm t chose.
func (m *minter) signingKey(ctx context.Context, t *storage.Tenant) (*keys.Key, error) {
	if t == nil {
		return nil, errNoTenant
	}
	alg := t.SigningAlgorithm
	if alg == "" {
		alg = keys.DefaultAlgorithm
	}
	return m.keys.SigningKey(ctx, t.Name, alg)
}

// publishedAlgorithms lists, once each, the algorithms of every key the
// tenant publishes (active and retired), newest key first.
func (m *minter) publishedAlgorithms(ctx context.Context, tenant string) ([]string, error) {
	ks, err := m.keys.PublicKeys(ctx, tenant)
	if err != nil {
		return nil, err
	}
	var algs []string
	for _, k := range ks {
		if !slices.Contains(algs, k.Algorithm) {
			algs = append(algs, k.Algorithm)
		}
	}
	return algs, nil
}

func (m *minter) sign(tenant string, k *keys.Key, typ string, claims any) (string, error) {
	s, err := m.caches.signer(tenant, k, typ)
	if err != nil {
		return "", err
	}
	var payload []byte
	if c, ok := libraryClaims(claims); ok {
		payload, err = marshalClaims(c)
	} else {
		payload, err = json.Marshal(claims)
	}
	if err != nil {
		return "", err
	}
	return s.sign(payload)
}

// grant is what a token response is minted from: a redeemed code, a
// refresh token, or a client authenticating as itself.
type grant struct {
	tenant    *storage.Tenant
	issuer    string
	client    *client
	grantID   string // the storage.Grant every token of it names
	user      bool   // false for client_credentials
	subject   string // user ID, or client ID for client_credentials
	sessionID string
	scopes    []string
	authTime  time.Time
	amr       []string
	nonce     string
	// audience lists resource servers the access token is for besides the
	// client itself (the admin API for herald:admin tokens).
	audience []string
	// grantType names the grant in herald_tokens_issued_total;
	// keptRefresh: the response repeats the presented refresh token.
	grantType   string
	keptRefresh bool
}

func (g *grant) isUser() bool { return g.user }

// Lifetime caps (docs/tokens.md), enforced at registration (op/registry)
// and again here for registrations made before the caps existed.
const (
	maxAccessTokenLifetime      = 24 * time.Hour
	maxAdminAccessTokenLifetime = time.Hour
)

// accessTokenLifetime is the client's access-token lifetime, capped.
func (g *grant) accessTokenLifetime() time.Duration {
	d := min(g.client.accessTokenLifetime(), maxAccessTokenLifetime)
	if len(g.audience) > 0 { // the admin API
		d = min(d, maxAdminAccessTokenLifetime)
	}
	return d
}

// accessToken is a new access token: its record and, for the opaque
// format, the token itself (256 random bits; only its hash, rec.ID, is
// stored). A JWT's jti is the grant ID, ".", and random bits, so that the
// grant is found without a per-token record.
type accessToken struct {
	rec    *storage.AccessToken
	opaque string
}

// jtiSeparator joins the grant ID and the random part of a JWT's jti; grant
// IDs never contain it.
const jtiSeparator = "."

// grantOfJTI returns the grant ID a JWT access token's jti names.
func grantOfJTI(jti string) (string, bool) {
	i := strings.LastIndex(jti, jtiSeparator)
	if i <= 0 {
		return "", false
	}
	return jti[:i], true
}

// newAccessToken returns a new access token for g.
func newAccessToken(g *grant, tenant string, now time.Time) *accessToken {
	rec := &storage.AccessToken{
		TenantID:  tenant,
		ID:        g.grantID + jtiSeparator + randomToken(12),
		GrantID:   g.grantID,
		ClientID:  g.client.GetID(),
		Subject:   g.subject,
		Audience:  append([]string{g.client.GetID()}, g.audience...),
		Scopes:    g.scopes,
		CreatedAt: now,
		ExpiresAt: now.Add(g.accessTokenLifetime()),
	}
	at := &accessToken{rec: rec}
	if g.client.AccessTokenType() != zop.AccessTokenTypeJWT {
		at.opaque = randomToken(32)
		rec.ID = hashToken(at.opaque)
	}
	return at
}

// newRefreshToken returns a fresh refresh token and its record, which
// expires with its family (familyExpiry) at the latest.
func newRefreshToken(g *grant, tenant string, now, familyExpiry time.Time) (string, *storage.RefreshToken) {
	token := randomToken(32)
	exp := now.Add(g.client.refreshTokenLifetime())
	if exp.After(familyExpiry) {
		exp = familyExpiry
	}
	return token, &storage.RefreshToken{
		TenantID:  tenant,
		ID:        hashToken(token),
		GrantID:   g.grantID,
		ClientID:  g.client.GetID(),
		UserID:    g.subject,
		SessionID: g.sessionID,
		Audience:  []string{g.client.GetID()},
		Scopes:    g.scopes,
		AuthTime:  g.authTime,
		AMR:       g.amr,
		CreatedAt: now,
		ExpiresAt: exp,
	}
}

// tokenResponse mints the access token (and, for user grants, the ID token)
// for a new access token.
func (m *minter) tokenResponse(ctx context.Context, g *grant, access *accessToken, refreshToken string, user *storage.User, now time.Time) (_ *oidc.AccessTokenResponse, err error) {
	key, err := m.signingKey(ctx, g.tenant)
	if err != nil {
		return nil, err
	}
	_, span := m.tel.Span(ctx, "sign tokens", attribute.String("herald.alg", key.Algorithm))
	defer func() { span.End(err) }()
	at := access.rec
	accessToken := access.opaque
	if accessToken == "" {
		claims := &oidc.AccessTokenClaims{
			TokenClaims: oidc.TokenClaims{
				Issuer:     g.issuer,
				Subject:    at.Subject,
				Audience:   at.Audience,
				Expiration: oidc.FromTime(at.ExpiresAt),
				IssuedAt:   oidc.FromTime(now),
				ClientID:   at.ClientID,
				JWTID:      at.ID,
			},
			Scopes: at.Scopes,
		}
		if g.isUser() {
			claims.AuthTime = oidc.FromTime(g.authTime)
			claims.AuthenticationMethodsReferences, _ = splitAMR(g.amr)
			claims.Claims = customClaims(g.tenant, user, g.scopes, registry.ClaimTargetAccessToken)
		}
		accessToken, err = m.sign(g.tenant.Name, key, typAccessToken, claims)
		if err != nil {
			return nil, err
		}
	}
	resp := &oidc.AccessTokenResponse{
		AccessToken:  accessToken,
		TokenType:    oidc.BearerToken,
		RefreshToken: refreshToken,
		ExpiresIn:    uint64(at.ExpiresAt.Sub(now).Seconds()),
		Scope:        at.Scopes,
	}
	if g.isUser() && slices.Contains(g.scopes, oidc.ScopeOpenID) {
		resp.IDToken, err = m.idToken(key, g, user, accessToken, now)
		if err != nil {
			return nil, err
		}
	}
	m.countTokens(g, key.Algorithm, access.opaque != "", resp)
	return resp, nil
}

// countTokens counts the tokens of resp in herald_tokens_issued_total.
func (m *minter) countTokens(g *grant, alg string, opaque bool, resp *oidc.AccessTokenResponse) {
	if !m.tel.Metrics() {
		return
	}
	tenant := g.tenant.Name
	if opaque {
		m.tel.TokenIssued(tenant, g.grantType, "access_opaque", "")
	} else {
		m.tel.TokenIssued(tenant, g.grantType, "access_jwt", alg)
	}
	if resp.IDToken != "" {
		m.tel.TokenIssued(tenant, g.grantType, "id", alg)
	}
	if resp.RefreshToken != "" && !g.keptRefresh {
		m.tel.TokenIssued(tenant, g.grantType, "refresh", "")
	}
}

// idToken mints an ID token (OIDC Core §2, §3.1.3.6) carrying the claims of
// the profile and email scopes.
func (m *minter) idToken(key *keys.Key, g *grant, user *storage.User, accessToken string, now time.Time) (string, error) {
	amr, idp := splitAMR(g.amr) // federation.go
	claims := oidc.NewIDTokenClaims(g.issuer, g.subject, []string{g.client.GetID()},
		now.Add(g.client.IDTokenLifetime()), g.authTime, g.nonce, mfa.ACR(amr), amr, g.client.GetID(), 0)
	claims.IssuedAt = oidc.FromTime(now)
	if g.sessionID != "" {
		claims.SessionID = publicSessionID(g.sessionID)
	}
	atHash, err := oidc.ClaimHash(accessToken, jose.SignatureAlgorithm(key.Algorithm))
	if err != nil {
		return "", err
	}
	claims.AccessTokenHash = atHash
	var info oidc.UserInfo
	setUserClaims(&info, user, g.scopes)
	claims.UserInfoProfile = info.UserInfoProfile
	claims.UserInfoEmail = info.UserInfoEmail
	claims.Claims = withEmailVerified(customClaims(g.tenant, user, g.scopes, registry.ClaimTargetIDToken), user, g.scopes)
	if idp != "" {
		if claims.Claims == nil {
			claims.Claims = map[string]any{}
		}
		claims.Claims["idp"] = idp
	}
	return m.sign(g.tenant.Name, key, typIDToken, claims)
}

// publicSessionID is the `sid` claim: derived from the stored session key
// so that it identifies the session without being usable as a cookie.
func publicSessionID(sessionID string) string { return hashToken("sid:" + sessionID)[:32] }

// setUserClaims fills the claims of the profile and email scopes.
func setUserClaims(info *oidc.UserInfo, u *storage.User, scopes []string) {
	if u == nil {
		return
	}
	info.Subject = u.ID
	if slices.Contains(scopes, oidc.ScopeProfile) {
		info.Name = u.Name
		info.GivenName = u.GivenName
		info.FamilyName = u.FamilyName
		info.PreferredUsername = u.Username
		info.UpdatedAt = oidc.FromTime(u.UpdatedAt)
	}
	if slices.Contains(scopes, oidc.ScopeEmail) && u.Email != "" {
		info.Email = u.Email
		info.EmailVerified = oidc.Bool(u.EmailVerified)
	}
}

// withEmailVerified adds "email_verified": false to extra (the custom
// claims) when the email scope was granted and the address is not verified:
// the library's type drops a false email_verified (omitempty), and relying
// parties must see false rather than nothing (OIDC Core §5.1: a missing
// claim is not a no). Custom claims cannot name email_verified
// (registry/claims.go), so nothing is overwritten.
func withEmailVerified(extra map[string]any, u *storage.User, scopes []string) map[string]any {
	if u == nil || (u.EmailVerified && u.Email != "") || !slices.Contains(scopes, oidc.ScopeEmail) {
		return extra
	}
	if extra == nil {
		extra = make(map[string]any, 1)
	}
	extra["email_verified"] = false
	return extra
}
