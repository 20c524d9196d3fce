package storagetest

import (
	"time"

	"github.com/herald-idp/herald/storage"
)

// Constructors of complete records: every field is set (lists with more than
// one element, non-zero durations and times) so that a column a backend
// forgets to store shows up as a mismatch.

// newTenant's hostnames are derived from its name (hostnames are unique
// across tenants) and listed sorted, as backends return them.
func newTenant(name string, now time.Time) *storage.Tenant {
	return &storage.Tenant{
		Name:             name,
		DisplayName:      "Tenant " + name,
		SigningAlgorithm: "ES256",
		Hostnames:        []string{name + ".example.test", name + ".login.example.test"},
		Settings:         newSettings(),
		CreatedAt:        now,
		UpdatedAt:        now,
	}
}

func newSettings() storage.TenantSettings {
	return storage.TenantSettings{
		LogoURL:                  "https://cdn.example.test/logo.svg",
		AccentColor:              "#0a7cff",
		AccessTokenLifetime:      5 * time.Minute,
		IDTokenLifetime:          10 * time.Minute,
		RefreshTokenLifetime:     30 * 24 * time.Hour,
		SessionIdleTimeout:       time.Hour + 500*time.Millisecond,
		SessionAbsoluteLifetime:  12 * time.Hour,
		AllowedSigningAlgorithms: []string{"ES256", "RS256"},
		PasswordMinLength:        14,
		CustomClaims: []storage.ClaimMapping{
			{Claim: "plan", Attribute: "plan_level", Scope: "profile", Targets: []string{"id_token", "userinfo"}},
			{Claim: "groups", Attribute: "groups"},
		},
	}
}

func newClient(tenant, id string, now time.Time) *storage.Client {
	return &storage.Client{
		TenantID:               tenant,
		ID:                     id,
		Name:                   "Client " + id,
		SecretHash:             "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
		AuthMethod:             storage.AuthMethodBasic,
		ApplicationType:        storage.AppTypeWeb,
		RedirectURIs:           []string{"https://rp.example/cb", "https://rp.example/cb2"},
		PostLogoutRedirectURIs: []string{"https://rp.example/bye"},
		CORSOrigins:            []string{"https://rp.example"},
		GrantTypes:             []string{"authorization_code", "refresh_token"},
		Scopes:                 []string{"openid", "profile", "offline_access"},
		FirstParty:             true,
		AccessTokenFormat:      storage.AccessTokenOpaque,
		AccessTokenLifetime:    5 * time.Minute,
		IDTokenLifetime:        10 * time.Minute,
		RefreshTokenLifetime:   30 * 24 * time.Hour,
		CreatedAt:              now,
		UpdatedAt:              now.Add(time.Second),
	}
}

func newUser(tenant, id, username string, now time.Time) *storage.User {
	return &storage.User{
		TenantID:      tenant,
		ID:            id,
		Username:      username,
		Email:         username + "@example.com",
		EmailVerified: true,
		Name:          "Ada Lovelace",
		GivenName:     "Ada",
		FamilyName:    "Lovelace",
		PasswordHash:  "$argon2id$v=19$m=65536,t=1,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
		Attributes:    newAttributes(),
		CreatedAt:     now,
		UpdatedAt:     now,
	}
}

func newKey(tenant, id string, created time.Time) *storage.SigningKey {
	return &storage.SigningKey{
		TenantID:   tenant,
		ID:         id,
		Algorithm:  "RS256",
		PrivateKey: []byte{0x30, 0x82, 0x00, 0xff, 0x01, byte(len(id))},
		Status:     storage.KeyActive,
		CreatedAt:  created,
	}
}

func newAuthRequest(tenant, id string, now time.Time) *storage.AuthRequest {
	maxAge := int64(3600)
	return &storage.AuthRequest{
		TenantID:            tenant,
		ID:                  id,
		ClientID:            "web",
		RedirectURI:         "https://rp.example/cb",
		Scopes:              []string{"openid", "email"},
		State:               "state-1",
		Nonce:               "nonce-1",
		ResponseType:        "code",
		ResponseMode:        "query",
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		Prompt:              []string{"login", "consent"},
		MaxAge:              &maxAge,
		LoginHint:           "ada",
		HintSubject:         "user-1",
		RequiredACR:         "urn:herald:acr:mfa",
		CreatedAt:           now,
		ExpiresAt:           now.Add(10 * time.Minute),
	}
}

func newAuthCode(tenant, codeHash, grantID string, now time.Time) *storage.AuthCode {
	return &storage.AuthCode{
		TenantID:            tenant,
		CodeHash:            codeHash,
		GrantID:             grantID,
		ClientID:            "web",
		RedirectURI:         "https://rp.example/cb",
		UserID:              "user-1",
		SessionID:           "session-1",
		Scopes:              []string{"openid", "offline_access"},
		Nonce:               "nonce-1",
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		AuthTime:            now.Add(-time.Minute),
		AMR:                 []string{"pwd", "otp"},
		Issuer:              "https://id.example/t/" + tenant,
		CreatedAt:           now,
		ExpiresAt:           now.Add(time.Minute),
	}
}

func newSession(tenant, id, userID string, now time.Time) *storage.Session {
	return &storage.Session{
		TenantID:          tenant,
		ID:                id,
		UserID:            userID,
		AuthTime:          now,
		AMR:               []string{"pwd"},
		CreatedAt:         now,
		IdleExpiresAt:     now.Add(30 * time.Minute),
		AbsoluteExpiresAt: now.Add(8 * time.Hour),
		UserAgent:         "Firefox on Linux",
		LastUsedAt:        now,
	}
}

func newAccessToken(tenant, id, grantID string, now time.Time) *storage.AccessToken {
	return &storage.AccessToken{
		TenantID:  tenant,
		ID:        id,
		GrantID:   grantID,
		ClientID:  "web",
		Subject:   "user-1",
		Audience:  []string{"web", "api"},
		Scopes:    []string{"openid", "profile"},
		CreatedAt: now,
		ExpiresAt: now.Add(time.Hour),
	}
}

// newGrant is a live session-bound grant of user-1 to client "web" that
// outlives every token the fixtures make.
func newGrant(tenant, id string, now time.Time) *storage.Grant {
	return &storage.Grant{
		TenantID:  tenant,
		ID:        id,
		Kind:      storage.GrantAuthorizationCode,
		ClientID:  "web",
		ClientUID: "uid-web-1",
		UserID:    "user-1",
		SessionID: "session-1",
		Issuer:    "https://id.example/t/" + tenant,
		Scopes:    []string{"openid", "offline_access"},
		CreatedAt: now,
		ExpiresAt: now.Add(48 * time.Hour),
	}
}

func newRefreshToken(tenant, id, grantID string, now time.Time) *storage.RefreshToken {
	return &storage.RefreshToken{
		TenantID:  tenant,
		ID:        id,
		GrantID:   grantID,
		ClientID:  "web",
		UserID:    "user-1",
		SessionID: "session-1",
		Audience:  []string{"web"},
		Scopes:    []string{"openid", "offline_access"},
		AuthTime:  now.Add(-time.Minute),
		AMR:       []string{"pwd"},
		CreatedAt: now,
		ExpiresAt: now.Add(24 * time.Hour),
	}
}

// newAttributes holds every kind of JSON value, as JSON decodes them
// (numbers are float64), nested ones included.
func newAttributes() map[string]any {
	return map[string]any{
		"tenant_id":  "t-123",
		"plan_level": float64(3),
		"groups":     []any{"admins", "staff", float64(7)},
		"limits":     map[string]any{"seats": float64(25), "regions": []any{"eu", "us"}},
		"beta":       true,
		"manager":    nil,
		"ratio":      0.25,
	}
}
