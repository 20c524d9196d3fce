// Command herald-bench is Herald's load driver (`make bench`): it builds and
// seeds a real `herald serve` process, drives workloads W1–W7 against it over
// loopback, reads the server's CPU and memory from /proc, measures the
// physical limits (signature and password-hash cost) in-process, and
// rewrites the generated part of docs/benchmarks.md. It talks to Herald only
// through its CLI and HTTP, so it imports nothing of Herald's.
package main
