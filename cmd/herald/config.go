package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/herald-idp/herald/op"
	"github.com/herald-idp/herald/op/password"
	redisstore "github.com/herald-idp/herald/storage/redis"
)

// envPrefix starts every environment variable Herald reads.
const envPrefix = "HERALD_"

// Defaults that op and op/password do not define.
const (
	defaultAddr        = "127.0.0.1:8080"
	defaultDatabaseURL = "sqlite:./data/herald.db"
	defaultRedisPrefix = "herald"
	// PostgreSQL pool: replicas × max conns must stay below the server's
	// max_connections (100 by default).
	defaultDatabaseMaxConns = 10
	defaultDatabaseTimeout  = 5 * time.Second
	defaultLogLevel         = "info"
	defaultMetricsTenants   = 100
	defaultShutdownDelay    = 5 * time.Second
	defaultShutdownTimeout  = 20 * time.Second
	kekSize                 = 32 // AES-256
	kekFileName             = "herald.kek"
)

// Config is every setting of the herald command. Values come from the
// defaults, then HERALD_* environment variables, then flags; Validate then
// reports every problem at once. The env tags are read by caarlos0/env with
// the HERALD_ prefix; the flag tags name the flag that overrides a setting
// (for error messages and the docs).
type Config struct {
	Addr                 string `env:"ADDR" flag:"addr"`
	PublicURL            string `env:"PUBLIC_URL" flag:"public-url"`
	DatabaseURL          string `env:"DATABASE_URL" flag:"database-url"`
	KeyEncryptionKey     string `env:"KEY_ENCRYPTION_KEY"` // base64; never a flag (visible in ps)
	KeyEncryptionKeyFile string `env:"KEY_ENCRYPTION_KEY_FILE" flag:"key-encryption-key-file"`
	// The KEK before a change, accepted for opening only (docs/keys.md,
	// rewrap runbook); see kek.go.
	KeyEncryptionKeyPrevious     string `env:"KEY_ENCRYPTION_KEY_PREVIOUS"`
	KeyEncryptionKeyPreviousFile string `env:"KEY_ENCRYPTION_KEY_PREVIOUS_FILE"`
	// AllowPlaintextKeys lets PostgreSQL run without a KEK: development only.
	AllowPlaintextKeys bool `env:"ALLOW_PLAINTEXT_KEYS"`
	// KeyRotationPeriod: scheduled signing-key rotation (keys.DefaultRotationPeriod).
	KeyRotationPeriod time.Duration     `env:"KEY_ROTATION_PERIOD"`
	skipKEKCheck      bool              // keys rewrap: it repairs what the check refuses
	kekCreated        func(path string) // told where a generated KEK file went (openApp logs it)

	// PostgreSQL pool size and per-call deadline (ignored for SQLite).
	DatabaseMaxConns int32         `env:"DATABASE_MAX_CONNS"`
	DatabaseTimeout  time.Duration `env:"DATABASE_TIMEOUT"`
	// Migrate makes serve apply missing migrations before it opens the store.
	Migrate bool `env:"MIGRATE" flag:"migrate"`
	// RedisURL, when set, moves authorization requests, codes and SSO
	// sessions to Redis; RedisPrefix starts every key.
	RedisURL    string `env:"REDIS_URL" flag:"redis-url"`
	RedisPrefix string `env:"REDIS_PREFIX"`

	AccessTokenLifetime     time.Duration `env:"ACCESS_TOKEN_LIFETIME"`
	IDTokenLifetime         time.Duration `env:"ID_TOKEN_LIFETIME"`
	RefreshTokenLifetime    time.Duration `env:"REFRESH_TOKEN_LIFETIME"`
	AuthCodeLifetime        time.Duration `env:"AUTH_CODE_LIFETIME"`
	SessionIdleTimeout      time.Duration `env:"SESSION_IDLE_TIMEOUT"`
	SessionAbsoluteLifetime time.Duration `env:"SESSION_ABSOLUTE_LIFETIME"`
	// RefreshReuseGrace: how long a rotated refresh token may be presented
	// again (two tabs refreshing at once) before reuse revokes the grant.
	RefreshReuseGrace time.Duration `env:"REFRESH_REUSE_GRACE"`
	// RotateConfidentialRefreshTokens: confidential clients' refresh tokens
	// rotate too (public clients' always do).
	RotateConfidentialRefreshTokens bool `env:"ROTATE_CONFIDENTIAL_REFRESH_TOKENS"`

	Argon2MemoryKiB   uint32        `env:"ARGON2_MEMORY_KIB"`
	Argon2Iterations  uint32        `env:"ARGON2_ITERATIONS"`
	Argon2Parallelism uint8         `env:"ARGON2_PARALLELISM"`
	HashConcurrency   int           `env:"HASH_CONCURRENCY"`
	HashMaxWait       time.Duration `env:"HASH_MAX_WAIT"`

	// TrustedProxies lists the networks (comma-separated CIDRs) whose
	// X-Forwarded-Host is believed when a tenant is resolved by hostname;
	// empty: the header is ignored. See parseTrustedProxies.
	TrustedProxies string `env:"TRUSTED_PROXIES" flag:"trusted-proxies"`

	// The authentication audit trail (op.AuthAudit): how long events are
	// kept, whether source addresses are stored raw instead of hashed, and
	// the key of those hashes (base64 of at least 32 bytes; unset: a random
	// key kept in the database).
	AuthAuditRetention    time.Duration `env:"AUTH_AUDIT_RETENTION"`
	AuthAuditRawAddresses bool          `env:"AUTH_AUDIT_RAW_ADDRESSES"`
	AuthAuditHashKey      string        `env:"AUTH_AUDIT_HASH_KEY"`

	// PprofAddr, when set, serves net/http/pprof on its own loopback
	// listener (never the public port), for profiling a workload.
	PprofAddr string `env:"PPROF_ADDR" flag:"pprof-addr"`

	// MetricsAddr, when set, serves Prometheus metrics at /metrics on its
	// own listener (never the public port); MetricsTenants bounds the
	// tenant label (0: off; N: N tenants, the rest "other"). Tracing is
	// configured by the standard OTEL_* variables (internal/telemetry).
	MetricsAddr    string `env:"METRICS_ADDR" flag:"metrics-addr"`
	MetricsTenants int    `env:"METRICS_TENANTS" flag:"metrics-tenants"`

	// Graceful shutdown: on SIGTERM /readyz answers 503 for ShutdownDelay
	// (load balancers take the replica out) while requests are still
	// served; then the listener closes and in-flight requests get
	// ShutdownTimeout to finish.
	ShutdownDelay   time.Duration `env:"SHUTDOWN_DELAY" flag:"shutdown-delay"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" flag:"shutdown-timeout"`

	LogLevel string `env:"LOG_LEVEL" flag:"log-level"`
}

// defaultConfig returns the built-in defaults.
func defaultConfig() *Config {
	l := op.DefaultLifetimes()
	p := password.DefaultParams()
	return &Config{
		Addr:                    defaultAddr,
		DatabaseURL:             defaultDatabaseURL,
		DatabaseMaxConns:        defaultDatabaseMaxConns,
		DatabaseTimeout:         defaultDatabaseTimeout,
		RedisPrefix:             defaultRedisPrefix,
		AccessTokenLifetime:     l.AccessToken,
		IDTokenLifetime:         l.IDToken,
		RefreshTokenLifetime:    l.RefreshToken,
		AuthCodeLifetime:        l.AuthCode,
		SessionIdleTimeout:      l.SessionIdle,
		SessionAbsoluteLifetime: l.SessionAbsolute,
		Argon2MemoryKiB:         p.MemoryKiB,
		Argon2Iterations:        p.Iterations,
		Argon2Parallelism:       p.Parallelism,
		HashConcurrency:         defaultHashConcurrency(),
		HashMaxWait:             password.DefaultMaxWait,
		AuthAuditRetention:      op.DefaultAuthAuditRetention,
		LogLevel:                defaultLogLevel,
		MetricsTenants:          defaultMetricsTenants,
		ShutdownDelay:           defaultShutdownDelay,
		ShutdownTimeout:         defaultShutdownTimeout,
	}
}

// loadConfig returns the defaults overridden by the environment. Unparsable
// values are reported naming their variable; the config is still returned so
// that --help works whatever the environment holds.
func loadConfig() (*Config, error) {
	cfg := defaultConfig()
	err := env.ParseWithOptions(cfg, env.Options{Prefix: envPrefix})
	if err == nil {
		return cfg, nil
	}
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return cfg, err
	}
	var errs []error
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			if hint := valueHint(reflect.Zero(pe.Type).Interface()); hint != "" {
				errs = append(errs, fmt.Errorf("%s: invalid value: %s", settingName(pe.Name), hint))
				continue
			}
			errs = append(errs, fmt.Errorf("%s: invalid %s value: %v", settingName(pe.Name), pe.Type, pe.Err))
			continue
		}
		errs = append(errs, e)
	}
	return cfg, errors.Join(errs...)
}

// settingName names the setting behind a Config field for messages:
// "HERALD_ADDR (--addr)" or just "HERALD_ID_TOKEN_LIFETIME".
func settingName(field string) string {
	f, ok := reflect.TypeFor[Config]().FieldByName(field)
	if !ok {
		return field
	}
	name := envPrefix + f.Tag.Get("env")
	if fl := f.Tag.Get("flag"); fl != "" {
		name += " (--" + fl + ")"
	}
	return name
}

// registerCommonFlags adds the flags every command that opens the store
// accepts.
func (c *Config) registerCommonFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL,
		"externally visible base `URL`; issuers are URL/t/TENANT (default http://ADDR); env HERALD_PUBLIC_URL")
	c.registerDatabaseFlags(fs)
	fs.StringVar(&c.RedisURL, "redis-url", c.RedisURL,
		"Redis `URL` (redis://, rediss://, redis-cluster://, redis-sentinel://) for sessions, codes and\n"+
			"authorization requests; default: keep them in the database; env HERALD_REDIS_URL")
	fs.StringVar(&c.KeyEncryptionKeyFile, "key-encryption-key-file", c.KeyEncryptionKeyFile,
		"`file` holding the base64 key that encrypts signing keys; env HERALD_KEY_ENCRYPTION_KEY_FILE")
}

// registerDatabaseFlags adds the flags of commands that only touch the
// database (migrate).
func (c *Config) registerDatabaseFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL,
		"database `URL`: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB; env HERALD_DATABASE_URL")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error; env HERALD_LOG_LEVEL")
}

// Validate fills in derived defaults (the public URL) and reports every
// problem at once, each naming its setting.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", settingName(field), fmt.Sprintf(format, args...)))
	}

	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		bad("Addr", "%q is not host:port", c.Addr)
	}
	if c.PublicURL == "" && err == nil {
		if port == "0" {
			bad("PublicURL", "required when the listen port is 0 (the URL would be unknown)")
		} else {
			if host == "" || host == "0.0.0.0" || host == "::" {
				host = "localhost"
			}
			c.PublicURL = "http://" + net.JoinHostPort(host, port)
		}
	}
	if c.PublicURL != "" {
		if msg := op.PublicURLProblem(c.PublicURL); msg != "" {
			bad("PublicURL", "%q %s", c.PublicURL, msg)
		}
	}
	if err := checkDatabaseURL(c.DatabaseURL); err != nil {
		bad("DatabaseURL", "%v", err)
	}
	if c.DatabaseMaxConns < 1 {
		bad("DatabaseMaxConns", "must be at least 1, not %d", c.DatabaseMaxConns)
	}
	if c.DatabaseTimeout <= 0 {
		bad("DatabaseTimeout", "must be a positive duration such as 5s, not %s", c.DatabaseTimeout)
	}
	if c.RedisURL != "" {
		if err := checkRedisURL(c.RedisURL); err != nil {
			bad("RedisURL", "%v", err) // never echo the URL: it may hold a password
		}
	}
	if c.RedisPrefix == "" || redisstore.CheckPrefix(c.RedisPrefix) != nil {
		bad("RedisPrefix", "must be non-empty and must not contain '{' or '}'")
	}
	switch {
	case c.KeyEncryptionKey != "" && c.KeyEncryptionKeyFile != "":
		errs = append(errs, errors.New("HERALD_KEY_ENCRYPTION_KEY and HERALD_KEY_ENCRYPTION_KEY_FILE (--key-encryption-key-file): set only one"))
	case c.KeyEncryptionKey != "":
		if _, err := decodeKEK([]byte(c.KeyEncryptionKey)); err != nil {
			bad("KeyEncryptionKey", "%v", err) // never echo the value
		}
	}

	if c.HashMaxWait <= 0 {
		bad("HashMaxWait", "must be a positive duration such as 15m or 720h, not %s", c.HashMaxWait)
	}
	if c.AuthAuditRetention <= 0 {
		bad("AuthAuditRetention", "must be a positive duration such as 720h or 2160h, not %s", c.AuthAuditRetention)
	}
	if _, err := c.authAuditHashKey(); err != nil {
		bad("AuthAuditHashKey", "%v", err)
	}
	// The lifetime rules are op's (op.Lifetimes.Problems); only the names
	// are ours.
	for _, p := range c.lifetimes().Problems() {
		bad(lifetimeSettings[p.Field], "%s", p.Message)
	}
	if c.Argon2MemoryKiB < password.MinMemoryKiB || c.Argon2MemoryKiB > password.MaxMemoryKiB {
		bad("Argon2MemoryKiB", "must be between %d (19 MiB, the OWASP minimum) and %d (4 GiB), not %d",
			password.MinMemoryKiB, password.MaxMemoryKiB, c.Argon2MemoryKiB)
	}
	if c.Argon2Iterations < 1 {
		bad("Argon2Iterations", "must be at least 1")
	}
	if c.Argon2Parallelism < 1 {
		bad("Argon2Parallelism", "must be at least 1")
	}
	if len(errs) == 0 {
		// Anything op/password adds later is still caught here.
		if err := c.passwordParams().Validate(); err != nil {
			errs = append(errs, fmt.Errorf("HERALD_ARGON2_*: %v", err))
		}
	}
	if c.HashConcurrency < 1 {
		bad("HashConcurrency", "must be at least 1, not %d", c.HashConcurrency)
	}
	if _, err := parseTrustedProxies(c.TrustedProxies); err != nil {
		bad("TrustedProxies", "%v", err)
	}
	if _, err := parseLogLevel(c.LogLevel); err != nil {
		bad("LogLevel", "%v", err)
	}
	if c.MetricsAddr != "" {
		if _, mport, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("MetricsAddr", "%q is not host:port", c.MetricsAddr)
		} else if mport == port && mport != "0" {
			bad("MetricsAddr", "must not be the public port %s (metrics are for the operator only)", port)
		}
	}
	if c.MetricsTenants < 0 {
		bad("MetricsTenants", "must be 0 (no tenant label) or a number of tenants, not %d", c.MetricsTenants)
	}
	if c.ShutdownDelay < 0 {
		bad("ShutdownDelay", "must be 0 or a positive duration such as 5s, not %s", c.ShutdownDelay)
	}
	if c.ShutdownTimeout <= 0 {
		bad("ShutdownTimeout", "must be a positive duration such as 20s, not %s", c.ShutdownTimeout)
	}
	return errors.Join(errs...)
}

// lifetimeSettings names the Config field behind each op.Lifetimes field
// (AuthRequest is not configurable: lifetimes() keeps op's default).
var lifetimeSettings = map[string]string{
	"AuthRequest": "AuthRequestLifetime", "AuthCode": "AuthCodeLifetime",
	"AccessToken": "AccessTokenLifetime", "IDToken": "IDTokenLifetime", "RefreshToken": "RefreshTokenLifetime",
	"SessionIdle": "SessionIdleTimeout", "SessionAbsolute": "SessionAbsoluteLifetime",
	"RefreshReuseGrace": "RefreshReuseGrace",
}

func (c *Config) lifetimes() op.Lifetimes {
	l := op.DefaultLifetimes() // AuthRequest is not configurable
	l.AccessToken = c.AccessTokenLifetime
	l.IDToken = c.IDTokenLifetime
	l.RefreshToken = c.RefreshTokenLifetime
	l.AuthCode = c.AuthCodeLifetime
	l.SessionIdle = c.SessionIdleTimeout
	l.SessionAbsolute = c.SessionAbsoluteLifetime
	l.RefreshReuseGrace = c.RefreshReuseGrace
	return l
}

func (c *Config) passwordParams() password.Params {
	return password.Params{
		MemoryKiB:   c.Argon2MemoryKiB,
		Iterations:  c.Argon2Iterations,
		Parallelism: c.Argon2Parallelism,
	}
}

func parseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%q is not debug, info, warn or error", s)
}

// keyEncryptionKey returns the KEK that seals signing keys at rest: from
// HERALD_KEY_ENCRYPTION_KEY, from HERALD_KEY_ENCRYPTION_KEY_FILE, or — for a
// SQLite database only — from herald.kek next to the database file, which is
// generated on first use. With a database that has no local directory
// (PostgreSQL) and no configured KEK it fails naming
// HERALD_KEY_ENCRYPTION_KEY, unless HERALD_ALLOW_PLAINTEXT_KEYS allows
// unencrypted keys (development only; nil, nil). A generated file would not
// do there: every replica must share one KEK. Errors never contain key
// material.
func (c *Config) keyEncryptionKey() ([]byte, error) {
	switch {
	case c.KeyEncryptionKey != "":
		k, err := decodeKEK([]byte(c.KeyEncryptionKey))
		if err != nil {
			return nil, fmt.Errorf("HERALD_KEY_ENCRYPTION_KEY: %w", err)
		}
		return k, nil
	case c.KeyEncryptionKeyFile != "":
		b, err := os.ReadFile(c.KeyEncryptionKeyFile)
		if err != nil {
			return nil, fmt.Errorf("HERALD_KEY_ENCRYPTION_KEY_FILE (--key-encryption-key-file): %w", err)
		}
		k, err := decodeKEK(b)
		if err != nil {
			return nil, fmt.Errorf("HERALD_KEY_ENCRYPTION_KEY_FILE (--key-encryption-key-file) %s: %w", c.KeyEncryptionKeyFile, err)
		}
		return k, nil
	}
	dir, ephemeral, ok := localKEKDir(c.DatabaseURL)
	switch {
	case !ok:
		return nil, c.plaintextKeysAllowed()
	case ephemeral:
		return randomBytes(kekSize)
	}
	return loadOrCreateKEKFile(filepath.Join(dir, kekFileName), c.kekCreated)
}

// decodeKEK accepts the base64 (standard or URL alphabet, padded or not) of
// exactly 32 bytes, surrounded by optional white space.
func decodeKEK(b []byte) ([]byte, error) {
	s := strings.TrimSpace(string(b))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != kekSize {
				return nil, fmt.Errorf("must decode to %d bytes, got %d", kekSize, len(k))
			}
			return k, nil
		}
	}
	return nil, fmt.Errorf("must be the base64 encoding of %d random bytes (openssl rand -base64 32)", kekSize)
}

// loadOrCreateKEKFile reads the KEK at path, or creates it (mode 0600) with a
// fresh random key and tells created (if not nil). The new file is written under a temporary name and
// hard-linked into place, so two processes starting at once agree on one key
// and neither ever reads a half-written file.
func loadOrCreateKEKFile(path string, created func(path string)) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil {
		k, err := decodeKEK(b)
		if err != nil {
			return nil, fmt.Errorf("key-encryption key file %s: %w", path, err)
		}
		return k, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("key-encryption key file: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("key-encryption key file: %w", err)
	}
	k, err := randomBytes(kekSize)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, ".herald.kek-*")
	if err != nil {
		return nil, fmt.Errorf("key-encryption key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp already uses 0600; Chmod makes the intent explicit.
	_ = tmp.Chmod(0o600)
	_, werr := tmp.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return nil, fmt.Errorf("key-encryption key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return loadOrCreateKEKFile(path, nil) // another process won the race
		}
		return nil, fmt.Errorf("key-encryption key file: %w", err)
	}
	if created != nil {
		created(path)
	}
	return k, nil
}

// warnKEKGenerated says once, when the file appears, where the KEK is and
// to keep it apart: a database backup does not hold the KEK, and a backup
// that holds both lets its reader sign tokens.
func warnKEKGenerated(logger *slog.Logger) func(string) {
	return func(path string) {
		logger.Warn("generated a key-encryption key file; back it up separately from the database, "+
			"and in production set HERALD_KEY_ENCRYPTION_KEY_FILE to a file outside the data directory",
			"path", path)
	}
}

func randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("random: %w", err)
	}
	return b, nil
}

// defaultHashConcurrency is one password hash per core, between 2 and 8:
// each argon2id hash already uses HERALD_ARGON2_PARALLELISM lanes, so more
// hashes than cores add memory and latency, not throughput.
func defaultHashConcurrency() int {
	return min(max(runtime.NumCPU(), 2), 8)
}

// authAuditHashKey decodes HERALD_AUTH_AUDIT_HASH_KEY (nil when unset).
func (c *Config) authAuditHashKey() ([]byte, error) {
	if c.AuthAuditHashKey == "" {
		return nil, nil
	}
	k, err := base64.StdEncoding.DecodeString(c.AuthAuditHashKey)
	if err != nil || len(k) < 32 {
		return nil, errors.New("must be base64 of at least 32 random bytes (openssl rand -base64 32)")
	}
	return k, nil
}
