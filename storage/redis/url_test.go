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
		{url: "rediss-sentinel://s1/m?db=2", addrs: []string{"s1:26379"}, master: "m", db: 2, tls: true,
			target: "rediss-sentinel://s1:26379/m"},
	} {
		scheme, rest, _ := strings.Cut(tc.url, "://")
		uo, target, err := multiHostOptions(scheme, rest, opts)
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if !slices.Equal(uo.Addrs, tc.addrs) || uo.Username != tc.user || uo.Password != tc.pass ||
			uo.MasterName != tc.master || uo.DB != tc.db || uo.IsClusterMode != tc.cluster ||
			(uo.TLSConfig != nil) != tc.tls || uo.ReadOnly != tc.readOK ||
			uo.SentinelUsername != tc.sentUser || uo.SentinelPassword != tc.sentPass {
			t.Errorf("%s: got %+v", tc.url, uo)
		}
		if target != tc.target {
			t.Errorf("%s: target %q, want %q", tc.url, target, tc.target)
		}
		if uo.DialTimeout != opts.OpTimeout || uo.ReadTimeout != opts.OpTimeout ||
			uo.WriteTimeout != opts.OpTimeout || uo.PoolTimeout != opts.OpTimeout ||
			uo.PoolSize != 7 || !uo.ContextTimeoutEnabled {
			t.Errorf("%s: timeouts/pool not from Options: %+v", tc.url, uo)
		}
	}
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
