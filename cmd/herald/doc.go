// Command herald runs the Herald OpenID Provider (herald serve), migrates
// its database (herald migrate) and, talking to storage directly, manages
// tenants, clients, users, keys, the audit log and admin API credentials
// with the admin API's JSON shapes. It is the only package that names
// concrete storage backends (store.go). Output is JSON on stdout; logs and
// errors go to stderr.
package main
