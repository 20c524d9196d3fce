package op

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// TestAccessTokenPayloadReadsLikeTheLibrary: the verifier's own claim
// types read what Herald mints as the library's types read it, and refuse
// what the verifier never needs to accept.
func TestAccessTokenPayloadReadsLikeTheLibrary(t *testing.T) {
	for _, payload := range []string{
		`{"iss":"https://h/t/acme","sub":"u1","aud":"web","exp":1764671234,"iat":1764667634,"client_id":"web","jti":"g.r","scope":"openid profile"}`,
		`{"aud":["web","https://h/admin/v1"],"exp":1764671234.9,"iat":1.764667634e9,"scope":"openid"}`,
		`{"aud":"w\u0065b","scope":"open\u0069d email","exp":null,"iat":0}`,
		`{"aud":["a\/b"],"scope":null}`,
		`{"aud":null,"extra":{"nested":[1,2,{"x":"y"}]},"amr":["pwd"],"auth_time":1764667000}`,
		`{}`,
	} {
		var got accessTokenPayload
		if err := json.Unmarshal([]byte(payload), &got); err != nil {
			t.Errorf("%s: %v", payload, err)
			continue
		}
		var want struct {
			Audience   oidc.Audience            `json:"aud"`
			Expiration oidc.Time                `json:"exp"`
			IssuedAt   oidc.Time                `json:"iat"`
			Scopes     oidc.SpaceDelimitedArray `json:"scope"`
		}
		if err := json.Unmarshal([]byte(payload), &want); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal([]string(got.Audience), want.Audience) || !slices.Equal([]string(got.Scopes), want.Scopes) ||
			!got.Expiration.AsTime().Equal(want.Expiration.AsTime()) || !got.IssuedAt.AsTime().Equal(want.IssuedAt.AsTime()) {
			t.Errorf("%s: read as %+v, the library reads %+v", payload, got, want)
		}
	}
	for _, payload := range []string{
		`{"aud":[1]}`, `{"aud":{}}`, `{"aud":7}`,
		`{"exp":"1764671234"}`, `{"exp":"2025-12-02T11:00:00Z"}`, `{"iat":true}`,
		`{"scope":["openid"]}`, `{"scope":1}`,
	} {
		var got accessTokenPayload
		if err := json.Unmarshal([]byte(payload), &got); err == nil {
			t.Errorf("%s: accepted as %+v", payload, got)
		}
	}
}
