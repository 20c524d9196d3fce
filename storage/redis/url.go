package redisstore

import (
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// dialerRetries is 1 (go-redis defaults to 5 dials with backoff per
// connection): the command retries already redial, and with a refused
// connection five dials per attempt spend the whole OpTimeout, so the
// caller got "context deadline exceeded" instead of "connection refused".
const dialerRetries = 1

// newClient builds the client for rawURL and returns it with a description
// of the target for error messages (addresses only, never credentials).
// Errors never quote the URL: it may hold a password.
func newClient(rawURL string, opts Options) (redis.UniversalClient, string, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, "", errors.New(`redis: URL must start with redis://, rediss://, redis-cluster:// or redis-sentinel://`)
	}
	switch scheme {
	case "redis", "rediss":
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, "", fmt.Errorf("redis: invalid URL: %w", scrubURLError(err))
		}
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout = opts.OpTimeout, opts.OpTimeout, opts.OpTimeout
		o.PoolTimeout, o.PoolSize = opts.OpTimeout, opts.PoolSize
		o.ContextTimeoutEnabled = true
		o.DialerRetries = dialerRetries
		return redis.NewClient(o), fmt.Sprintf("%s://%s/%d", scheme, o.Addr, o.DB), nil
	case "redis-cluster", "rediss-cluster", "redis-sentinel", "rediss-sentinel":
		uo, target, err := multiHostOptions(scheme, rest, opts)
		if err != nil {
			return nil, "", err
		}
		return redis.NewUniversalClient(uo), target, nil
	default:
		return nil, "", fmt.Errorf("redis: unsupported URL scheme %q", scheme)
	}
}

// multiHostOptions reads a cluster or sentinel URL (rest follows "://").
func multiHostOptions(scheme, rest string, opts Options) (*redis.UniversalOptions, string, error) {
	u, err := parseMultiHost(rest)
	if err != nil {
		return nil, "", err
	}
	sentinel := strings.HasSuffix(scheme, "-sentinel")
	defaultPort := "6379"
	if sentinel {
		defaultPort = "26379"
	}
	addrs, err := splitAddrs(u.hosts, defaultPort)
	if err != nil {
		return nil, "", err
	}
	uo := &redis.UniversalOptions{
		Addrs:                 addrs,
		Username:              u.username,
		Password:              u.password,
		DialTimeout:           opts.OpTimeout,
		ReadTimeout:           opts.OpTimeout,
		WriteTimeout:          opts.OpTimeout,
		PoolTimeout:           opts.OpTimeout,
		PoolSize:              opts.PoolSize,
		ContextTimeoutEnabled: true,
		DialerRetries:         dialerRetries,
	}
	useTLS := strings.HasPrefix(scheme, "rediss")
	q := queryParams{v: u.query}
	if q.bool("tls") {
		useTLS = true
	}
	uo.ClientName = q.string("client_name")
	target := scheme + "://" + strings.Join(addrs, ",")
	if sentinel {
		parts := strings.Split(strings.Trim(u.path, "/"), "/")
		if parts[0] == "" || len(parts) > 2 {
			return nil, "", errors.New("redis: sentinel URL must end in /<master name>[/<db>]")
		}
		uo.MasterName = parts[0]
		db := q.string("db")
		if len(parts) == 2 {
			db = parts[1]
		}
		if db != "" {
			if uo.DB, err = strconv.Atoi(db); err != nil || uo.DB < 0 {
				return nil, "", fmt.Errorf("redis: invalid database number %q", db)
			}
		}
		uo.SentinelUsername = q.string("sentinel_username")
		uo.SentinelPassword = q.string("sentinel_password")
		target += "/" + uo.MasterName
	} else {
		if strings.Trim(u.path, "/") != "" {
			return nil, "", errors.New("redis: a cluster URL has no path (Redis Cluster has only database 0)")
		}
		uo.IsClusterMode = true
		uo.ReadOnly = q.bool("read_only")
		uo.RouteByLatency = q.bool("route_by_latency")
		uo.RouteRandomly = q.bool("route_randomly")
	}
	if err := q.finish(); err != nil {
		return nil, "", err
	}
	if useTLS {
		// ServerName stays empty: the TLS dialer takes it from each node's
		// address, which differs per node.
		uo.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return uo, target, nil
}

// scrubURLError drops the URL that net/url quotes in its errors.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

type multiHostURL struct {
	username, password string
	hosts, path        string
	query              url.Values
}

// parseMultiHost parses what follows "scheme://" by hand: net/url does not
// accept a comma-separated host list, and its errors would quote the
// password.
func parseMultiHost(rest string) (*multiHostURL, error) {
	var u multiHostURL
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		return nil, errors.New("redis: URL must not contain a fragment")
	}
	rest, rawQuery, _ := strings.Cut(rest, "?")
	authority, path, _ := strings.Cut(rest, "/")
	u.path = path
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		userinfo := authority[:i]
		authority = authority[i+1:]
		user, pass, hasPass := strings.Cut(userinfo, ":")
		if !hasPass {
			// "pass@host": a lone value is the password (Redis before 6 had
			// no user names).
			user, pass = "", user
		}
		var err1, err2 error
		u.username, err1 = url.PathUnescape(user)
		u.password, err2 = url.PathUnescape(pass)
		if err1 != nil || err2 != nil {
			return nil, errors.New("redis: invalid percent-encoding in URL user info")
		}
	}
	u.hosts = authority
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("redis: invalid URL query: %w", err)
	}
	u.query = q
	return &u, nil
}

// splitAddrs turns "h1:p1,h2" into host:port addresses.
func splitAddrs(hosts, defaultPort string) ([]string, error) {
	if hosts == "" {
		return nil, errors.New("redis: URL names no host")
	}
	var addrs []string
	for h := range strings.SplitSeq(hosts, ",") {
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			// No port: take the default ("[::1]" or "host").
			host, port = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), defaultPort
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("redis: invalid port in address %q", h)
		}
		if host == "" || strings.ContainsAny(host, "[]/ ") {
			return nil, fmt.Errorf("redis: invalid host in address %q", h)
		}
		addrs = append(addrs, net.JoinHostPort(host, port))
	}
	return addrs, nil
}

// queryParams reads URL options and reports unknown ones at finish.
type queryParams struct {
	v   url.Values
	err error
}

func (q *queryParams) string(name string) string {
	s := q.v.Get(name)
	delete(q.v, name)
	return s
}

func (q *queryParams) bool(name string) bool {
	switch s := q.string(name); s {
	case "", "false", "0":
		return false
	case "true", "1":
		return true
	default:
		if q.err == nil {
			// The value is not quoted: a misplaced password could be in it.
			q.err = fmt.Errorf("redis: URL option %s: want true or false", name)
		}
		return false
	}
}

func (q *queryParams) finish() error {
	if q.err != nil {
		return q.err
	}
	if len(q.v) > 0 {
		return fmt.Errorf("redis: unknown URL option %q", slices.Sorted(maps.Keys(q.v))[0])
	}
	return nil
}
