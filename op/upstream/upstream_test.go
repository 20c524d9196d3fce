package upstream

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc/oidctest"

	"github.com/herald-idp/herald/storage"
)

// tokenServer is an OpenID provider (go-oidc's test server for discovery
// and keys) whose token endpoint answers with an ID token built by idToken.
func tokenServer(t *testing.T, idToken func(issuer string) (string, int)) (*httptest.Server, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	op := &oidctest.Server{
		PublicKeys: []oidctest.PublicKey{{PublicKey: key.Public(), KeyID: "k1", Algorithm: "ES256"}},
		Algorithms: []string{"ES256"},
	}
	mux := http.NewServeMux()
	var ts *httptest.Server
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		raw, status := idToken(ts.URL)
		if status != http.StatusOK {
			http.Error(w, `{"error":"server_error"}`, status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "id_token": raw})
	})
	mux.Handle("/", op)
	ts = httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	op.SetIssuer(ts.URL)
	return ts, key
}

func claims(issuer, aud, nonce string) string {
	return fmt.Sprintf(`{"iss":%q,"aud":%q,"sub":"u-1","nonce":%q,"exp":%d,"iat":%d,"email":"a@b.example","email_verified":true,"mail":"m@b.example"}`,
		issuer, aud, nonce, time.Now().Add(time.Hour).Unix(), time.Now().Unix())
}

func request(issuer string) Request {
	return Request{
		Connector: &storage.Connector{TenantID: "acme", ID: "corp", Type: storage.ConnectorOIDC, Issuer: issuer,
			ClientID: "herald", Scopes: []string{"openid"}, ClaimMapping: map[string]string{"email": "mail"}},
		ClientSecret: []byte("s"), RedirectURL: "http://127.0.0.1/cb", State: "st", Nonce: "n-1",
		CodeVerifier: "v-0123456789012345678901234567890123456789012",
	}
}

// The ID token must be signed by the provider's key, for this client, with
// this nonce; anything else is Invalid. A provider that cannot be reached
// or fails is Unavailable.
func TestExchangeVerifiesIDToken(t *testing.T) {
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var good *ecdsa.PrivateKey
	tests := []struct {
		name  string
		token func(issuer string) (string, int)
		want  Kind
	}{
		{"valid", func(iss string) (string, int) {
			return oidctest.SignIDToken(good, "k1", "ES256", claims(iss, "herald", "n-1")), 200
		}, -1},
		{"bad signature", func(iss string) (string, int) {
			return oidctest.SignIDToken(other, "k1", "ES256", claims(iss, "herald", "n-1")), 200
		}, Invalid},
		{"wrong audience", func(iss string) (string, int) {
			return oidctest.SignIDToken(good, "k1", "ES256", claims(iss, "someone-else", "n-1")), 200
		}, Invalid},
		{"wrong nonce", func(iss string) (string, int) {
			return oidctest.SignIDToken(good, "k1", "ES256", claims(iss, "herald", "replayed")), 200
		}, Invalid},
		{"wrong issuer", func(iss string) (string, int) {
			return oidctest.SignIDToken(good, "k1", "ES256", claims("https://evil.example", "herald", "n-1")), 200
		}, Invalid},
		{"provider failing", func(string) (string, int) { return "", http.StatusServiceUnavailable }, Unavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, key := tokenServer(t, func(iss string) (string, int) { return tc.token(iss) })
			good = key
			c := New(ts.Client())
			id, err := c.Exchange(t.Context(), request(ts.URL), "code")
			if tc.want == -1 {
				if err != nil || id.Subject != "u-1" || id.Email != "m@b.example" || !id.EmailVerified {
					t.Fatalf("Exchange = %+v, %v", id, err)
				}
				return
			}
			var ue *Error
			if !errors.As(err, &ue) || ue.Kind != tc.want {
				t.Fatalf("Exchange error = %v, want kind %d", err, tc.want)
			}
		})
	}
}

func TestUnreachableIsUnavailable(t *testing.T) {
	_, err := New(nil).AuthURL(t.Context(), request("http://127.0.0.1:1/x"))
	var ue *Error
	if !errors.As(err, &ue) || ue.Kind != Unavailable {
		t.Fatalf("AuthURL error = %v, want Unavailable", err)
	}
}

func TestAuthURLHasPKCEAndNonce(t *testing.T) {
	ts, _ := tokenServer(t, nil)
	u, err := New(ts.Client()).AuthURL(t.Context(), request(ts.URL))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"code_challenge_method=S256", "code_challenge=", "nonce=n-1", "state=st"} {
		if !contains(u, want) {
			t.Errorf("auth URL %s lacks %s", u, want)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestGitHubEndpoint(t *testing.T) {
	for api, want := range map[string]string{
		"https://api.github.com":          "https://github.com/login/oauth/authorize",
		"https://ghe.example.com/api/v3":  "https://ghe.example.com/login/oauth/authorize",
		"https://ghe.example.com/api/v3/": "https://ghe.example.com/login/oauth/authorize",
		"http://127.0.0.1:8080/api/v3":    "http://127.0.0.1:8080/login/oauth/authorize",
	} {
		if got := githubEndpoint(api).AuthURL; got != want {
			t.Errorf("githubEndpoint(%s) = %s, want %s", api, got, want)
		}
	}
}
