package op

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/keys"
)

// Endpoint paths, relative to an issuer ({public_url}/t/{tenant}).
const (
	pathDiscovery  = "/.well-known/openid-configuration"
	pathAuthorize  = "/authorize"
	pathLogin      = "/login"
	pathConsent    = "/consent"
	pathToken      = "/token"
	pathUserinfo   = "/userinfo"
	pathIntrospect = "/introspect"
	pathRevoke     = "/revoke"
	pathEndSession = "/end_session"
	pathJWKS       = "/jwks"
)

// discoveryDocument is OpenID Connect Discovery 1.0 §3 plus RFC 8414 and
// RFC 9207 fields. Herald writes its own rather than the library's, which
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
		ScopesSupported:                           standardScopes,
		ResponseTypesSupported:                    []string{string(oidc.ResponseTypeCode)},
		ResponseModesSupported:                    []string{"query"},
		GrantTypesSupported:                       []string{"authorization_code", "refresh_token", "client_credentials"},
		SubjectTypesSupported:                     []string{"public"},
		IDTokenSigningAlgValuesSupported:          algs,
		TokenEndpointAuthMethodsSupported:         append(slices.Clone(secretMethods), "none"),
		IntrospectionEndpointAuthMethodsSupported: secretMethods,
		RevocationEndpointAuthMethodsSupported:    append(slices.Clone(secretMethods), "none"),
		CodeChallengeMethodsSupported:             []string{"S256"},
		ClaimsSupported: []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "sid", "azp",
			"at_hash", "name", "given_name", "family_name", "preferred_username", "updated_at", "email", "email_verified"},
		PromptValuesSupported:                      []string{"none", "login", "consent"},
		AuthorizationResponseISSParameterSupported: true,
	}
}

// discoveryBody is the tenant's document, pre-serialised and cached per
// issuer, so the hot path is a map lookup.
func (p *protocolServer) discoveryBody(ctx context.Context) (json.RawMessage, error) {
	s := p.s
	issuer := zop.IssuerFromContext(ctx)
	if body, ok := s.discovery.Get(issuer); ok {
		return body, nil
	}
	jalgs, err := s.storage.SignatureAlgorithms(ctx)
	if err != nil {
		return nil, err
	}
	algs := []string{keys.DefaultAlgorithm}
	for _, a := range jalgs {
		if !slices.Contains(algs, string(a)) {
			algs = append(algs, string(a))
		}
	}
	body, err := json.Marshal(newDiscoveryDocument(issuer, algs))
	if err != nil {
		return nil, serverError(ctx, "discovery", err)
	}
	s.discovery.Add(issuer, body)
	return body, nil
}

// jwksBody is the tenant's JWKS, pre-serialised and cached per tenant (a
// JWKS of RSA keys costs tens of microseconds to encode).
func (p *protocolServer) jwksBody(ctx context.Context) (json.RawMessage, error) {
	s := p.s
	name := tenantName(ctx)
	if body, ok := s.jwks.Get(name); ok {
		return body, nil
	}
	resp, err := p.LegacyServer.Keys(ctx, &zop.Request[struct{}]{})
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(resp.Data)
	if err != nil {
		return nil, serverError(ctx, "jwks", err)
	}
	s.jwks.Add(name, body)
	return body, nil
}

// metadataCacheControl lets relying parties and gateways cache discovery and
// JWKS for five minutes (they refetch JWKS on an unknown kid).
const metadataCacheControl = "public, max-age=300"

// Discovery and Keys answer through the library's router too; Herald's own
// routes (serveMetadata) normally answer first.
func (p *protocolServer) Discovery(ctx context.Context, r *zop.Request[struct{}]) (*zop.Response, error) {
	body, err := p.discoveryBody(ctx)
	if err != nil {
		return nil, err
	}
	return &zop.Response{Header: map[string][]string{"Cache-Control": {metadataCacheControl}}, Data: body}, nil
}

func (p *protocolServer) Keys(ctx context.Context, r *zop.Request[struct{}]) (*zop.Response, error) {
	body, err := p.jwksBody(ctx)
	if err != nil {
		return nil, err
	}
	return &zop.Response{Header: map[string][]string{"Cache-Control": {metadataCacheControl}}, Data: body}, nil
}

// serveMetadata writes the cached bytes of discovery or JWKS directly:
// these two documents are requested far more often than anything else, and
// going through the library's router would re-encode them on every request.
func serveMetadata(body func(context.Context) (json.RawMessage, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := body(r.Context())
		if err != nil {
			zop.WriteError(w, r, err, nil)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", metadataCacheControl)
		_, _ = w.Write(b)
	}
}
