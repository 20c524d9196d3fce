package op

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/internal/telemetry"
	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op/login"
	"github.com/herald-idp/herald/op/mfa"
)

// Endpoint paths, relative to an issuer ({public_url}/t/{tenant}).
const (
	pathDiscovery = "/.well-known/openid-configuration"
	// pathASMetadata is OAuth 2.0 Authorization Server Metadata (RFC 8414
	// §3): at a tenant's own hostname it is at the root; for a path-based
	// issuer it is served both with the issuer's path inserted after it
	// (pathASMetadata + "/t/{tenant}" on Herald's host, as the RFC says)
	// and appended to the issuer, as OpenID Connect places discovery and
	// as some clients look for it.
	pathASMetadata = "/.well-known/oauth-authorization-server"
	pathAuthorize  = login.PathAuthorize // served by op/login
	pathToken      = "/token"
	pathUserinfo   = "/userinfo"
	pathIntrospect = "/introspect"
	pathRevoke     = "/revoke"
	pathEndSession = login.PathEndSession // served by op/login
	pathJWKS       = "/jwks"
)

// discoveryDocument is OpenID Connect Discovery 1.0 §3 plus RFC 8414 and
// RFC 9207 fields. The same document answers at pathASMetadata: RFC 8414
// §2 registers the OpenID fields too, and one body keeps the two from
// drifting apart (and shares the cache and the ETag). Herald writes its own rather than the library's, which
// always advertises the implicit flow and cannot say
// authorization_response_iss_parameter_supported.
type discoveryDocument struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	EndSessionEndpoint                         string   `json:"end_session_endpoint"`
	ScopesSupported                            []string `json:"scopes_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	SubjectTypesSupported                      []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	ClaimsSupported                            []string `json:"claims_supported"`
	PromptValuesSupported                      []string `json:"prompt_values_supported"`
	AuthorizationResponseISSParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
	RequestParameterSupported                  bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported               bool     `json:"request_uri_parameter_supported"`
	ClaimsParameterSupported                   bool     `json:"claims_parameter_supported"`
	FrontchannelLogoutSupported                bool     `json:"frontchannel_logout_supported"`
	BackchannelLogoutSupported                 bool     `json:"backchannel_logout_supported"`
	// ACRValuesSupported: Herald's authentication context classes
	// (docs/mfa.md); acr_values naming the multi-factor one is a step-up.
	ACRValuesSupported []string `json:"acr_values_supported"`
}

func newDiscoveryDocument(issuer string, algs []string) *discoveryDocument {
	secretMethods := []string{"client_secret_basic", "client_secret_post"}
	return &discoveryDocument{
		Issuer:                                    issuer,
		AuthorizationEndpoint:                     issuer + pathAuthorize,
		TokenEndpoint:                             issuer + pathToken,
		UserinfoEndpoint:                          issuer + pathUserinfo,
		JWKSURI:                                   issuer + pathJWKS,
		IntrospectionEndpoint:                     issuer + pathIntrospect,
		RevocationEndpoint:                        issuer + pathRevoke,
		EndSessionEndpoint:                        issuer + pathEndSession,
		ScopesSupported:                           advertisedScopes,
		ResponseTypesSupported:                    []string{string(oidc.ResponseTypeCode)},
		ResponseModesSupported:                    []string{"query"},
		GrantTypesSupported:                       []string{"authorization_code", "refresh_token", "client_credentials"},
		SubjectTypesSupported:                     []string{"public"},
		IDTokenSigningAlgValuesSupported:          algs,
		TokenEndpointAuthMethodsSupported:         append(slices.Clone(secretMethods), "none"),
		IntrospectionEndpointAuthMethodsSupported: secretMethods,
		RevocationEndpointAuthMethodsSupported:    append(slices.Clone(secretMethods), "none"),
		CodeChallengeMethodsSupported:             []string{"S256"},
		ClaimsSupported: []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "azp",
			"at_hash", "name", "given_name", "family_name", "preferred_username", "updated_at", "email", "email_verified",
			"idp"}, // the connector of a federated sign-in (federation.go)
		PromptValuesSupported:                      []string{"none", "login", "consent"},
		ACRValuesSupported:                         mfa.ACRValuesSupported,
		AuthorizationResponseISSParameterSupported: true,
	}
}

// metadataDocument is a pre-serialised discovery document or JWKS and its
// ETag, computed once with the bytes rather than hashed per request.
type metadataDocument struct {
	body json.RawMessage
	etag string
}

func newMetadataDocument(body json.RawMessage) metadataDocument {
	return metadataDocument{body: body, etag: entityTag(body)}
}

// discoveryBody is the tenant's document, pre-serialised and cached per
// issuer, so the hot path is a map lookup.
func (p *protocolServer) discoveryBody(ctx context.Context) (metadataDocument, error) {
	s := p.s
	issuer := zop.IssuerFromContext(ctx)
	doc, ok := s.caches.discovery.Get(issuer)
	s.tel.CacheLookup(telemetry.CacheDiscovery, ok)
	if ok {
		return doc, nil
	}
	published, err := s.minter.publishedAlgorithms(ctx, tenantName(ctx))
	if err != nil {
		return metadataDocument{}, storageError(ctx, "key set", err)
	}
	algs := []string{keys.DefaultAlgorithm}
	for _, a := range published {
		if !slices.Contains(algs, a) {
			algs = append(algs, a)
		}
	}
	body, err := json.Marshal(newDiscoveryDocument(issuer, algs))
	if err != nil {
		return metadataDocument{}, serverError(ctx, "discovery", err)
	}
	doc = newMetadataDocument(body)
	s.caches.discovery.Add(issuer, doc)
	return doc, nil
}

// jwksBody is the tenant's JWKS, pre-serialised and cached per tenant (a
// JWKS of RSA keys costs tens of microseconds to encode).
func (p *protocolServer) jwksBody(ctx context.Context) (metadataDocument, error) {
	s := p.s
	name := tenantName(ctx)
	doc, ok := s.caches.jwks.Get(name)
	s.tel.CacheLookup(telemetry.CacheJWKS, ok)
	if ok {
		return doc, nil
	}
	resp, err := p.LegacyServer.Keys(ctx, &zop.Request[struct{}]{})
	if err != nil {
		return metadataDocument{}, err
	}
	body, err := json.Marshal(resp.Data)
	if err != nil {
		return metadataDocument{}, serverError(ctx, "jwks", err)
	}
	doc = newMetadataDocument(body)
	s.caches.jwks.Add(name, doc)
	return doc, nil
}

// metadataCacheControl lets relying parties and gateways cache discovery and
// JWKS for keys.JWKSMaxAge (five minutes; they refetch JWKS on an unknown
// kid). It must stay shorter than the window a next key is published before
// it signs (keys.DefaultPrePublish), so that no cached JWKS lacks the key
// a token is signed with; TestJWKSCaching holds that.
var metadataCacheControl = fmt.Sprintf("public, max-age=%d", int(keys.JWKSMaxAge/time.Second))

// Discovery and Keys answer through the library's router too; Herald's own
// routes (serveMetadata) normally answer first.
func (p *protocolServer) Discovery(ctx context.Context, r *zop.Request[struct{}]) (*zop.Response, error) {
	doc, err := p.discoveryBody(ctx)
	if err != nil {
		return nil, err
	}
	return &zop.Response{Header: map[string][]string{"Cache-Control": {metadataCacheControl}}, Data: doc.body}, nil
}

func (p *protocolServer) Keys(ctx context.Context, r *zop.Request[struct{}]) (*zop.Response, error) {
	doc, err := p.jwksBody(ctx)
	if err != nil {
		return nil, err
	}
	return &zop.Response{Header: map[string][]string{"Cache-Control": {metadataCacheControl}}, Data: doc.body}, nil
}

// serveMetadata writes the cached bytes of discovery or JWKS directly:
// these two documents are requested far more often than anything else, and
// going through the library's router would re-encode them on every request.
// A strong ETag (a hash of the bytes) lets a client revalidate with
// If-None-Match and get 304 Not Modified (RFC 9110 §13.1.2, §15.4.5).
func serveMetadata(document func(context.Context) (metadataDocument, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		doc, err := document(r.Context())
		if err != nil {
			zop.WriteError(w, r, err, nil)
			return
		}
		h := w.Header()
		h.Set("ETag", doc.etag)
		h.Set("Cache-Control", metadataCacheControl)
		if etagMatches(r.Header.Get("If-None-Match"), doc.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(doc.body)
	}
}

// entityTag is a strong validator of body: 128 bits of its SHA-256.
func entityTag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}

// etagMatches applies If-None-Match's weak comparison (RFC 9110 §13.1.2):
// "*" or any listed tag equal to etag, with or without W/.
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}
