package op

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
)

var jwtJSONCorpus = []string{
	// What Herald mints.
	`{"alg":"RS256","kid":"k1","typ":"at+jwt"}`,
	`{"iss":"https://h/t/acme","sub":"u1","aud":["web"],"exp":1764674834,"iat":1764671234,"auth_time":1764671230,"amr":["pwd"],"client_id":"web","jti":"g.r","scope":"openid profile email","groups":["a","b"],"org":{"id":1,"tags":["x"]}}`,
	`{"iss":"https://h/t/acme","sub":"web","aud":["web","https://h/admin/v1"],"exp":1764674834,"iat":1764671234,"client_id":"web","jti":"g.r","scope":"herald:admin"}`,
	// Everything else the reader either reads the same or leaves to
	// encoding/json.
	`{}`, ` { } `, "{\n\t\"alg\" : \"ES256\" ,\r\n \"kid\":\"k\" }",
	`{"alg":"RS256","kid":"k1","crit":["exp"]}`, `{"alg":"RS256","kid":"k1","crit":null}`,
	`{"alg":"RS256","kid":"k1","kid":"k2"}`, `{"ALG":"none","alg":"RS256","kid":"k"}`, `{"Kid":"k"}`,
	`{"alg":"RS256","kid":null}`, `{"alg":1,"kid":"k"}`, `{"alg":"R\u0053256","kid":"k"}`,
	`{"kid":"\u00e9","alg":"RS256"}`, `{"kid":"é","alg":"RS256"}`, `{"ſub":"x"}`, `{"K":"x"}`,
	`{"aud":"web"}`, `{"aud":[]}`, `{"aud":[ "a" , "b" ]}`, `{"aud":null}`, `{"aud":[1]}`, `{"aud":["a\"b"]}`, `{"aud":7}`,
	`{"exp":1.5e9}`, `{"exp":-1}`, `{"exp":0}`, `{"exp":01}`, `{"exp":1.}`, `{"exp":.5}`, `{"exp":1e}`, `{"exp":+1}`,
	`{"exp":"1764674834"}`, `{"exp":null}`, `{"exp":true}`, `{"exp":1e400}`,
	`{"scope":""}`, `{"scope":null}`, `{"scope":["openid"]}`, `{"scope":"a\tb"}`,
	`{"x":[}]}`, `{"x":{"a":[1,2,{"b":"]}"}]}}`, `{"x":"\\"}`, `{"x":tru}`, `{"x":nul}`, `{"x":falsey}`,
	`{"iss":"a"}x`, `{"iss":"a",}`, `{"iss" "a"}`, `{,}`, `{"iss":"a"`, `[]`, `"x"`, ``, `null`,
	"{\"iss\":\"a\xffb\"}", "{\"iss\":\"a\x01b\"}", `{"iss":"a"} `,
}

// TestJWTJSONReadsLikeEncodingJSON: decodeJWSHeader and
// decodeAccessTokenPayload accept exactly what json.Unmarshal accepts and
// read it the same, on a corpus and on random mutations of it.
func TestJWTJSONReadsLikeEncodingJSON(t *testing.T) {
	check := func(in []byte) {
		t.Helper()
		var h, wantH jwsHeader
		err, wantErr := decodeJWSHeader(in, &h), json.Unmarshal(in, &wantH)
		if (err == nil) != (wantErr == nil) || err == nil && !reflect.DeepEqual(h, wantH) {
			t.Errorf("header %q: %+v, %v; encoding/json: %+v, %v", in, h, err, wantH, wantErr)
		}
		var c, wantC accessTokenPayload
		err, wantErr = decodeAccessTokenPayload(in, &c), json.Unmarshal(in, &wantC)
		if (err == nil) != (wantErr == nil) || err == nil && !reflect.DeepEqual(c, wantC) {
			t.Errorf("payload %q: %+v, %v; encoding/json: %+v, %v", in, c, err, wantC, wantErr)
		}
	}
	for _, in := range jwtJSONCorpus {
		check([]byte(in))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte(`{}[]":,\ 0123456789.eE+-abnlrstu` + "\x00\xff")
	for range 20000 {
		in := []byte(jwtJSONCorpus[rng.IntN(len(jwtJSONCorpus))])
		for range 1 + rng.IntN(3) {
			if len(in) == 0 {
				break
			}
			i := rng.IntN(len(in))
			switch rng.IntN(3) {
			case 0:
				in[i] = alphabet[rng.IntN(len(alphabet))]
			case 1:
				in = append(in[:i], in[i+1:]...)
			default:
				in = append(in[:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, in[i:]...)...)
			}
		}
		check(in)
	}
}
