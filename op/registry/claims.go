package registry

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/herald-idp/herald/storage"
)

// claimNamePattern is what a custom claim name and a user attribute name
// look like: an identifier that may contain ':', '.' and '-' (namespaced
// names such as "acme:plan" or "https.acme.test-groups" stay possible).
var claimNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_:.-]{0,63}$`)

// Where a mapped claim may go (storage.ClaimMapping.Targets).
const (
	ClaimTargetIDToken     = "id_token"
	ClaimTargetAccessToken = "access_token"
	ClaimTargetUserinfo    = "userinfo"
)

var claimTargets = []string{ClaimTargetIDToken, ClaimTargetAccessToken, ClaimTargetUserinfo}

// reservedClaims may not be set from user attributes: Herald sets them, and
// letting a tenant map an attribute onto one would let user data forge
// identity, audience, lifetime or verification status. Registered JWT claims
// (RFC 7519 §4.1), OIDC Core §2, §3.1.3.6, §5.1 and §5.6.2, RFC 9068 §2.2,
// RFC 7800 (cnf), RFC 8693 §4 (act, may_act), Back-Channel Logout (events).
var reservedClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true,
	"auth_time": true, "nonce": true, "acr": true, "amr": true, "azp": true, "sid": true,
	"at_hash": true, "c_hash": true, "s_hash": true, "sub_jwk": true,
	"scope": true, "client_id": true, "cnf": true, "act": true, "may_act": true, "events": true,
	"typ": true, "token_type": true, "active": true, "username": true,
	"_claim_names": true, "_claim_sources": true,
	// OIDC standard claims come from the user record, never from attributes.
	"name": true, "given_name": true, "family_name": true, "middle_name": true, "nickname": true,
	"preferred_username": true, "profile": true, "picture": true, "website": true,
	"email": true, "email_verified": true, "gender": true, "birthdate": true, "zoneinfo": true,
	"locale": true, "phone_number": true, "phone_number_verified": true, "address": true,
	"updated_at": true,
}

const (
	maxClaimMappings = 50
	// MaxAttributesSize bounds a user's attributes, JSON-encoded: they go
	// into tokens, and tokens travel in headers.
	MaxAttributesSize = 16 << 10
)

// checkClaimMappings validates a tenant's custom claims and returns them
// with targets deduplicated. Fields are named
// "settings.custom_claims[i].<name>".
func checkClaimMappings(p *problems, in []storage.ClaimMapping) []storage.ClaimMapping {
	const field = "settings.custom_claims"
	if len(in) > maxClaimMappings {
		p.add(field, "at most %d custom claims", maxClaimMappings)
		return in
	}
	out := cloneClaims(in)
	var seen []string
	for i := range out {
		m := &out[i]
		at := fmt.Sprintf("%s[%d].", field, i)
		switch {
		case !claimNamePattern.MatchString(m.Claim):
			p.add(at+"claim", "%q must match %s", m.Claim, claimNamePattern)
		case reservedClaims[m.Claim]:
			p.add(at+"claim", "%q is a registered claim that Herald sets itself", m.Claim)
		case slices.Contains(seen, m.Claim):
			p.add(at+"claim", "%q is mapped more than once", m.Claim)
		}
		seen = append(seen, m.Claim)
		if !claimNamePattern.MatchString(m.Attribute) {
			p.add(at+"attribute", "%q must match %s", m.Attribute, claimNamePattern)
		}
		if m.Scope != "" && !scopeTokenPattern.MatchString(m.Scope) {
			p.add(at+"scope", "%q is not a valid scope token (RFC 6749 §3.3)", m.Scope)
		}
		m.Targets = dedupe(m.Targets)
		for _, t := range m.Targets {
			if !slices.Contains(claimTargets, t) {
				p.add(at+"targets", "unknown target %q (allowed: %s)", t, strings.Join(claimTargets, ", "))
			}
		}
	}
	return out
}

// checkAttributes validates a user's attributes and returns them as plain
// JSON values (what a JSON round trip yields), so that what is stored is
// exactly what tokens will carry.
func checkAttributes(p *problems, attrs map[string]any) map[string]any {
	if len(attrs) == 0 {
		return nil
	}
	ok := true
	for k := range attrs {
		if !claimNamePattern.MatchString(k) {
			p.add("attributes", "attribute name %q must match %s", k, claimNamePattern)
			ok = false
		}
	}
	raw, err := json.Marshal(attrs)
	if err != nil {
		p.add("attributes", "values must be JSON values (strings, numbers, booleans, null, arrays, objects)")
		return nil
	}
	if len(raw) > MaxAttributesSize {
		p.add("attributes", "must be at most %d bytes as JSON, not %d", MaxAttributesSize, len(raw))
		return nil
	}
	if !ok {
		return nil
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		p.add("attributes", "values must be JSON values")
		return nil
	}
	return out
}
