package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/net/html"
)

// The full login of W5, as a browser and a relying party do it: authorize →
// Herald's login form (parsed as HTML) → POST username and password → the
// redirect to the client (a first-party client skips consent) → code
// exchange with PKCE → ID-token signature and claims checked against the
// tenant's JWKS.

// rpClient is a registered client as its relying party knows it.
type rpClient struct {
	issuer, id, secret, redirectURI string
}

func (c rpClient) public() bool { return c.secret == "" }

// tokenSet is a token response.
type tokenSet struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
}

// flow holds what every login of one tenant shares.
type flow struct {
	http               *httpClient
	serverHost         string // host:port of Herald; a redirect elsewhere reaches the client
	jwks               *jose.JSONWebKeySet
	username, password string
	// device is the device cookie of the user's known browser: sent with
	// every login once a login has completed (nil: never).
	device *atomic.Pointer[http.Cookie]
}

// deviceCookieName is Herald's device cookie (op/login defence.go).
const deviceCookieName = "herald_device"

// login runs one complete login of the user for c and returns its tokens.
func (f *flow) login(ctx context.Context, c rpClient, scope string) (*tokenSet, error) {
	verifier := randomString(32)
	sum := sha256.Sum256([]byte(verifier))
	state, nonce := randomString(16), randomString(16)
	authorize := c.issuer + "/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {c.id}, "redirect_uri": {c.redirectURI},
		"scope": {scope}, "state": {state}, "nonce": {nonce},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}.Encode()

	b, err := f.newBrowser()
	if err != nil {
		return nil, err
	}
	issuerURL, _ := url.Parse(c.issuer + "/")
	if f.device != nil {
		if dc := f.device.Load(); dc != nil {
			b.client.Jar.SetCookies(issuerURL, []*http.Cookie{dc})
		}
	}
	// authorize → (Herald's own redirect) → login form.
	page, err := b.do(ctx, "authorize", http.MethodGet, authorize, nil)
	if err != nil {
		return nil, err
	}
	if page.status != http.StatusOK {
		return nil, page.stepError("authorize")
	}
	form, err := parseLoginForm(page.body)
	if err != nil {
		return nil, &stepError{step: "authorize", err: err}
	}
	action, err := page.url.Parse(form.action)
	if err != nil {
		return nil, &stepError{step: "authorize", err: fmt.Errorf("form action %q: %w", form.action, err)}
	}
	values := form.hidden
	values.Set("username", f.username)
	values.Set("password", f.password)
	page, err = b.do(ctx, "login", http.MethodPost, action.String(), values)
	if err != nil {
		return nil, err
	}
	code, err := authorizationCode(page, c, state)
	if err != nil {
		return nil, err
	}
	if f.device != nil && f.device.Load() == nil {
		for _, ck := range b.client.Jar.Cookies(issuerURL) {
			if ck.Name == deviceCookieName {
				f.device.CompareAndSwap(nil, &http.Cookie{Name: ck.Name, Value: ck.Value, Path: issuerURL.Path})
			}
		}
	}

	form2 := url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {c.redirectURI}, "code_verifier": {verifier}}
	tokens, err := f.token(ctx, c, form2)
	if err != nil {
		return nil, err
	}
	if strings.Contains(" "+scope+" ", " openid ") {
		if err := verifyIDToken(f.jwks, tokens.IDToken, c, nonce, time.Now()); err != nil {
			return nil, &stepError{step: "id_token", err: err}
		}
	}
	return tokens, nil
}

// token POSTs form to the token endpoint as c and decodes the response.
func (f *flow) token(ctx context.Context, c rpClient, form url.Values) (*tokenSet, error) {
	r, err := f.http.postForm(ctx, c.issuer+"/token", c, form)
	if err != nil {
		return nil, &stepError{step: "token", err: err}
	}
	if r.status != http.StatusOK {
		return nil, r.stepError("token")
	}
	var t tokenSet
	if err := json.Unmarshal(r.body, &t); err != nil || t.AccessToken == "" {
		return nil, &stepError{step: "token", err: errors.New("no access_token in the response"), body: string(r.body)}
	}
	return &t, nil
}

// authorizationCode reads the code from the redirect to the client,
// checking state and iss (RFC 9207).
func authorizationCode(p *response, c rpClient, state string) (string, error) {
	if p.status < 300 || p.status > 399 {
		return "", p.stepError("login")
	}
	loc, err := url.Parse(p.header.Get("Location"))
	if err != nil {
		return "", &stepError{step: "login", err: err}
	}
	q := loc.Query()
	base := *loc
	base.RawQuery = ""
	switch {
	case base.String() != c.redirectURI:
		return "", &stepError{step: "login", err: fmt.Errorf("redirected to %s, not the client", base.String())}
	case q.Get("error") != "":
		return "", &stepError{step: "login", err: fmt.Errorf("authorization error %s: %s", q.Get("error"), q.Get("error_description"))}
	case q.Get("state") != state:
		return "", &stepError{step: "login", err: errors.New("state mismatch")}
	case q.Get("iss") != c.issuer:
		return "", &stepError{step: "login", err: fmt.Errorf("iss %q, want %q", q.Get("iss"), c.issuer)}
	case q.Get("code") == "":
		return "", &stepError{step: "login", err: errors.New("no code")}
	}
	return q.Get("code"), nil
}

// loginForm is what parseLoginForm finds in the login page.
type loginForm struct {
	action string
	hidden url.Values
}

// parseLoginForm finds the first form of the page and checks that it is a
// login form (username and password inputs); hidden inputs (CSRF token,
// auth request ID) are returned to be posted back.
func parseLoginForm(body []byte) (*loginForm, error) {
	doc, err := html.Parse(strings.NewReader(string(body)))
	if err != nil {
		return nil, fmt.Errorf("parse login page: %w", err)
	}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "form" {
			continue
		}
		f := &loginForm{action: htmlAttr(n, "action"), hidden: url.Values{}}
		inputs := map[string]string{}
		for in := range n.Descendants() {
			if in.Type != html.ElementNode || in.Data != "input" || htmlAttr(in, "name") == "" {
				continue
			}
			typ := strings.ToLower(htmlAttr(in, "type"))
			inputs[htmlAttr(in, "name")] = typ
			if typ == "hidden" {
				f.hidden.Add(htmlAttr(in, "name"), htmlAttr(in, "value"))
			}
		}
		if _, ok := inputs["username"]; !ok || inputs["password"] != "password" {
			return nil, errors.New("the first form of the page is not a login form")
		}
		return f, nil
	}
	return nil, errors.New("no form on the page")
}

func htmlAttr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// idTokenClaims are the claims verifyIDToken checks.
type idTokenClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience audience `json:"aud"`
	Expiry   int64    `json:"exp"`
	Nonce    string   `json:"nonce"`
}

// audience is "aud": a string or an array of strings (RFC 7519 §4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// verifyIDToken checks the signature against jwks and the claims a relying
// party must check (OIDC Core §3.1.3.7).
func verifyIDToken(jwks *jose.JSONWebKeySet, raw string, c rpClient, nonce string, now time.Time) error {
	if raw == "" {
		return errors.New("no id_token")
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	payload, err := jws.Verify(jwks)
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	var cl idTokenClaims
	if err := json.Unmarshal(payload, &cl); err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	switch {
	case cl.Issuer != c.issuer:
		return fmt.Errorf("iss %q, want %q", cl.Issuer, c.issuer)
	case !slices.Contains(cl.Audience, c.id):
		return fmt.Errorf("aud %v lacks %q", cl.Audience, c.id)
	case cl.Nonce != nonce:
		return errors.New("nonce mismatch")
	case cl.Subject == "":
		return errors.New("no sub")
	case time.Unix(cl.Expiry, 0).Before(now):
		return errors.New("expired")
	}
	return nil
}

// browser is one login's cookie jar over the shared keep-alive transport.
type browser struct{ client *http.Client }

func (f *flow) newBrowser() (*browser, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	host := f.serverHost
	return &browser{client: &http.Client{
		Transport: f.http.browser,
		Jar:       jar,
		Timeout:   f.http.client.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != host {
				return http.ErrUseLastResponse // the client's redirect URI: stop
			}
			if len(via) >= 10 {
				return errors.New("redirect loop")
			}
			return nil
		},
	}}, nil
}

func (b *browser) do(ctx context.Context, step, method, rawURL string, form url.Values) (*response, error) {
	var body string
	if form != nil {
		body = form.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, strings.NewReader(body))
	if err != nil {
		return nil, &stepError{step: step, err: err}
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	r, err := send(b.client, req)
	if err != nil {
		return nil, &stepError{step: step, err: err}
	}
	return r, nil
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}
