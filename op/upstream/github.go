package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// githubEndpoint derives the OAuth endpoints from the API base URL:
// https://api.github.com → https://github.com/login/oauth/...; GitHub
// Enterprise's https://HOST/api/v3 → https://HOST/login/oauth/....
func githubEndpoint(apiBase string) oauth2.Endpoint {
	web := strings.TrimSuffix(strings.TrimRight(apiBase, "/"), "/api/v3")
	if u, err := url.Parse(apiBase); err == nil && u.Host == "api.github.com" {
		web = "https://github.com"
	}
	return oauth2.Endpoint{
		AuthURL:   web + "/login/oauth/authorize",
		TokenURL:  web + "/login/oauth/access_token",
		AuthStyle: oauth2.AuthStyleInParams,
	}
}

type githubUser struct {
	ID    int64  `json:"id"`
	Login string `json:"login"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

type githubEmail struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// githubIdentity reads /user and /user/emails. The subject is the numeric
// user ID (logins can be renamed and reused); the e-mail is the primary
// address with its verified flag from /user/emails (the public profile
// e-mail says nothing about verification).
func (c *Client) githubIdentity(ctx context.Context, req Request, tok *oauth2.Token) (*Identity, error) {
	base := strings.TrimRight(req.Connector.Issuer, "/")
	var u githubUser
	if err := c.githubGet(ctx, tok, base+"/user", &u); err != nil {
		return nil, err
	}
	if u.ID == 0 {
		return nil, invalid("github /user has no id")
	}
	var emails []githubEmail
	if err := c.githubGet(ctx, tok, base+"/user/emails", &emails); err != nil {
		return nil, err
	}
	raw := map[string]any{"login": u.Login, "name": u.Name, "email": u.Email, "email_verified": false}
	for _, e := range emails {
		if e.Primary {
			raw["email"], raw["email_verified"] = e.Email, e.Verified
		}
	}
	id := mapClaims(strconv.FormatInt(u.ID, 10), raw, req.Connector.ClaimMapping, "login")
	return id, nil
}

func (c *Client) githubGet(ctx context.Context, tok *oauth2.Token, u string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return invalid("github: %v", err)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	tok.SetAuthHeader(req)
	res, err := c.http.Do(req)
	if err != nil {
		return classify("github "+req.URL.Path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return classify("github "+req.URL.Path, err)
	}
	switch {
	case res.StatusCode >= 500:
		return &Error{Kind: Unavailable, Err: fmt.Errorf("github %s: status %d", req.URL.Path, res.StatusCode)}
	case res.StatusCode != http.StatusOK:
		return invalid("github %s: status %d", req.URL.Path, res.StatusCode)
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return invalid("github %s: %v", req.URL.Path, err)
	}
	return nil
}
