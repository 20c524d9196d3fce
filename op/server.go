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
	"github.com/rs/cors"
	zop "github.com/zitadel/oidc/v3/pkg/op"

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
	store         storage.Store // the registry's
	keys          *keys.Manager // the registry's
	storage       *opStorage    // zitadel's adapter; Herald's own code never calls it
	caches        *tenantCaches // every per-tenant cache (tenantcache.go)
	registry      *registry.Registry
	provider      *zop.Provider
	minter        *minter
	login         *login.Handler
	secureCookies bool
	publicHost    string // lower-case hostname of PublicURL
	publicScheme  string
	publicPort    string // "" for the scheme's default port
	now           func() time.Time
	handler       http.Handler
	auditKey      []byte // keys the auth trail's hashes (authaudit.go)
}

// New validates cfg and builds the provider. ctx bounds the background work
// the server starts (listening for tenant-change notifications): cancel it
// when the server stops.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pu, _ := url.Parse(cfg.PublicURL) // validated above
	reg := cfg.Registry
	s := &Server{
		cfg:           cfg,
		store:         reg.Store,
		keys:          reg.Keys,
		caches:        newTenantCaches(reg.Store, reg.Keys, cfg.Notifier),
		secureCookies: pu.Scheme == "https",
		publicHost:    strings.ToLower(pu.Hostname()),
		publicScheme:  pu.Scheme,
		publicPort:    pu.Port(),
		now:           time.Now,
	}
	// The admin API's registry is cmd/herald's, reporting its changes to
	// this server's caches (which announce them to the other replicas).
	s.registry = reg.WithOnChange(s.TenantChanged)
	s.storage = &opStorage{s: s}

	// Installation-wide secrets shared by every replica through storage.
	tokenKey, err := s.store.Secrets().Secret(ctx, "opaque-token-key", random32)
	if err != nil {
		return nil, fmt.Errorf("load opaque token key: %w", err)
	}
	csrfKey, err := s.store.Secrets().Secret(ctx, "csrf-key", random32)
	if err != nil {
		return nil, fmt.Errorf("load CSRF key: %w", err)
	}
	deviceKey, err := s.store.Secrets().Secret(ctx, "device-key", random32)
	if err != nil {
		return nil, fmt.Errorf("load device key: %w", err)
	}
	s.auditKey = cfg.AuthAudit.HashKey
	if len(s.auditKey) == 0 {
		if s.auditKey, err = s.store.Secrets().Secret(ctx, "auth-audit-key", random32); err != nil {
			return nil, fmt.Errorf("load audit hash key: %w", err)
		}
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
	s.minter = newMinter(s.keys, s.caches, s.provider.Crypto())
	s.login = login.New(login.Config{
		Provider:            loginFlow{s},
		Store:               s.store,
		Passwords:           s.registry.Passwords,
		CSRFKey:             csrfKey,
		DeviceKey:           deviceKey,
		SecureCookies:       s.secureCookies,
		AuthRequestLifetime: cfg.Lifetimes.AuthRequest,
		Now:                 s.now,
	})
	s.handler = s.routes()
	s.caches.listen(ctx)
	return s, nil
}

func random32() ([]byte, error) {
	b := make([]byte, 32)
	_, err := rand.Read(b)
	return b, err
}

// TenantChanged drops what this replica caches about a tenant and tells the
// other replicas to do the same (when there is a notifier). The server's
// registry (the admin API's) calls it after every change to a tenant, its
// clients or its keys; a registry used elsewhere in the process may too.
func (s *Server) TenantChanged(ctx context.Context, name string) { s.caches.Changed(ctx, name) }

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
func (s *Server) Issuer(tenant string) string { return s.cfg.PublicURL + "/t/" + tenant }

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
		AllowOriginVaryRequestFunc: s.allowedOrigin,
		AllowedMethods:             []string{http.MethodGet, http.MethodPost},
		AllowedHeaders:             []string{"Authorization", "Content-Type"},
		MaxAge:                     600,
	}
	ps := &protocolServer{LegacyServer: zop.NewLegacyServer(s.provider, endpoints), s: s}
	protocol := zop.RegisterServer(ps, endpoints, zop.WithServerCORSOptions(&corsOptions))
	metadataCORS := cors.New(corsOptions).Handler
	// The routes of one tenant, the same whether it is reached at
	// /t/{tenant} or at a hostname of its own.
	tenantRoutes := func(r chi.Router) {
		r.Use(issuerInterceptor)
		r.With(metadataCORS).Get(pathDiscovery, serveMetadata(ps.discoveryBody))
		r.With(metadataCORS).Get(pathJWKS, serveMetadata(ps.jwksBody))
		s.login.Routes(r)
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
	root.Use(s.requestLog, middleware.Recoverer, limitBody)
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

func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The admin API sets its own, larger limit (tenants with many
		// custom claims).
		if !strings.HasPrefix(r.URL.Path, "/admin/") {
			r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

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
