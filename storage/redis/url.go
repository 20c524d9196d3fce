package redisstore

import (
	"crypto/tls"
	"errors"
	"fmt"
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

// Schemes are the URL schemes Open understands (docs/deploy.md, "Redis URL
// forms").
func Schemes() []string {
	return []string{"redis", "rediss", "redis-cluster", "rediss-cluster", "redis-sentinel", "rediss-sentinel"}
}

// newClient builds the client for rawURL and returns it with a description
// of the target for error messages (addresses only, never credentials).
// Errors never quote the URL: it may hold a password.
func newClient(rawURL string, opts Options) (redis.UniversalClient, string, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, "", fmt.Errorf("redis: URL must start with %s://", strings.Join(Schemes(), "://, "))
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
	case "redis-cluster", "rediss-cluster":
		co, target, err := clusterOptions(scheme, rest, opts)
		if err != nil {
			return nil, "", err
		}
		c := redis.NewClusterClient(co)
		c.AddHook(reloadOnFailure{c})
		return c, target, nil
	case "redis-sentinel", "rediss-sentinel":
		fo, target, err := failoverOptions(scheme, rest, opts)
		if err != nil {
			return nil, "", err
		}
		return redis.NewFailoverClient(fo), target, nil
	default:
		return nil, "", fmt.Errorf("redis: unsupported URL scheme %q", scheme)
	}
}

// clusterOptions reads a redis-cluster:// URL (rest follows "://") with
// go-redis's ParseClusterURL, after rewriting it into that function's form.
func clusterOptions(scheme, rest string, opts Options) (*redis.ClusterOptions, string, error) {
	m, err := parseMultiHost(scheme, rest, "6379")
	if err != nil {
		return nil, "", err
	}
	if strings.Trim(m.path, "/") != "" {
		return nil, "", errors.New("redis: a cluster URL has no path (Redis Cluster has only database 0)")
	}
	co, err := redis.ParseClusterURL(m.goRedisURL(m.userinfo(), "").String())
	if err != nil {
		return nil, "", m.redact(err)
	}
	co.DialTimeout, co.ReadTimeout, co.WriteTimeout = opts.OpTimeout, opts.OpTimeout, opts.OpTimeout
	co.PoolTimeout, co.PoolSize = opts.OpTimeout, opts.PoolSize
	co.ContextTimeoutEnabled = true
	co.DialerRetries = dialerRetries
	co.ClusterStateReloadInterval = clusterStateReload
	co.TLSConfig = m.tlsConfig()
	return co, scheme + "://" + strings.Join(co.Addrs, ","), nil
}

// failoverOptions reads a redis-sentinel:// URL with go-redis's
// ParseFailoverURL. Herald's form differs from go-redis's in two ways that
// the rewrite bridges: the master's name is the first path segment (go-redis:
// ?master_name=), and the user info authenticates to the master, the
// sentinels using ?sentinel_username= and ?sentinel_password= (go-redis: the
// user info is the sentinels', ?username= and ?password= the master's).
func failoverOptions(scheme, rest string, opts Options) (*redis.FailoverOptions, string, error) {
	m, err := parseMultiHost(scheme, rest, "26379")
	if err != nil {
		return nil, "", err
	}
	parts := strings.Split(strings.Trim(m.path, "/"), "/")
	if parts[0] == "" || len(parts) > 2 {
		return nil, "", errors.New("redis: sentinel URL must end in /<master name>[/<db>]")
	}
	m.query.Set("master_name", parts[0])
	db := ""
	if len(parts) == 2 {
		db = "/" + parts[1]
		m.query.Del("db") // the path's database wins, as documented
	}
	var sentinelUser *url.Userinfo
	su, sp := m.query.Get("sentinel_username"), m.query.Get("sentinel_password")
	m.query.Del("sentinel_username")
	m.query.Del("sentinel_password")
	if su != "" || sp != "" {
		sentinelUser = url.UserPassword(su, sp)
		m.passwords = append(m.passwords, sp)
	}
	fo, err := redis.ParseFailoverURL(m.goRedisURL(sentinelUser, db).String())
	if err != nil {
		return nil, "", m.redact(err)
	}
	switch {
	case fo.DB < 0:
		return nil, "", fmt.Errorf("redis: invalid database number %d", fo.DB)
	case fo.RouteByLatency, fo.RouteRandomly, fo.ReplicaOnly:
		// go-redis's failover client panics on the first two, and Herald
		// writes, which a replica refuses.
		return nil, "", errors.New("redis: route_by_latency, route_randomly and replica_only are not supported with Sentinel")
	}
	if m.hasUser {
		fo.Username, fo.Password = m.username, m.password
	}
	fo.DialTimeout, fo.ReadTimeout, fo.WriteTimeout = opts.OpTimeout, opts.OpTimeout, opts.OpTimeout
	fo.PoolTimeout, fo.PoolSize = opts.OpTimeout, opts.PoolSize
	fo.ContextTimeoutEnabled = true
	fo.DialerRetries = dialerRetries
	fo.TLSConfig = m.tlsConfig()
	return fo, scheme + "://" + strings.Join(fo.SentinelAddrs, ",") + "/" + fo.MasterName, nil
}

// scrubURLError drops the URL that net/url quotes in its errors.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// multiHost is a Herald multi-host URL taken apart: net/url does not accept
// a comma-separated host list, and its errors would quote the password.
type multiHost struct {
	useTLS             bool
	hasUser            bool
	username, password string
	addrs              []string // host:port, the default port added
	path               string
	query              url.Values // Herald's own options removed
	passwords          []string   // never repeated in an error
	values             []string   // the query's values, never quoted in an error
}

func parseMultiHost(scheme, rest, defaultPort string) (*multiHost, error) {
	if strings.Contains(rest, "#") {
		return nil, errors.New("redis: URL must not contain a fragment")
	}
	m := &multiHost{useTLS: strings.HasPrefix(scheme, "rediss")}
	rest, rawQuery, _ := strings.Cut(rest, "?")
	authority, path, _ := strings.Cut(rest, "/")
	m.path = path
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
		m.username, err1 = url.PathUnescape(user)
		m.password, err2 = url.PathUnescape(pass)
		if err1 != nil || err2 != nil {
			return nil, errors.New("redis: invalid percent-encoding in URL user info")
		}
		m.hasUser = true
		m.passwords = append(m.passwords, m.password)
	}
	var err error
	if m.addrs, err = splitAddrs(authority, defaultPort); err != nil {
		return nil, err
	}
	if m.query, err = url.ParseQuery(rawQuery); err != nil {
		return nil, fmt.Errorf("redis: invalid URL query: %w", err)
	}
	for _, vs := range m.query {
		m.values = append(m.values, vs...) // a misplaced password may be any value
	}
	// tls=true is Herald's (go-redis knows only the rediss scheme).
	switch v := m.query.Get("tls"); v {
	case "", "false", "0":
	case "true", "1":
		m.useTLS = true
	default:
		// The value is not quoted: a misplaced password could be in it.
		return nil, errors.New("redis: URL option tls: want true or false")
	}
	m.query.Del("tls")
	return m, nil
}

// userinfo is the URL's user info as url.Userinfo (nil if none).
func (m *multiHost) userinfo() *url.Userinfo {
	if !m.hasUser {
		return nil
	}
	return url.UserPassword(m.username, m.password)
}

// goRedisURL is the URL in the form go-redis's ParseClusterURL and
// ParseFailoverURL read: scheme redis, the first address as the host and
// the others as addr parameters (which must carry their port). TLS is set
// up by tlsConfig, not by the scheme.
func (m *multiHost) goRedisURL(user *url.Userinfo, path string) *url.URL {
	q := url.Values{}
	for k, vs := range m.query {
		q[k] = vs
	}
	// The host list's other addresses go before any given as addr
	// parameters (go-redis's own way of listing them).
	q["addr"] = append(slices.Clone(m.addrs[1:]), m.query["addr"]...)
	return &url.URL{Scheme: "redis", User: user, Host: m.addrs[0], Path: path, RawQuery: q.Encode()}
}

// tlsConfig is nil without TLS. ServerName stays empty: the TLS dialer
// takes it from each node's address, which differs per node (go-redis
// would pin the first host's name).
func (m *multiHost) tlsConfig() *tls.Config {
	if !m.useTLS {
		return nil
	}
	return &tls.Config{MinVersion: tls.VersionTLS12}
}

// minRedactedLen is the length from which a query value is redacted
// wherever it appears in an error.
const minRedactedLen = 6

// redact returns go-redis's parse error without any value of the URL: its
// messages quote a bad option's value, which could be a misplaced password.
func (m *multiHost) redact(err error) error {
	msg := scrubURLError(err).Error()
	for _, v := range append(m.passwords, m.values...) {
		if v != "" {
			msg = strings.ReplaceAll(msg, strconv.Quote(v), `"(redacted)"`)
		}
	}
	// Some messages name a value unquoted (a bad addr parameter). Short
	// values (true, 10s) are left alone: they are no secret and replacing
	// them would garble the message.
	for _, v := range append(m.passwords, m.values...) {
		if len(v) >= minRedactedLen || (v != "" && slices.Contains(m.passwords, v)) {
			msg = strings.ReplaceAll(msg, v, "(redacted)")
		}
	}
	return errors.New(msg)
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
