package backends

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// PostgresBinDir holds initdb and pg_ctl (Debian's PostgreSQL 15). When it
// is missing, the newest /usr/lib/postgresql/*/bin is used; the
// environment variable HERALD_TEST_PG_BINDIR overrides both.
const PostgresBinDir = "/usr/lib/postgresql/15/bin"

func postgresBinDir() string {
	if d := os.Getenv("HERALD_TEST_PG_BINDIR"); d != "" {
		return d
	}
	if _, err := os.Stat(filepath.Join(PostgresBinDir, "initdb")); err == nil {
		return PostgresBinDir
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestVersion := PostgresBinDir, -1
	for _, d := range dirs {
		if v, err := strconv.Atoi(filepath.Base(filepath.Dir(d))); err == nil && v > bestVersion {
			best, bestVersion = d, v
		}
	}
	return best
}

// PrivatePostgres is a PostgreSQL server of its own (initdb + pg_ctl in a
// temporary directory, on a free loopback port) that a test may restart or
// stop without disturbing the machine's shared server.
type PrivatePostgres struct {
	Port int
	dir  string // data directory; the log is dir/../postgres.log
	bin  string
	cred *syscall.Credential // the postgres user's, when running as root
}

// StartPrivatePostgres initialises and starts a server with trust
// authentication for user postgres on 127.0.0.1 only. PostgreSQL refuses to
// run as root: as root, initdb, pg_ctl and the server run as the postgres
// system user.
func StartPrivatePostgres() (*PrivatePostgres, error) {
	bin := postgresBinDir()
	top, err := os.MkdirTemp("", "herald-postgres-")
	if err != nil {
		return nil, err
	}
	p := &PrivatePostgres{dir: filepath.Join(top, "data"), bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, PostgreSQL needs the postgres system user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(top, uid, gid); err != nil {
			return nil, err
		}
	}
	if err := p.run("initdb", "-D", p.dir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"); err != nil {
		_ = os.RemoveAll(top)
		return nil, err
	}
	for range 5 {
		if p.Port, err = freeRedisPort(false); err != nil {
			break
		}
		if err = p.Start(); err == nil {
			return p, nil
		}
	}
	p.Stop()
	return nil, err
}

// URL is the admin URL of database postgres.
func (p *PrivatePostgres) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.Port)
}

// Start starts the server and waits until it accepts connections.
func (p *PrivatePostgres) Start() error {
	return p.run("pg_ctl", "start", "-w", "-t", "60", "-D", p.dir, "-l", p.logFile(), "-o", p.serverOptions())
}

// Restart is `pg_ctl restart -m fast`: connections are cut, in-flight
// transactions rolled back, and the server comes back on the same port.
func (p *PrivatePostgres) Restart() error {
	return p.run("pg_ctl", "restart", "-w", "-t", "60", "-m", "fast", "-D", p.dir, "-l", p.logFile(), "-o", p.serverOptions())
}

// Stop stops the server at once and removes its files.
func (p *PrivatePostgres) Stop() {
	_ = p.run("pg_ctl", "stop", "-m", "immediate", "-D", p.dir)
	_ = os.RemoveAll(filepath.Dir(p.dir))
}

func (p *PrivatePostgres) logFile() string { return filepath.Join(filepath.Dir(p.dir), "postgres.log") }

// serverOptions: loopback TCP only, the socket in the data directory, no
// fsync (test data), enough connections for three replicas and the test.
func (p *PrivatePostgres) serverOptions() string {
	return fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c max_connections=200", p.Port, p.dir)
}

func (p *PrivatePostgres) run(tool string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(p.bin, tool), args...)
	cmd.Dir = filepath.Dir(p.dir)
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %v: %v\n%s", tool, args, err, out)
	}
	return nil
}
