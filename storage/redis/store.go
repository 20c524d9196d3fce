package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/herald-idp/herald/storage"
)

var _ storage.ShortLived = (*Store)(nil)

// Defaults for zero Options fields.
const (
	DefaultPrefix    = "herald"
	DefaultOpTimeout = 2 * time.Second
)

// Options tune the store; zero fields take the defaults.
type Options struct {
	// Prefix starts every key (default "herald"), so that several
	// installations or test runs can share one Redis. It must not contain
	// '{' or '}': the tenant is the key's hash tag.
	Prefix string
	// OpTimeout bounds every operation, dialling included (default 2s),
	// unless the caller's context expires earlier.
	OpTimeout time.Duration
	// PoolSize is the connection pool size per node (default 10*GOMAXPROCS).
	PoolSize int
}

// CheckPrefix reports a key prefix that would break the per-tenant hash tag
// of every key ({tenant}, which keeps a tenant's keys in one Cluster slot).
func CheckPrefix(prefix string) error {
	if strings.ContainsAny(prefix, "{}") {
		return errors.New("redis: key prefix must not contain '{' or '}'")
	}
	return nil
}

func (o Options) withDefaults() (Options, error) {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if err := CheckPrefix(o.Prefix); err != nil {
		return o, err
	}
	if o.OpTimeout < 0 || o.PoolSize < 0 {
		return o, errors.New("redis: negative OpTimeout or PoolSize")
	}
	if o.OpTimeout == 0 {
		o.OpTimeout = DefaultOpTimeout
	}
	if o.PoolSize == 0 {
		o.PoolSize = 10 * runtime.GOMAXPROCS(0)
	}
	return o, nil
}

// Store keeps authorization requests, codes and sessions in Redis. It is
// safe for concurrent use.
type Store struct {
	client    redis.UniversalClient
	prefix    string
	opTimeout time.Duration
}

// Open connects to the Redis named by url (see the package doc for the
// forms) and pings it. The error never contains the password.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	client, target, err := newClient(url, opts)
	if err != nil {
		return nil, err
	}
	s := &Store{client: client, prefix: opts.Prefix, opTimeout: opts.OpTimeout}
	if err := s.Ping(ctx); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("redis: cannot reach %s: %w", target, err)
	}
	return s, nil
}

// Accessors: *Store implements the short-lived record interfaces itself.

func (s *Store) AuthRequests() storage.AuthRequests { return s }
func (s *Store) AuthCodes() storage.AuthCodes       { return s }
func (s *Store) Sessions() storage.Sessions         { return s }

// Ping reports whether Redis answers within OpTimeout.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	return mapErr(s.client.Ping(ctx).Err(), "ping")
}

// Close closes the connection pools.
func (s *Store) Close() error {
	if err := s.client.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("redis: close: %w", err)
	}
	return nil
}

// opCtx gives one operation its deadline: OpTimeout, or the caller's if
// earlier. Together with the client's ContextTimeoutEnabled this bounds
// dialling, pool waits, retries and socket I/O, so that an unreachable
// Redis yields ErrUnavailable instead of a hung request.
func (s *Store) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opTimeout)
}

// Key kinds.
const (
	kindAuthRequest  = "authreq"
	kindAuthCode     = "code"
	kindSession      = "sess"
	kindUserSessions = "usess"
)

// key returns <prefix>:{<tenant>}:<kind>:<id>. The tenant is the hash tag,
// so that all of a tenant's keys live in one Cluster slot; a tenant name
// with braces would break that (and the isolation between tenants), so it
// is refused.
func (s *Store) key(tenant, kind, id string) (string, error) {
	if err := checkTenant(tenant); err != nil {
		return "", err
	}
	if id == "" {
		// No record has an empty ID: a lookup of one is a miss, as on
		// every other backend.
		return "", fmt.Errorf("redis: tenant %q: empty %s ID: %w", tenant, kind, storage.ErrNotFound)
	}
	return s.tenantPrefix(tenant) + kind + ":" + id, nil
}

func (s *Store) tenantPrefix(tenant string) string {
	return s.prefix + ":{" + tenant + "}:"
}

func checkTenant(tenant string) error {
	if tenant == "" {
		return errors.New("redis: empty tenant")
	}
	if strings.ContainsAny(tenant, "{}") {
		return fmt.Errorf("redis: tenant %q: name must not contain '{' or '}'", tenant)
	}
	return nil
}

// DeleteTenantData deletes every key of the tenant (the durable store's
// DeleteTenant cannot reach Redis). It SCANs rather than KEYS so that Redis
// keeps serving; each round trip gets its own OpTimeout.
func (s *Store) DeleteTenantData(ctx context.Context, tenant string) error {
	if err := checkTenant(tenant); err != nil {
		return err
	}
	pattern := escapeGlob(s.tenantPrefix(tenant)) + "*"
	what := fmt.Sprintf("tenant %q: delete data", tenant)
	var err error
	if cc, ok := s.client.(*redis.ClusterClient); ok {
		// The keys share one slot, hence one master; ask every master
		// rather than tracking which one that is during a resharding.
		err = cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			return s.deleteMatching(ctx, node, pattern)
		})
	} else {
		err = s.deleteMatching(ctx, s.client, pattern)
	}
	return mapErr(err, what)
}

func (s *Store) deleteMatching(ctx context.Context, c redis.Cmdable, pattern string) error {
	var cursor uint64
	for {
		opCtx, cancel := s.opCtx(ctx)
		keys, next, err := c.Scan(opCtx, cursor, pattern, 500).Result()
		if err == nil && len(keys) > 0 {
			err = c.Unlink(opCtx, keys...).Err()
		}
		cancel()
		if err != nil {
			return err
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

// escapeGlob quotes the characters SCAN MATCH treats specially.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mapErr maps go-redis errors to the storage sentinels: redis.Nil to
// ErrNotFound and outages to ErrUnavailable (the HTTP layer answers 503).
// what names the operation; it never contains a code or session ID.
func mapErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, redis.Nil):
		return fmt.Errorf("redis: %s: %w", what, storage.ErrNotFound)
	case isUnavailable(err):
		return fmt.Errorf("redis: %s: %w: %w", what, storage.ErrUnavailable, err)
	default:
		return fmt.Errorf("redis: %s: %w", what, err)
	}
}

// transientPrefixes are replies of a server that is starting, failing over
// or resharding: retrying later will work.
var transientPrefixes = []string{"LOADING", "CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN",
	"READONLY", "NOREPLICAS", "ERR max number of clients reached"}

func isUnavailable(err error) bool {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, redis.ErrPoolExhausted),
		errors.Is(err, redis.ErrClosed),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.As(err, &netErr):
		return true
	}
	var redisErr redis.Error
	if errors.As(err, &redisErr) {
		msg := redisErr.Error()
		for _, p := range transientPrefixes {
			if strings.HasPrefix(msg, p) {
				return true
			}
		}
		return false
	}
	// The sentinel client reports a master it cannot find in plain text.
	return strings.Contains(err.Error(), "sentinels specified in configuration are unreachable")
}
