// The app page: shows who is signed in, renews the access token (silently
// before expiry, or on demand), calls userinfo cross-origin (Herald answers
// CORS for the origins a client of the tenant registered) and signs out
// through Herald's end_session endpoint.
(function () {
  const c = window.heraldExample;
  const mgr = window.heraldUserManager;
  const $ = (id) => document.getElementById(id);
  let renewals = 0;

  // The registered redirect URIs name localhost:5173; 127.0.0.1 would be
  // another origin, and Herald would refuse its redirect_uri.
  if (window.location.origin !== c.origin) {
    window.location.replace(c.origin + window.location.pathname);
    return;
  }

  function log(msg) {
    $("log").textContent = new Date().toLocaleTimeString() + "  " + msg + "\n" + $("log").textContent;
  }

  function show(user) {
    const signedIn = !!user && !user.expired;
    $("signed-in").hidden = !signedIn;
    $("signed-out").hidden = signedIn;
    if (!signedIn) {
      return;
    }
    const p = user.profile;
    $("name").textContent = p.name || p.preferred_username || p.sub;
    $("email").textContent = p.email || "no email";
    $("email-verified").textContent = String(p.email_verified);
    $("claims").textContent = JSON.stringify(p, null, 2);
    $("renewals").textContent = String(renewals);
  }

  $("issuer").textContent = c.issuer;
  $("client").textContent = c.clientID;

  // On this page a user is loaded only by a renewal (the sign-in itself
  // completes on /callback).
  mgr.events.addUserLoaded((user) => {
    renewals++;
    log("tokens renewed (refresh token " + (user.refresh_token ? "rotated" : "absent") + ")");
    show(user);
  });
  mgr.events.addAccessTokenExpiring(() => log("access token expiring: renewing with the refresh token"));
  mgr.events.addSilentRenewError((err) => log("silent renew failed: " + err.message));
  mgr.events.addUserSignedOut(() => show(null));

  setInterval(async () => {
    const user = await mgr.getUser();
    $("expires").textContent = user && user.expires_in !== undefined ? String(Math.max(0, user.expires_in)) : "-";
  }, 1000);

  $("login").addEventListener("click", () => mgr.signinRedirect());
  $("logout").addEventListener("click", () => mgr.signoutRedirect());
  $("renew").addEventListener("click", async () => {
    try {
      await mgr.signinSilent();
    } catch (err) {
      log("renew failed: " + err.message);
    }
  });
  $("userinfo").addEventListener("click", async () => {
    const user = await mgr.getUser();
    const meta = await mgr.metadataService.getMetadata();
    const resp = await fetch(meta.userinfo_endpoint, { headers: { Authorization: "Bearer " + user.access_token } });
    log("GET /userinfo → " + resp.status + " " + (await resp.text()));
  });

  mgr.getUser().then((user) => {
    if (user) {
      log("signed in (from sessionStorage)");
    }
    show(user);
  });
})();
