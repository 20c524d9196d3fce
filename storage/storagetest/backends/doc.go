// Package backends gives tests a fresh PostgreSQL database and a fresh Redis
// key prefix on the machine's shared test servers, removed when the test
// ends. An unreachable server fails the test, never skips it. Only tests
// may import it: it creates and drops databases through an admin URL.
package backends
