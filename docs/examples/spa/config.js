// Where the example signs in: the demo tenant of `make run`, and the demo
// SPA client it registers (cmd/herald/demo.go: public, PKCE, refresh
// tokens; redirect and post-logout URIs on http://localhost:5173). serve.go
// replaces the issuer when started with -issuer.
window.heraldExample = {
  issuer: "http://127.0.0.1:8080/t/demo",
  clientID: "demo-spa",
  origin: "http://localhost:5173",
  redirectURI: "http://localhost:5173/callback",
  postLogoutRedirectURI: "http://localhost:5173/",
  scope: "openid profile email",
};
