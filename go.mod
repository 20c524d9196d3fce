module github.com/herald-idp/herald

go 1.26.8

require (
	github.com/alexedwards/argon2id v1.0.0 // end-user password hashing (argon2id PHC strings)
	github.com/caarlos0/env/v11 v11.4.2 // HERALD_* environment configuration
	github.com/chromedp/cdproto v0.159.0 // tests only: DevTools protocol types for chromedp
	github.com/chromedp/chromedp v0.23.0 // tests only: drives a real headless Chromium
	github.com/coreos/go-oidc/v3 v3.21.0 // op/upstream: Herald as relying party of upstream providers; tests: a real relying party
	github.com/go-chi/chi/v5 v5.5.0 // HTTP routing (also what zitadel/oidc routes with)
	github.com/go-jose/go-jose/v4 v4.1.9 // JWS signing of ID and access tokens, JWKS
	github.com/google/uuid v1.6.0 // user IDs (OIDC subjects)
	github.com/hashicorp/golang-lru/v2 v2.0.7 // expirable LRUs of the per-tenant caches (op/tenantcache.go); already in the build through zitadel/oidc
	github.com/jackc/pgx/v5 v5.12.0 // PostgreSQL backend (pgxpool)
	github.com/pquerna/otp v1.5.0 // why: TOTP second factor (RFC 6238) and its otpauth:// QR code (issue 12, op/mfa)
	github.com/pressly/goose/v3 v3.30.0 // schema migrations with an advisory lock
	github.com/prometheus/client_golang v1.25.0 // why: Prometheus metrics on HERALD_METRICS_ADDR (internal/telemetry, issue 14)
	github.com/redis/go-redis/v9 v9.23.0 // Redis backend for short-lived state (single, Sentinel, Cluster)
	github.com/rs/cors v1.11.1 // per-tenant CORS allow-list for the protocol endpoints
	github.com/trustelem/zxcvbn v1.0.1 // why: password strength estimate and its embedded list of 30,000 breached passwords (issue 10)
	github.com/zitadel/oidc/v3 v3.52.0 // the OpenID Connect protocol engine (op package)
	go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp v0.72.0 // why: a server span per request with W3C trace context (issue 14)
	go.opentelemetry.io/otel v1.47.0 // why: OpenTelemetry tracing API (already in the build through zitadel/oidc)
	go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp v1.47.0 // why: OTLP/HTTP span export configured by OTEL_* (issue 14)
	go.opentelemetry.io/otel/metric v1.47.0 // why: the no-op meter otelhttp is given (metrics are Prometheus')
	go.opentelemetry.io/otel/sdk v1.47.0 // why: tracer provider, batching, sampler and resource from OTEL_* (issue 14)
	go.opentelemetry.io/otel/trace v1.47.0 // why: span context for trace_id in log lines
	go.opentelemetry.io/proto/otlp v1.11.0 // tests only: decoding OTLP exports in the local receiver (comes with otlptracehttp)
	go.yaml.in/yaml/v3 v3.0.6 // tests only: loading docs/openapi.yaml
	golang.org/x/crypto v0.59.0 // bcrypt verification of imported password hashes
	golang.org/x/net v0.62.0 // tests only: HTML parsing of the login pages
	golang.org/x/oauth2 v0.38.0 // op/upstream: OAuth 2.0 client towards upstream providers (PKCE); tests: a real client
	golang.org/x/text v0.44.0 // Unicode normalisation of usernames
	google.golang.org/protobuf v1.36.12 // tests only: decoding OTLP exports (comes with otlptracehttp)
	modernc.org/sqlite v1.62.0 // embedded default store, pure Go (no cgo)
)

require (
	github.com/BurntSushi/toml v1.4.1-0.20240526193622-a339e1f7089c // indirect
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/bmatcuk/doublestar/v4 v4.10.4 // indirect
	github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc // indirect
	github.com/cenkalti/backoff/v5 v5.0.3 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dlclark/regexp2 v1.12.0 // indirect
	github.com/dustin/go-humanize v1.1.0 // indirect
	github.com/felixge/httpsnoop v1.1.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/go-logr/logr v1.4.4 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	github.com/gorilla/securecookie v1.1.2 // indirect
	github.com/grpc-ecosystem/grpc-gateway/v2 v2.30.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/mfridman/interpolate v0.0.2 // indirect
	github.com/muhlemmer/gu v0.3.1 // indirect
	github.com/muhlemmer/httpforwarded v0.1.0 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/ncruces/go-strftime v1.1.0 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/procfs v0.23.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	github.com/sethvargo/go-retry v0.5.0 // indirect
	github.com/test-go/testify v1.1.4 // indirect
	github.com/zitadel/schema v1.3.2 // indirect
	go.opentelemetry.io/auto/sdk v1.2.1 // indirect
	go.opentelemetry.io/otel/exporters/otlp/otlptrace v1.47.0 // indirect
	go.opentelemetry.io/otel/log v1.47.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	golang.org/x/exp/typeparams v0.0.0-20231108232855-2478ac86f678 // indirect
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sync v0.25.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/telemetry v0.0.0-20261009151841-97e8ea77aa2a // indirect
	golang.org/x/tools v0.52.0 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20261110000943-09e21b237f2c // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261110000943-09e21b237f2c // indirect
	google.golang.org/grpc v1.85.0 // indirect
	honnef.co/go/tools v0.8.2 // indirect
	modernc.org/libc v1.80.2 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
)

// Linters run by make lint (go tool NAME); pinned here so that a fresh
// machine fetches the same versions through the module proxy.
tool (
	golang.org/x/tools/cmd/deadcode // unreachable functions
	honnef.co/go/tools/cmd/staticcheck // bugs, deprecated APIs, unused code
)
