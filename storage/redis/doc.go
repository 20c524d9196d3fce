// Package redisstore keeps Herald's short-lived records (authorization
// requests, authorization codes, SSO sessions) in Redis and implements
// storage.ShortLived and storage.Notifier (pub/sub on <prefix>:tenants);
// combine it with a durable store via storage.Combine.
// It must not import net/http, zitadel/oidc or op/...; only cmd/herald (and
// tests) import it.
//
// Open accepts these URL forms (percent-encode special characters in user
// names and passwords):
//
//	redis://[[user]:pass@]host[:port][/db]        single node (redis.ParseURL)
//	rediss://[[user]:pass@]host[:port][/db]       single node over TLS
//	redis-cluster://[[user]:pass@]host1:port,host2:port[?opts]   Redis Cluster
//	redis-sentinel://[[user]:pass@]host1:port,host2:port/master[/db][?opts]
//
// rediss-cluster:// and rediss-sentinel:// (or ?tls=true) use TLS. A lone
// "pass@" is taken as the password. Cluster options: read_only,
// route_by_latency, route_randomly, client_name. Sentinel options: db,
// client_name, sentinel_username, sentinel_password (the user info
// authenticates to the master; sentinels authenticate separately). Timeouts
// and pool size always come from Options, whatever the URL says.
//
// Keys are <prefix>:{<tenant>}:<kind>:<id>; the braces make every key of a
// tenant one Redis Cluster hash slot, so Lua scripts and MULTI over one
// tenant's keys work on Cluster. Every key expires with its record.
package redisstore
