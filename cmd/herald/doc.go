// Command herald runs the Herald OpenID Provider (herald serve), migrates
// its database (herald migrate) and manages its tenants, clients and users.
// It reads HERALD_* variables and flags, and is the only package that names
// concrete storage backends (store.go). Output is JSON on stdout; logs and
// errors go to stderr.
package main
