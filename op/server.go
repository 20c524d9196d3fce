package op

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/rs/cors"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/op/admin"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/templates"
)

// maxBodyBytes caps request bodies on every route (checklist K3).
const maxBodyBytes = 64 << 10

// Server is Herald's OpenID Provider: one http.Handler serving every tenant
// under /t/{tenant} and at the hostnames tenants registered, plus /healthz,
// /readyz and /static/.
type Server struct {
	cfg           Config
	store         storage.Store
	storage       *opStorage
	tenants       *tenants
	registry      *registry.Registry
	provider      *zop.Provider
	minter        *minter
	discovery     *expirable.LRU[string, json.RawMessage] // by issuer
	jwks          *expirable.LRU[string, json.RawMessage] // by tenant
	origins       *originCache
	csrfKey       []byte
	secureCookies bool
	publicHost    string // lower-case hostname of PublicURL
	publicScheme  string
	publicPort    string // "" for the scheme's default port
	now           func() time.Time
	handler       http.Handler
}

// Cache lifetimes: with a storage.Notifier, changes evict cache entries at
// once and the TTL is only the safety net; without one (a single node on
// SQLite, where the CLI may write from another process) entries live one
// second so that changes show within a second either way.
const (
	cacheTTLNotified   = 30 * time.Second
	cacheTTLUnnotified = time.Second
)

// New validates cfg and builds the provider. ctx bounds the background work
// the server starts (listening for tenant-change notifications): cancel it
// when the server stops.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pu, _ := url.Parse(cfg.PublicURL) // validated above
	notifier, notified := cfg.Store.(storage.Notifier)
	ttl := cacheTTLUnnotified
	if notified {
		ttl = cacheTTLNotified
	}
	s := &Server{
		cfg:           cfg,
		store:         cfg.Store,
		tenants:       newTenants(cfg.Store.Tenants(), ttl),
		discovery:     expirable.NewLRU[string, json.RawMessage](tenantCacheSize, nil, ttl),
		jwks:          expirable.NewLRU[string, json.RawMessage](tenantCacheSize, nil, ttl),
		origins:       newOriginCache(cfg.Store.Clients(), ttl),
		secureCookies: pu.Scheme == "https",
		publicHost:    strings.ToLower(pu.Hostname()),
		publicScheme:  pu.Scheme,
		publicPort:    pu.Port(),
		now:           time.Now,
	}
	s.registry = &registry.Registry{Store: cfg.Store, Keys: cfg.Keys, Passwords: cfg.Passwords, PublicURL: cfg.PublicURL,
		OnChange: s.TenantChanged}
	s.storage = &opStorage{store: cfg.Store, keys: cfg.Keys, lifetimes: cfg.Lifetimes, clients: newClientCache(ttl), now: s.now}

	// Installation-wide secrets shared by every replica through storage.
	tokenKey, err := cfg.Store.Secrets().Secret(ctx, "opaque-token-key", random32)
	if err != nil {
		return nil, fmt.Errorf("load opaque token key: %w", err)
	}
	if s.csrfKey, err = cfg.Store.Secrets().Secret(ctx, "csrf-key", random32); err != nil {
		return nil, fmt.Errorf("load CSRF key: %w", err)
	}
	zcfg := &zop.Config{
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
	}
	copy(zcfg.CryptoKey[:], tokenKey)
	var opts []zop.Option
	if !s.secureCookies {
		opts = append(opts, zop.WithAllowInsecure())
	}
	s.provider, err = zop.NewProvider(zcfg, s.storage, s.issuerFromRequest, opts...)
	if err != nil {
		return nil, fmt.Errorf("build provider: %w", err)
	}
	s.minter = newMinter(s.storage, s.provider.Crypto())
	s.handler = s.routes()
	if notified {
		go func() {
			if err := notifier.Subscribe(ctx, s.forgetTenant); err != nil && ctx.Err() == nil {
				slog.Error("tenant change notifications stopped; relying on cache expiry", "error", err)
			}
		}()
	}
	return s, nil
}

func random32() ([]byte, error) {
	b := make([]byte, 32)
	_, err := rand.Read(b)
	return b, err
}

// TenantChanged drops what this replica caches about a tenant and tells the
// other replicas to do the same (when the store can). The admin API calls it
// after every change to a tenant, its clients or its keys.
func (s *Server) TenantChanged(ctx context.Context, name string) {
	s.forgetTenant(name)
	if n, ok := s.store.(storage.Notifier); ok {
		if err := n.Publish(ctx, name); err != nil {
			slog.WarnContext(ctx, "publish tenant change; other replicas catch up on cache expiry", "tenant", name, "error", err)
		}
	}
}

// forgetTenant drops the caches of one tenant; "" (a notifier that just
// (re)connected and may have missed announcements) drops them all.
func (s *Server) forgetTenant(name string) {
	if name == "" {
		s.tenants.byName.Purge()
		s.tenants.byHost.Purge()
		s.origins.byTenant.Purge()
		s.storage.clients.invalidate("")
		s.cfg.Keys.InvalidateAll()
	} else {
		s.tenants.invalidate(name)
		s.origins.invalidate(name)
		s.storage.clients.invalidate(name)
		s.cfg.Keys.Invalidate(name)
	}
	// Discovery documents are keyed by issuer, and a tenant may be reachable
	// at several; they are cheap to rebuild.
	s.discovery.Purge()
	if name == "" {
		s.jwks.Purge()
	} else {
		s.jwks.Remove(name)
	}
}

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
	issuerInterceptor := zop.NewIssuerInterceptor(s.provider.IssuerFromRequest).Handler
	corsOptions := cors.Options{
		AllowOriginVaryRequestFunc: s.origins.allowed,
		AllowedMethods:             []string{http.MethodGet, http.MethodPost},
		AllowedHeaders:             []string{"Authorization", "Content-Type"},
		MaxAge:                     600,
	}
	ps := &protocolServer{LegacyServer: zop.NewLegacyServer(s.provider, endpoints), s: s}
	protocol := zop.RegisterServer(ps, endpoints, zop.WithServerCORSOptions(&corsOptions))
	metadataCORS := cors.New(corsOptions).Handler
	browserForms := http.NewCrossOriginProtection()
	// The routes of one tenant, the same whether it is reached at
	// /t/{tenant} or at a hostname of its own.
	tenantRoutes := func(r chi.Router) {
		r.Use(issuerInterceptor)
		r.With(metadataCORS).Get(pathDiscovery, serveMetadata(ps.discoveryBody))
		r.With(metadataCORS).Get(pathJWKS, serveMetadata(ps.jwksBody))
		r.Get(pathAuthorize, s.handleAuthorize)
		r.Post(pathAuthorize, s.handleAuthorize)
		r.Get(pathLogin, s.handleLoginForm)
		r.With(browserForms.Handler).Post(pathLogin, s.handleLogin)
		r.Get(pathConsent, s.handleConsentForm)
		r.With(browserForms.Handler).Post(pathConsent, s.handleConsent)
		r.Get(pathEndSession, s.handleEndSession)
		r.Post(pathEndSession, s.handleEndSession)
		r.With(authChallenge, requireClientCredentials).Mount("/", protocol)
	}
	notFound := func(w http.ResponseWriter, _ *http.Request) {
		writeJSONError(w, http.StatusNotFound, "not_found", "no such endpoint")
	}

	main := chi.NewRouter()
	main.Mount("/admin/v1", admin.NewHandler(s.registry, s.authenticateAdmin))
	main.Handle(staticPrefix+"/*", http.StripPrefix(staticPrefix+"/", staticFiles()))
	main.Route("/t/{tenant}", func(r chi.Router) {
		r.Use(s.pathMiddleware)
		tenantRoutes(r)
	})
	main.NotFound(notFound)

	hosted := chi.NewRouter()
	hosted.Handle(staticPrefix+"/*", http.StripPrefix(staticPrefix+"/", staticFiles()))
	hosted.Group(tenantRoutes)
	hosted.NotFound(notFound)

	root := chi.NewRouter()
	root.Use(middleware.Recoverer, limitBody)
	// Health checks answer on any Host: probes often address a replica by
	// its IP.
	root.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	root.Get("/readyz", s.handleReady)
	// Browsers ask every host for a favicon; Herald has none to offer.
	root.Get("/favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	root.Mount("/", s.hostSwitch(main, hosted))
	return root
}

// limitBody caps request bodies at maxBodyBytes (checklist K3) on every
// route but the admin API's, which sets its own, larger limit (tenants with
// many custom claims): nested MaxBytesReaders would keep the smaller one.
var limitBody = middleware.Maybe(middleware.RequestSize(maxBodyBytes), func(r *http.Request) bool {
	return !strings.HasPrefix(r.URL.Path, "/admin/")
})

func staticFiles() http.Handler {
	files := http.FileServerFS(templates.Static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}

// handleReady reports whether storage answers (for load balancers), and
// which dependency is down when one is.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
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
