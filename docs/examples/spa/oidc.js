// One UserManager for both pages. oidc-client-ts does the code flow with
// PKCE (S256) and state/nonce checks, keeps the user in sessionStorage and,
// with automaticSilentRenew, renews the access token shortly before it
// expires: Herald gives this public client a refresh token (rotated at every
// use), so the renewal is one token request — no hidden iframe, no
// third-party cookies.
(function () {
  const c = window.heraldExample;
  window.heraldUserManager = new oidc.UserManager({
    authority: c.issuer,
    client_id: c.clientID,
    redirect_uri: c.redirectURI,
    post_logout_redirect_uri: c.postLogoutRedirectURI,
    response_type: "code",
    scope: c.scope,
    loadUserInfo: true,
    automaticSilentRenew: true,
    revokeTokensOnSignout: true,
    userStore: new oidc.WebStorageStateStore({ store: window.sessionStorage }),
  });
})();
