package redisstore

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/herald-idp/herald/storage"
)

// Records are stored as JSON of the private structs below, with times as
// Unix milliseconds (the precision the storage contract requires). The
// tenant and ID are not stored: they are part of the key. Fields that Lua
// scripts change or compare (expiry, used-at) live in separate hash fields
// so that scripts never re-encode JSON.

// ms encodes a time as Unix milliseconds; the zero time as 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS is the inverse of ms.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func msString(t time.Time) string { return strconv.FormatInt(ms(t), 10) }

// parseMS reads a millisecond field Redis returned.
func parseMS(s string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid time field %q", s)
	}
	return v, nil
}

type authRequestJSON struct {
	ClientID            string   `json:"client_id,omitempty"`
	RedirectURI         string   `json:"redirect_uri,omitempty"`
	Scopes              []string `json:"scopes,omitempty"`
	State               string   `json:"state,omitempty"`
	Nonce               string   `json:"nonce,omitempty"`
	ResponseType        string   `json:"response_type,omitempty"`
	ResponseMode        string   `json:"response_mode,omitempty"`
	CodeChallenge       string   `json:"code_challenge,omitempty"`
	CodeChallengeMethod string   `json:"code_challenge_method,omitempty"`
	Prompt              []string `json:"prompt,omitempty"`
	MaxAge              *int64   `json:"max_age,omitempty"` // nil (absent) differs from 0
	LoginHint           string   `json:"login_hint,omitempty"`
	HintSubject         string   `json:"hint_subject,omitempty"`
	RequiredACR         string   `json:"required_acr,omitempty"`
	UserID              string   `json:"user_id,omitempty"`
	SessionID           string   `json:"session_id,omitempty"`
	AuthTime            int64    `json:"auth_time,omitempty"`
	AMR                 []string `json:"amr,omitempty"`
	CreatedAt           int64    `json:"created_at,omitempty"`
	ExpiresAt           int64    `json:"expires_at"`
}

func encodeAuthRequest(r *storage.AuthRequest) ([]byte, error) {
	return json.Marshal(authRequestJSON{
		ClientID: r.ClientID, RedirectURI: r.RedirectURI, Scopes: r.Scopes,
		State: r.State, Nonce: r.Nonce, ResponseType: r.ResponseType,
		ResponseMode: r.ResponseMode, CodeChallenge: r.CodeChallenge,
		CodeChallengeMethod: r.CodeChallengeMethod, Prompt: r.Prompt, MaxAge: r.MaxAge,
		LoginHint: r.LoginHint, HintSubject: r.HintSubject, RequiredACR: r.RequiredACR, UserID: r.UserID,
		SessionID: r.SessionID, AuthTime: ms(r.AuthTime), AMR: r.AMR,
		CreatedAt: ms(r.CreatedAt), ExpiresAt: ms(r.ExpiresAt),
	})
}

func decodeAuthRequest(tenant, id string, data []byte) (*storage.AuthRequest, error) {
	var j authRequestJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("decode auth request: %w", err)
	}
	return &storage.AuthRequest{
		TenantID: tenant, ID: id, ClientID: j.ClientID, RedirectURI: j.RedirectURI,
		Scopes: j.Scopes, State: j.State, Nonce: j.Nonce, ResponseType: j.ResponseType,
		ResponseMode: j.ResponseMode, CodeChallenge: j.CodeChallenge,
		CodeChallengeMethod: j.CodeChallengeMethod, Prompt: j.Prompt, MaxAge: j.MaxAge,
		LoginHint: j.LoginHint, HintSubject: j.HintSubject, RequiredACR: j.RequiredACR, UserID: j.UserID,
		SessionID: j.SessionID, AuthTime: fromMS(j.AuthTime), AMR: j.AMR,
		CreatedAt: fromMS(j.CreatedAt), ExpiresAt: fromMS(j.ExpiresAt),
	}, nil
}

// authCodeJSON is the "d" field of a code's hash; "exp" and "used" hold
// ExpiresAt and UsedAt.
type authCodeJSON struct {
	GrantID             string   `json:"grant_id,omitempty"`
	ClientID            string   `json:"client_id,omitempty"`
	RedirectURI         string   `json:"redirect_uri,omitempty"`
	UserID              string   `json:"user_id,omitempty"`
	SessionID           string   `json:"session_id,omitempty"`
	Scopes              []string `json:"scopes,omitempty"`
	Nonce               string   `json:"nonce,omitempty"`
	CodeChallenge       string   `json:"code_challenge,omitempty"`
	CodeChallengeMethod string   `json:"code_challenge_method,omitempty"`
	AuthTime            int64    `json:"auth_time,omitempty"`
	AMR                 []string `json:"amr,omitempty"`
	CreatedAt           int64    `json:"created_at,omitempty"`
	Issuer              string   `json:"iss,omitempty"`
}

func encodeAuthCode(c *storage.AuthCode) ([]byte, error) {
	return json.Marshal(authCodeJSON{
		GrantID: c.GrantID, ClientID: c.ClientID, RedirectURI: c.RedirectURI,
		UserID: c.UserID, SessionID: c.SessionID, Scopes: c.Scopes, Nonce: c.Nonce,
		CodeChallenge: c.CodeChallenge, CodeChallengeMethod: c.CodeChallengeMethod,
		AuthTime: ms(c.AuthTime), AMR: c.AMR, CreatedAt: ms(c.CreatedAt), Issuer: c.Issuer,
	})
}

func decodeAuthCode(tenant, codeHash string, data []byte, expiresAt int64) (*storage.AuthCode, error) {
	var j authCodeJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("decode authorization code: %w", err)
	}
	return &storage.AuthCode{
		TenantID: tenant, CodeHash: codeHash, GrantID: j.GrantID, ClientID: j.ClientID,
		RedirectURI: j.RedirectURI, UserID: j.UserID, SessionID: j.SessionID,
		Scopes: j.Scopes, Nonce: j.Nonce, CodeChallenge: j.CodeChallenge,
		CodeChallengeMethod: j.CodeChallengeMethod, AuthTime: fromMS(j.AuthTime),
		AMR: j.AMR, CreatedAt: fromMS(j.CreatedAt), ExpiresAt: fromMS(expiresAt), Issuer: j.Issuer,
	}, nil
}

// sessionJSON is the "d" field of a session's hash; "idle" and "abs" hold
// the expiries and "used" the last use, which TouchSession changes.
type sessionJSON struct {
	UserID    string   `json:"user_id"`
	AuthTime  int64    `json:"auth_time,omitempty"`
	AMR       []string `json:"amr,omitempty"`
	CreatedAt int64    `json:"created_at,omitempty"`
	UserAgent string   `json:"ua,omitempty"`
}

func encodeSession(s *storage.Session) ([]byte, error) {
	return json.Marshal(sessionJSON{UserID: s.UserID, AuthTime: ms(s.AuthTime),
		AMR: s.AMR, CreatedAt: ms(s.CreatedAt), UserAgent: storage.CutUserAgent(s.UserAgent)})
}

func decodeSession(tenant, id string, data []byte, idle, abs int64) (*storage.Session, error) {
	var j sessionJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("decode session: %w", err)
	}
	return &storage.Session{TenantID: tenant, ID: id, UserID: j.UserID,
		AuthTime: fromMS(j.AuthTime), AMR: j.AMR, CreatedAt: fromMS(j.CreatedAt),
		IdleExpiresAt: fromMS(idle), AbsoluteExpiresAt: fromMS(abs), UserAgent: j.UserAgent}, nil
}
