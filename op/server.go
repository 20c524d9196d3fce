package op

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/rs/cors"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/internal/telemetry"
	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op/admin"
	"github.com/herald-idp/herald/op/login"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/templates"
)

// staticPrefix serves the pages' stylesheet and images.
const staticPrefix = login.StaticPrefix

// maxBodyBytes caps request bodies on every route (checklist K3).
const maxBodyBytes = 64 << 10

// Server is Herald's OpenID Provider: one http.Handler serving every tenant
// under /t/{tenant} and at the hostnames tenants registered, plus /healthz,
// /readyz and /static/.
type Server struct {
	cfg           Config
	store         storage.Store // the registry's, seen through grantStateStore
	keys          *keys.Manager // the registry's
	storage       *opStorage    // zitadel's adapter; Herald's own code never calls it
	caches        *tenantCaches // every per-tenant cache (tenantcache.go)
	registry      *registry.Registry
	provider      *zop.Provider
	minter        *minter
	ccGrants      *expirable.LRU[string, string] // client_credentials grant IDs (grantcheck.go)
	grantStates   *grantStates                   // grants and users of tokens in use (grantcache.go)
	issuedRefresh *issuedRefreshTokens           // refresh tokens minted here (refreshcache.go)
	login         *login.Handler
	secureCookies bool
	publicHost    string // lower-case hostname of PublicURL
	publicScheme  string
	publicPort    string // "" for the scheme's default port
	now           func() time.Time
	handler       http.Handler
	auditKey      []byte // keys the auth trail's hashes (authaudit.go)
	tel           *telemetry.Telemetry
	draining      atomic.Bool // shutting down: /readyz answers 503 (Drain)
}

// New validates cfg and builds the provider. ctx bounds the background work
// the server starts (listening for tenant-change notifications): cancel it
// when the server stops.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pu, _ := url.Parse(cfg.PublicURL) // validated above
	// Every write of this server — its own and its registry's (the admin
	// API) — goes through grantStateStore, so that the grant-state cache
	// sees the ones that end grants at once (grantcache.go).
	states := newGrantStates()
	reg := *cfg.Registry
	reg.Store = grantStateStore{Store: reg.Store, states: states}
	s := &Server{
		cfg:           cfg,
		store:         reg.Store,
		grantStates:   states,
		issuedRefresh: newIssuedRefreshTokens(),
		keys:          reg.Keys,
		caches:        newTenantCaches(reg.Store, reg.Keys, cfg.Notifier),
		tel:           cfg.Telemetry,
		secureCookies: pu.Scheme == "https",
		publicHost:    strings.ToLower(pu.Hostname()),
		publicScheme:  pu.Scheme,
		publicPort:    pu.Port(),
		now:           time.Now,
		ccGrants:      expirable.NewLRU[string, string](tenantCacheSize, nil, clientCredentialsGrantTTL),
	}
	// The admin API's registry is cmd/herald's, reporting its changes to
	// this server's caches (which announce them to the other replicas).
	s.registry = reg.WithOnChange(s.TenantChanged)
	s.storage = &opStorage{s: s}

	// Installation-wide secrets shared by every replica through storage,
	// sealed under the KEK like the signing keys (keys.go): the CSRF,
	// device-cookie and audit-hash HMAC keys. There is no
	// opaque-token key: opaque access tokens are random and stored hashed
	// (docs/tokens.md).
	csrfKey, err := s.keys.SealedSecret(ctx, s.store.Secrets(), secretCSRFKey, 32)
	if err != nil {
		return nil, fmt.Errorf("load CSRF key: %w", err)
	}
	deviceKey, err := s.keys.SealedSecret(ctx, s.store.Secrets(), secretDeviceKey, 32)
	if err != nil {
		return nil, fmt.Errorf("load device key: %w", err)
	}
	s.auditKey = cfg.AuthAudit.HashKey
	if len(s.auditKey) == 0 {
		if s.auditKey, err = s.keys.SealedSecret(ctx, s.store.Secrets(), secretAuthAuditKey, 32); err != nil {
			return nil, fmt.Errorf("load audit hash key: %w", err)
		}
	}
	zcfg := &zop.Config{
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
	}
	// The library's AES-CFB token format is never produced nor accepted
	// (Herald answers userinfo, introspection and revocation itself); the
	// key it wants is random per process and never stored.
	if _, err := rand.Read(zcfg.CryptoKey[:]); err != nil {
		return nil, err
	}
	var opts []zop.Option
	if !s.secureCookies {
		opts = append(opts, zop.WithAllowInsecure())
	}
	opts = append(opts, verifierOptions()...)
	s.provider, err = zop.NewProvider(zcfg, s.storage, s.issuerFromRequest, opts...)
	if err != nil {
		return nil, fmt.Errorf("build provider: %w", err)
	}
	s.caches.tel = cfg.Telemetry
	s.minter = newMinter(s.keys, s.caches)
	s.minter.tel = cfg.Telemetry
	s.login = login.New(login.Config{
		Provider:            loginFlow{s},
		Store:               s.store,
		Passwords:           s.registry.Passwords,
		CSRFKey:             csrfKey,
		DeviceKey:           deviceKey,
		SecureCookies:       s.secureCookies,
		AuthRequestLifetime: cfg.Lifetimes.AuthRequest,
		UserSecrets:         s.keys,
		Now:                 s.now,
		Upstream:            s.upstreamConfig(),
	})
	s.handler = s.tel.Handler(s.routes()) // a span per request when tracing is on
	go s.runKeyMaintenance(ctx)
	s.caches.listen(ctx)
	return s, nil
}

// TenantChanged drops what this replica caches about a tenant and tells the
// other replicas to do the same (when there is a notifier). The server's
// registry (the admin API's) calls it after every change to a tenant, its
// clients or its keys; a registry used elsewhere in the process may too.
func (s *Server) TenantChanged(ctx context.Context, name string) { s.caches.Changed(ctx, name) }

// Registry is the registry the server's admin API uses. Its store is the
// server's own view of storage, so the grants and users it changes are seen
// by this server at once (grantcache.go), and its tenant changes reach the
// server's caches and the other replicas. Code in the same process that
// changes users, clients or grants while the server runs should use it; a
// change through any other registry is seen within grantStateTTL, as one
// made by another replica.
func (s *Server) Registry() *registry.Registry { return s.registry }

// issuerFromRequest gives the library the issuer of the tenant the request
// was resolved to: issuers come from the registry, never from the Host
// header alone.
func (s *Server) issuerFromRequest(bool) (zop.IssuerFromRequest, error) {
	return func(r *http.Request) string {
		if rt := resolvedFromContext(r.Context()); rt != nil {
			return rt.issuer
		}
		return ""
	}, nil
}

// Issuer is the path-based issuer URL of a tenant.
func (s *Server) Issuer(tenant string) string { return registry.IssuerURL(s.cfg.PublicURL, tenant) }

// ServeHTTP serves every route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routes() http.Handler {
	endpoints := zop.Endpoints{
		Token:         zop.NewEndpoint(pathToken),
		Introspection: zop.NewEndpoint(pathIntrospect),
		Userinfo:      zop.NewEndpoint(pathUserinfo),
		Revocation:    zop.NewEndpoint(pathRevoke),
		JwksURI:       zop.NewEndpoint(pathJWKS),
	}
	ps := &protocolServer{LegacyServer: zop.NewLegacyServer(s.provider, endpoints), s: s}
	// No library CORS: it would wrap every path of the mount, browser
	// pages' preflights included. apiCORS (cors.go) answers for the API
	// endpoints only.
	// The library's router answers paths it does not know with a plain-text
	// 404; Herald's answer is a page for browsers and JSON for the rest.
	protocol := zop.RegisterServer(ps, endpoints, zop.WithServerCORSOptions(nil),
		zop.WithSetRouter(func(r chi.Router) { r.NotFound(s.notFound) }))
	metadataCORS := cors.New(s.corsOptions()).Handler
	// The routes of one tenant, the same whether it is reached at
	// /t/{tenant} or at a hostname of its own. pathMiddleware and
	// hostSwitch put the tenant and its issuer in the context (withTenant).
	tenantRoutes := func(r chi.Router) {
		r.With(metadataCORS).Get(pathDiscovery, serveMetadata(ps.discoveryBody))
		r.With(metadataCORS).Get(pathASMetadata, serveMetadata(ps.discoveryBody))
		r.With(metadataCORS).Get(pathJWKS, serveMetadata(ps.jwksBody))
		s.login.Routes(r)
		r.With(s.apiCORS, authChallenge, requireClientCredentials, postOnly, checkFormParams).Mount("/", ps.fastPaths(protocol))
	}
	main := chi.NewRouter()
	main.Mount("/admin/v1", admin.NewHandler(s.registry, s.authenticateAdmin))
	main.Route("/t/{tenant}", func(r chi.Router) {
		r.Use(s.pathMiddleware)
		tenantRoutes(r)
	})
	// RFC 8414 §3.1: the issuer's path inserted after the well-known name.
	main.With(s.pathMiddleware, metadataCORS).
		Get(pathASMetadata+"/t/{tenant}", serveMetadata(ps.discoveryBody))
	main.NotFound(s.notFound)

	hosted := chi.NewRouter()
	hosted.Group(tenantRoutes)
	hosted.NotFound(s.notFound)

	root := chi.NewRouter()
	root.Use(s.requestLog, s.strictTransportSecurity, middleware.Recoverer, limitBody)
	// Health checks answer on any Host: probes often address a replica by
	// its IP.
	root.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	root.Get("/readyz", s.handleReady)
	// Browsers ask every host for a favicon; Herald has none to offer.
	root.Get("/favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	// The pages' static files, on any host too: the page telling a browser
	// that no tenant serves its host needs its stylesheet.
	root.Handle(staticPrefix+"/*", http.StripPrefix(staticPrefix+"/", staticFiles()))
	root.Mount("/", s.hostSwitch(main, hosted))
	return root
}

// hstsValue is the Strict-Transport-Security of an https deployment (RFC
// 6797): one year, the usual minimum for preload lists and long enough
// that a returning browser never tries plain http. No includeSubDomains:
// Herald's public host and the hostnames tenants register are single
// names inside domains Herald does not own, and the directive would force
// https on every sibling below them (e.g. everything under
// login.example.com). No preload, for the same reason; an operator who
// owns the whole domain can add both at the proxy.
const hstsValue = "max-age=31536000"

// strictTransportSecurity sets HSTS on every response when the public URL
// is https (tenant hostname issuers share its scheme, tenants.go), errors
// and health checks included. Browsers ignore the header on plain http, so
// it is also right behind a TLS-terminating proxy.
func (s *Server) strictTransportSecurity(next http.Handler) http.Handler {
	if s.publicScheme != "https" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", hstsValue)
		next.ServeHTTP(w, r)
	})
}

// limitBody caps request bodies at maxBodyBytes (checklist K3) on every
// route but the admin API's, which sets its own, larger limit (tenants with
// many custom claims): nested MaxBytesReaders would keep the smaller one.
var limitBody = middleware.Maybe(middleware.RequestSize(maxBodyBytes), func(r *http.Request) bool {
	return !strings.HasPrefix(r.URL.Path, "/admin/")
})

// staticFiles serves the embedded files, and only files: a directory (with
// or without a trailing slash), an unclean path or a missing file is a 404,
// never a listing or a redirect (http.FileServer would do both). Mounted
// behind http.StripPrefix, so r.URL.Path is the file's name.
func staticFiles() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeJSONError(w, http.StatusMethodNotAllowed, "method_not_allowed", "static files are read with GET")
			return
		}
		name := r.URL.Path
		// fs.ValidPath refuses "", ".", "..", empty elements and trailing
		// slashes: only a file's plain name gets through.
		content, modTime, ok := openStatic(name)
		if !ok {
			writeJSONError(w, http.StatusNotFound, "not_found", "no such file")
			return
		}
		defer content.Close()
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(w, r, name, modTime, content)
	})
}

// openStatic opens the embedded regular file name.
func openStatic(name string) (io.ReadSeekCloser, time.Time, bool) {
	if !fs.ValidPath(name) || name == "." {
		return nil, time.Time{}, false
	}
	f, err := templates.Static.Open(name)
	if err != nil {
		return nil, time.Time{}, false
	}
	info, err := f.Stat()
	rs, seekable := f.(io.ReadSeekCloser)
	if err != nil || !info.Mode().IsRegular() || !seekable {
		_ = f.Close()
		return nil, time.Time{}, false
	}
	return rs, info.ModTime(), true
}

// Drain makes /readyz answer 503 {"status":"draining"} from now on, so
// that load balancers stop sending requests before the server shuts down
// (cmd/herald serve calls it on SIGTERM). Everything else keeps serving.
func (s *Server) Drain() { s.draining.Store(true) }

// handleReady reports whether storage answers (for load balancers), and
// which dependency is down when one is; 503 once the server drains.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "draining"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	err := s.store.Ping(ctx)
	if err == nil {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
		return
	}
	slog.WarnContext(ctx, "readiness check failed", "error", err)
	down := downDependencies(err)
	if len(down) == 0 {
		down = []string{"storage"}
	}
	writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "down": down})
}

// downDependencies lists the names of the storage.DependencyErrors in err.
func downDependencies(err error) []string {
	var names []string
	var de *storage.DependencyError
	if errors.As(err, &de) {
		names = append(names, de.Name)
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		names = names[:0]
		for _, e := range joined.Unwrap() {
			names = append(names, downDependencies(e)...)
		}
	}
	return names
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}
