package op

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"
)

// The hot endpoints — client_credentials and refresh_token at /token,
// /introspect and /userinfo — are dispatched here straight to Herald's
// own protocolServer methods, the same ones the library calls. The library
// would decode the same few parameters through a reflection-based form
// decoder, route the request through a router and a tracing span of its
// own, and that cost about a third of a client_credentials request's CPU
// (docs/benchmarks.md). The checks are the library's, in its order, and
// errors are written by its WriteError; only requests of the usual shape
// are taken: every parameter known and non-empty, no client assertion.
// Anything else goes on to the library unchanged.

// fastParams are the parameters a request taken by the fast path may
// carry, by route and grant.
var (
	fastClientCredentialsParams = []string{"grant_type", "scope", "client_id", "client_secret"}
	fastRefreshParams           = []string{"grant_type", "refresh_token", "scope", "client_id", "client_secret"}
	fastIntrospectParams        = []string{"token", "token_type_hint", "client_id", "client_secret"}
)

// fastPaths serves what it can of the protocol endpoints and hands the rest
// to next (the library's handler). It runs after checkFormParams, which
// parsed the form of POSTs to the token and introspection endpoints and
// refused repeated parameters.
func (p *protocolServer) fastPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.serveFast(w, r) {
			next.ServeHTTP(w, r)
		}
	})
}

// serveFast answers r and reports true if r is one of the requests the fast
// path takes; otherwise it writes nothing.
func (p *protocolServer) serveFast(w http.ResponseWriter, r *http.Request) bool {
	path := tenantRoutePath(r)
	served := false
	switch r.Method {
	case http.MethodGet:
		if path == pathUserinfo {
			served = p.fastUserinfo(w, r)
		}
	case http.MethodPost:
		if !isForm(r) || r.URL.RawQuery != "" {
			return false
		}
		switch path {
		case pathToken:
			served = p.fastToken(w, r)
		case pathIntrospect:
			served = p.fastIntrospect(w, r)
		}
	}
	if served {
		markRoute(r, path)
	}
	return served
}

// markRoute completes the chi route pattern of a request the fast path
// served, as the library's router would have ("/t/{tenant}/*" + "/token"),
// so that the access log, metrics and span names show the endpoint.
func markRoute(r *http.Request, path string) {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		rc.RoutePatterns = append(rc.RoutePatterns, path)
	}
}

func isForm(r *http.Request) bool {
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded")
}

// onlyParams reports whether every parameter of form is one of known and
// has exactly one non-empty value.
func onlyParams(form url.Values, known []string) bool {
	for k, vs := range form {
		if len(vs) != 1 || vs[0] == "" || !slices.Contains(known, k) {
			return false
		}
	}
	return true
}

// fastClientCredentials is the library's parseClientCredentials for a
// request without a client assertion: the form's client_id and
// client_secret, or HTTP Basic (form-encoded, RFC 6749 §2.3.1), never both.
// ok is false when the library should see the request (no client_id).
func fastClientCredentials(r *http.Request) (cc *zop.ClientCredentials, ok bool, err error) {
	cc = &zop.ClientCredentials{ClientID: r.Form.Get("client_id"), ClientSecret: r.Form.Get("client_secret")}
	if id, secret, basic := r.BasicAuth(); basic {
		if cc.ClientSecret != "" && cc.ClientID != "" {
			return nil, true, errTwoMethods()
		}
		if cc.ClientID, err = url.QueryUnescape(id); err != nil {
			return nil, true, oidc.ErrInvalidClient().WithDescription("invalid basic auth header").WithParent(err)
		}
		if cc.ClientSecret, err = url.QueryUnescape(secret); err != nil {
			return nil, true, oidc.ErrInvalidClient().WithDescription("invalid basic auth header").WithParent(err)
		}
	}
	return cc, cc.ClientID != "", nil
}

// fastToken serves the client_credentials and refresh_token grants.
func (p *protocolServer) fastToken(w http.ResponseWriter, r *http.Request) bool {
	if r.Form == nil { // checkFormParams parses every POST here; be safe
		return false
	}
	grantType := oidc.GrantType(r.Form.Get("grant_type"))
	switch grantType {
	case oidc.GrantTypeClientCredentials:
		if !onlyParams(r.Form, fastClientCredentialsParams) {
			return false
		}
	case oidc.GrantTypeRefreshToken:
		if !onlyParams(r.Form, fastRefreshParams) || r.Form.Get("refresh_token") == "" {
			return false
		}
	default:
		return false
	}
	cc, ok, err := fastClientCredentials(r)
	if !ok {
		return false
	}
	if err != nil {
		zop.WriteError(w, r, err, nil)
		return true
	}
	ctx := r.Context()
	zc, err := p.VerifyClient(ctx, &zop.Request[zop.ClientCredentials]{
		Method: r.Method, URL: r.URL, Header: r.Header, Form: r.Form, PostForm: r.PostForm, Data: cc,
	})
	if err != nil {
		zop.WriteError(w, r, err, nil)
		return true
	}
	if !zop.ValidateGrantType(zc, grantType) {
		zop.WriteError(w, r, oidc.ErrUnauthorizedClient().WithDescription("grant_type %q not allowed", grantType), nil)
		return true
	}
	var scopes oidc.SpaceDelimitedArray
	if s := r.Form.Get("scope"); s != "" {
		_ = scopes.UnmarshalText([]byte(s)) // never fails
	}
	base := &zop.Request[struct{}]{Method: r.Method, URL: r.URL, Header: r.Header, Form: r.Form, PostForm: r.PostForm}
	var resp *zop.Response
	if grantType == oidc.GrantTypeClientCredentials {
		if zc.AuthMethod() == oidc.AuthMethodNone {
			zop.WriteError(w, r, oidc.ErrInvalidClient().WithDescription("client must be authenticated"), nil)
			return true
		}
		resp, err = p.ClientCredentialsExchange(ctx, &zop.ClientRequest[oidc.ClientCredentialsRequest]{
			Request: withData(base, &oidc.ClientCredentialsRequest{
				GrantType: grantType, Scope: scopes, ClientID: r.Form.Get("client_id"), ClientSecret: r.Form.Get("client_secret"),
			}),
			Client: zc,
		})
	} else {
		resp, err = p.RefreshToken(ctx, &zop.ClientRequest[oidc.RefreshTokenRequest]{
			Request: withData(base, &oidc.RefreshTokenRequest{
				RefreshToken: r.Form.Get("refresh_token"), Scopes: scopes,
				ClientID: r.Form.Get("client_id"), ClientSecret: r.Form.Get("client_secret"),
			}),
			Client: zc,
		})
	}
	writeResponse(w, r, resp, err)
	return true
}

// fastIntrospect serves RFC 7662 introspection.
func (p *protocolServer) fastIntrospect(w http.ResponseWriter, r *http.Request) bool {
	if r.Form == nil || !onlyParams(r.Form, fastIntrospectParams) || r.Form.Get("token") == "" {
		return false
	}
	cc, ok, err := fastClientCredentials(r)
	if !ok || (err == nil && cc.ClientSecret == "") {
		return false
	}
	if err != nil {
		zop.WriteError(w, r, err, nil)
		return true
	}
	resp, err := p.Introspect(r.Context(), &zop.Request[zop.IntrospectionRequest]{
		Method: r.Method, URL: r.URL, Header: r.Header, Form: r.Form, PostForm: r.PostForm,
		Data: &zop.IntrospectionRequest{ClientCredentials: cc, IntrospectionRequest: &oidc.IntrospectionRequest{Token: r.Form.Get("token")}},
	})
	writeResponse(w, r, resp, err)
	return true
}

// fastUserinfo serves a GET /userinfo with a bearer token in the
// Authorization header and no query (OIDC Core §5.3.1, RFC 6750 §2.1).
func (p *protocolServer) fastUserinfo(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.RawQuery != "" || r.ContentLength > 0 {
		return false
	}
	h := r.Header.Get("Authorization")
	if len(h) <= len(oidc.PrefixBearer) || !strings.EqualFold(h[:len(oidc.PrefixBearer)], oidc.PrefixBearer) {
		return false
	}
	if err := r.ParseForm(); err != nil {
		return false
	}
	resp, err := p.UserInfo(r.Context(), &zop.Request[oidc.UserInfoRequest]{
		Method: r.Method, URL: r.URL, Header: r.Header, Form: r.Form, PostForm: r.PostForm,
		Data: &oidc.UserInfoRequest{AccessToken: h[len(oidc.PrefixBearer):]},
	})
	writeResponse(w, r, resp, err)
	return true
}

func withData[T any](base *zop.Request[struct{}], data *T) *zop.Request[T] {
	return &zop.Request[T]{Method: base.Method, URL: base.URL, Header: base.Header, Form: base.Form, PostForm: base.PostForm, Data: data}
}

// writeResponse is the library's Response.writeOut, or its WriteError.
func writeResponse(w http.ResponseWriter, r *http.Request, resp *zop.Response, err error) {
	if err != nil {
		zop.WriteError(w, r, err, nil)
		return
	}
	h := w.Header()
	for k, v := range resp.Header {
		h[k] = v
	}
	if claims, ok := libraryClaims(resp.Data); ok {
		// The bytes the library would write, without json.Encoder
		// re-reading what MarshalJSON returns (marshalClaims).
		b, err := marshalClaims(claims)
		if err != nil {
			zop.WriteError(w, r, oidc.ErrServerError().WithParent(err), nil)
			return
		}
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(append(b, '\n'))
		return
	}
	httphelper.MarshalJSON(w, resp.Data)
}

// libraryClaims returns v when it is one of the library's claim types that
// marshalClaims may encode.
func libraryClaims(v any) (json.Marshaler, bool) {
	switch c := v.(type) {
	case *oidc.UserInfo:
		return c, c != nil
	case *oidc.IntrospectionResponse:
		return c, c != nil
	case *oidc.AccessTokenClaims:
		return c, c != nil
	case *oidc.IDTokenClaims:
		return c, c != nil
	}
	return nil, false
}

// marshalClaims is json.Marshal(m) for the library's claim types
// (oidc.UserInfo, oidc.IntrospectionResponse, oidc.AccessTokenClaims,
// oidc.IDTokenClaims), whose MarshalJSON already returns compact,
// HTML-escaped JSON from a json.Encoder, plus its newline: json.Marshal
// would validate, re-escape and copy it once more, for the same bytes.
func marshalClaims(m json.Marshaler) ([]byte, error) {
	b, err := m.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b, []byte("\n")), nil
}
