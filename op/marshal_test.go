package op

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// TestMarshalClaimsIsJSONMarshal: the library's claim types marshal to the
// same bytes either way, HTML-sensitive characters and extra claims
// included.
func TestMarshalClaimsIsJSONMarshal(t *testing.T) {
	now := time.Unix(1764671234, 0)
	extra := map[string]any{"groups": []string{"a<b", "c&d"}, "n": 1.5, "sub": "extra-loses", "nested": map[string]any{"z": 1, "a": "\u2028>"}}
	at := &oidc.AccessTokenClaims{
		TokenClaims: oidc.TokenClaims{Issuer: "https://h/t/acme", Subject: "u<1>", Audience: []string{"web"},
			Expiration: oidc.FromTime(now.Add(time.Hour)), IssuedAt: oidc.FromTime(now), ClientID: "web", JWTID: "g.r&"},
		Scopes: []string{"openid", "profile"},
	}
	atExtra := *at
	atExtra.Claims = extra
	id := oidc.NewIDTokenClaims("https://h/t/acme", "u1", []string{"web"}, now.Add(time.Hour), now, "n<once>", "", []string{"pwd"}, "web", 0)
	idExtra := *id
	idExtra.Claims = extra
	ui := &oidc.UserInfo{Subject: "u1", UserInfoProfile: oidc.UserInfoProfile{Name: "A & B <c>"}, UserInfoEmail: oidc.UserInfoEmail{Email: "a@b", EmailVerified: true}}
	uiExtra := *ui
	uiExtra.Claims = extra
	in := &oidc.IntrospectionResponse{Active: true, Scope: []string{"openid"}, ClientID: "web", Audience: []string{"web"}, Expiration: oidc.FromTime(now), Username: "<u>"}
	inExtra := *in
	inExtra.Claims = extra
	for _, v := range []json.Marshaler{at, &atExtra, id, &idExtra, ui, &uiExtra, in, &inExtra, &oidc.IntrospectionResponse{}} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := marshalClaims(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%T:\n got %s\nwant %s", v, got, want)
		}
	}
}
