package redisstore

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMultiHostOptions(t *testing.T) {
	opts := Options{OpTimeout: 3 * time.Second, PoolSize: 7}
	for _, tc := range []struct {
		url                  string
		addrs                []string
		user, pass, master   string
		sentUser, sentPass   string
		db                   int
		cluster, tls, readOK bool
		target               string
	}{
		{url: "redis-cluster://h1:7000,h2:7001", addrs: []string{"h1:7000", "h2:7001"},
			cluster: true, target: "redis-cluster://h1:7000,h2:7001"},
		{url: "redis-cluster://u:p%40ss@h1:7000?read_only=true&client_name=herald",
			addrs: []string{"h1:7000"}, user: "u", pass: "p@ss", cluster: true, readOK: true,
			target: "redis-cluster://h1:7000"},
		{url: "rediss-cluster://h1,[::1]:7002", addrs: []string{"h1:6379", "[::1]:7002"},
			cluster: true, tls: true, target: "rediss-cluster://h1:6379,[::1]:7002"},
		{url: "redis-cluster://h1:7000?tls=1", addrs: []string{"h1:7000"}, cluster: true, tls: true,
			target: "redis-cluster://h1:7000"},
		{url: "redis-sentinel://secret@s1:26379,s2/mymaster", addrs: []string{"s1:26379", "s2:26379"},
			pass: "secret", master: "mymaster", target: "redis-sentinel://s1:26379,s2:26379/mymaster"},
		{url: "redis-sentinel://:pw@s1/m/3?sentinel_password=sp&sentinel_username=su",
			addrs: []string{"s1:26379"}, pass: "pw", master: "m", db: 3, sentUser: "su", sentPass: "sp",
			target: "redis-sentinel://s1:26379/m"},
		// go-redis's own options are understood too: more addresses as
		// addr parameters, tuning such as max_redirects.
		{url: "redis-cluster://h1:7000,h2?addr=h3:7003&max_redirects=2", addrs: []string{"h1:7000", "h2:6379", "h3:7003"},
			cluster: true, target: "redis-cluster://h1:7000,h2:6379,h3:7003"},
		{url: "rediss-sentinel://s1/m?db=2", addrs: []string{"s1:26379"}, master: "m", db: 2, tls: true,
			target: "rediss-sentinel://s1:26379/m"},
	} {
		scheme, rest, _ := strings.Cut(tc.url, "://")
		got, target, err := multiHostOptions(scheme, rest, opts)
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if !slices.Equal(got.addrs, tc.addrs) || got.user != tc.user || got.pass != tc.pass ||
			got.master != tc.master || got.db != tc.db || got.cluster != tc.cluster ||
			got.tls != tc.tls || got.readOnly != tc.readOK ||
			got.sentUser != tc.sentUser || got.sentPass != tc.sentPass {
			t.Errorf("%s: got %+v", tc.url, got)
		}
		if got.tls && got.serverName != "" {
			t.Errorf("%s: TLS server name pinned to %q; each node's own name must be checked", tc.url, got.serverName)
		}
		if target != tc.target {
			t.Errorf("%s: target %q, want %q", tc.url, target, tc.target)
		}
		if got.dial != opts.OpTimeout || got.read != opts.OpTimeout ||
			got.write != opts.OpTimeout || got.pool != opts.OpTimeout ||
			got.poolSize != 7 || !got.ctxTimeout || got.dialerRetries != dialerRetries {
			t.Errorf("%s: timeouts/pool not from Options: %+v", tc.url, got)
		}
	}
}

// multiHostResult is what the test compares of go-redis's cluster or
// failover options.
type multiHostResult struct {
	addrs                              []string
	user, pass, master                 string
	sentUser, sentPass                 string
	db                                 int
	cluster, tls, readOnly, ctxTimeout bool
	serverName                         string
	dial, read, write, pool            time.Duration
	poolSize, dialerRetries            int
}

func multiHostOptions(scheme, rest string, opts Options) (multiHostResult, string, error) {
	if strings.Contains(scheme, "cluster") {
		co, target, err := clusterOptions(scheme, rest, opts)
		if err != nil {
			return multiHostResult{}, "", err
		}
		r := multiHostResult{addrs: co.Addrs, user: co.Username, pass: co.Password, cluster: true,
			tls: co.TLSConfig != nil, readOnly: co.ReadOnly, ctxTimeout: co.ContextTimeoutEnabled,
			dial: co.DialTimeout, read: co.ReadTimeout, write: co.WriteTimeout, pool: co.PoolTimeout,
			poolSize: co.PoolSize, dialerRetries: co.DialerRetries}
		if co.TLSConfig != nil {
			r.serverName = co.TLSConfig.ServerName
		}
		return r, target, nil
	}
	fo, target, err := failoverOptions(scheme, rest, opts)
	if err != nil {
		return multiHostResult{}, "", err
	}
	r := multiHostResult{addrs: fo.SentinelAddrs, user: fo.Username, pass: fo.Password, master: fo.MasterName,
		sentUser: fo.SentinelUsername, sentPass: fo.SentinelPassword, db: fo.DB,
		tls: fo.TLSConfig != nil, ctxTimeout: fo.ContextTimeoutEnabled,
		dial: fo.DialTimeout, read: fo.ReadTimeout, write: fo.WriteTimeout, pool: fo.PoolTimeout,
		poolSize: fo.PoolSize, dialerRetries: fo.DialerRetries}
	if fo.TLSConfig != nil {
		r.serverName = fo.TLSConfig.ServerName
	}
	return r, target, nil
}

// TestBadURLs: each is refused, and no error repeats the password.
func TestBadURLs(t *testing.T) {
	const pw = "hunter2pw"
	for _, url := range []string{
		"",
		"127.0.0.1:6379",
		"http://" + pw + "@h:1",
		"redis://u:" + pw + "@h:port/0",
		"redis://u:" + pw + "@h:6379/x",
		"redis://u:" + pw + "@h:6379/0?bogus=1",
		"redis-cluster://u:" + pw + "@",
		"redis-cluster://u:" + pw + "@h1:70000",
		"redis-cluster://u:" + pw + "@h1:7000/1",
		"redis-cluster://u:" + pw + "@h1:7000?bogus=" + pw,
		"redis-cluster://u:" + pw + "@h1:7000?read_only=" + pw,
		"redis-cluster://u:%zz" + pw + "@h1:7000",
		"redis-sentinel://" + pw + "@s1:26379",
		"redis-sentinel://" + pw + "@s1:26379/m/x",
		"redis-sentinel://" + pw + "@s1:26379/m/1/2",
		"redis-sentinel://" + pw + "@s1:26379/m#frag",
		"redis-sentinel://u:" + pw + "@s1:26379/m?route_randomly=true",
		"redis-sentinel://u:" + pw + "@s1:26379/m?dial_timeout=" + pw,
		"redis-sentinel://s1:26379/m?sentinel_password=" + pw + "&pool_size=" + pw,
		"redis-cluster://u:" + pw + "@h1:7000?addr=" + pw,
		"redis-cluster://h1:7000?addr=" + pw,
		"redis-sentinel://s1/m?dial_timeout=" + pw,
		"redis-cluster://u:" + pw + "@h1:7000?tls=" + pw,
	} {
		c, _, err := newClient(url, Options{OpTimeout: time.Second, PoolSize: 1})
		if err == nil {
			c.Close()
			t.Errorf("%q accepted", url)
			continue
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("error for %q reveals the password: %v", url, err)
		}
	}
}
