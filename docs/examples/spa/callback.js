// The redirect URI: exchange the code (with the PKCE verifier kept in
// sessionStorage) for tokens, then back to the app. An error from Herald
// (error=access_denied, ...) is shown, not swallowed.
window.heraldUserManager.signinRedirectCallback().then(
  () => window.location.replace("/"),
  (err) => {
    document.getElementById("status").textContent = "Sign-in failed: " + err.message;
    console.error(err);
  },
);
