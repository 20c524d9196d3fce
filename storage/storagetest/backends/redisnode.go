package backends

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisNode is one redis-server (or redis-server --sentinel) process that a
// test started on a loopback port, with its own directory. Kill and Start
// let a test crash it and bring it back with the same configuration and
// directory (a Cluster node keeps its nodes.conf, hence its identity).
type RedisNode struct {
	Port int
	dir  string
	args []string // after the binary; the first may be a config file

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Addr is the node's host:port.
func (n *RedisNode) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.Port)) }

// Start starts the process and waits (bounded) until it answers PING. The
// child is killed if the test process dies (Pdeathsig), so that a crashed
// test leaves no server behind.
func (n *RedisNode) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		select {
		case <-n.done:
		default:
			return fmt.Errorf("redis node %s: already running", n.Addr())
		}
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return fmt.Errorf("these tests need redis-server on PATH: %w", err)
	}
	cmd := exec.Command(bin, n.args...)
	cmd.Dir = n.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server on %s: %w", n.Addr(), err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	n.cmd, n.done = cmd, done
	c := redis.NewClient(&redis.Options{Addr: n.Addr(), DialTimeout: time.Second, MaxRetries: -1})
	defer c.Close()
	for deadline := time.Now().Add(15 * time.Second); ; {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("redis-server on %s exited at start (see %s): %w", n.Addr(), filepath.Join(n.dir, "redis.log"), errNodeExited)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s did not answer: %w", n.Addr(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var errNodeExited = errors.New("process exited")

// Kill ends the process with SIGKILL (a crash: no save, no goodbye to the
// cluster) and waits for it to exit. Killing a stopped node is a no-op.
func (n *RedisNode) Kill() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// Running reports whether the process is alive.
func (n *RedisNode) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// Client is a single-node client of this node (the caller closes it).
func (n *RedisNode) Client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: n.Addr(), DialTimeout: time.Second,
		ReadTimeout: 2 * time.Second, MaxRetries: -1})
}

// Redis ports are taken from [redisPortMin, redisPortMax); a Cluster node
// also needs port+10000 (its bus), which stays below 65536. The range
// avoids 6379, 26379 and the Linux ephemeral range (32768-60999) for the
// node ports.
const (
	redisPortMin = 21000
	redisPortMax = 26000
	clusterBus   = 10000
)

var portsMu sync.Mutex
var portsTaken = map[int]bool{}

// freeRedisPort picks a port that is free on 127.0.0.1 right now (and its
// bus port when bus is set), never one this process handed out before.
// Another process could still take it before redis-server binds: callers
// retry on a start failure.
func freeRedisPort(bus bool) (int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 200 {
		p := redisPortMin + rand.IntN(redisPortMax-redisPortMin)
		if portsTaken[p] || !portFree(p) || (bus && !portFree(p+clusterBus)) {
			continue
		}
		portsTaken[p] = true
		return p, nil
	}
	return 0, errors.New("no free loopback port for redis-server")
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// baseArgs are the settings of every node: loopback only, no persistence
// to speak of (a test's data is disposable), a log file in dir.
func baseArgs(port int) []string {
	return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--protected-mode", "no",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", "redis.log"}
}

// startNode creates a node in a new directory under parent and starts it,
// retrying on another port when the port was taken meanwhile. args(port)
// gives its arguments; a config file, if any, is written by config(dir,
// port) first (sentinels need a writable one).
func startNode(parent, name string, bus bool, args func(port int) []string, config func(dir string, port int) error) (*RedisNode, error) {
	var lastErr error
	for range 5 {
		port, err := freeRedisPort(bus)
		if err != nil {
			return nil, err
		}
		dir := filepath.Join(parent, fmt.Sprintf("%s-%d", name, port))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		if config != nil {
			if err := config(dir, port); err != nil {
				return nil, err
			}
		}
		n := &RedisNode{Port: port, dir: dir, args: args(port)}
		if lastErr = n.Start(); lastErr == nil {
			return n, nil
		}
		n.Kill()
		if !errors.Is(lastErr, errNodeExited) {
			return nil, lastErr
		}
		// Most likely the port was taken: try another.
	}
	return nil, lastErr
}

// infoField returns one field of an INFO section ("" if absent).
func infoField(info, field string) string {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}

// pollUntil calls check every 100 ms until it returns nil or limit passes;
// then it returns check's last error.
func pollUntil(limit time.Duration, check func(ctx context.Context) error) error {
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := check(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
