package backends

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClusterNodeTimeout is the cluster-node-timeout of the test Cluster: a
// master unreachable this long is failed over to its replica (which takes
// about one more second). Short, so that failover tests finish quickly;
// long enough that a loaded CI machine does not fail nodes over by itself.
const ClusterNodeTimeout = 3 * time.Second

// RedisCluster is a local Redis Cluster of redis-server processes on
// loopback ports: three masters, each with one replica, so that a master
// can be killed and its replica take over.
type RedisCluster struct {
	Nodes []*RedisNode
	dir   string
}

// StartRedisCluster starts 3 masters and 3 replicas in a new temporary
// directory, joins them with `redis-cli --cluster create ...
// --cluster-replicas 1`, and waits until every node sees all 16384 slots
// served and every replica in sync. Stop removes it all.
func StartRedisCluster() (*RedisCluster, error) { return startRedisCluster(ClusterNodeTimeout) }

// sharedFailoverTimeout is the node timeout (Cluster) and down-after
// (Sentinel) of the shared set-ups, which no test fails over on purpose:
// long, so that a starved CI machine never fails a node over by itself.
const sharedFailoverTimeout = 15 * time.Second

func startRedisCluster(nodeTimeout time.Duration) (*RedisCluster, error) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		return nil, fmt.Errorf("the Cluster tests need redis-cli on PATH: %w", err)
	}
	dir, err := os.MkdirTemp("", "herald-redis-cluster-")
	if err != nil {
		return nil, err
	}
	c := &RedisCluster{dir: dir}
	args := func(port int) []string {
		return append(baseArgs(port), "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", strconv.Itoa(int(nodeTimeout.Milliseconds())),
			// A replica may always take over, however long it was cut off:
			// the test data is disposable, availability is what is tested.
			"--cluster-replica-validity-factor", "0")
	}
	for i := range 6 {
		n, err := startNode(dir, "node"+strconv.Itoa(i), true, args, nil)
		if err != nil {
			c.Stop()
			return nil, err
		}
		c.Nodes = append(c.Nodes, n)
	}
	create := []string{"--cluster", "create"}
	for _, n := range c.Nodes {
		create = append(create, n.Addr())
	}
	create = append(create, "--cluster-replicas", "1", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "redis-cli", create...).CombinedOutput(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := c.WaitHealthy(time.Minute); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// URL is the Herald URL of the Cluster (every node as a seed).
func (c *RedisCluster) URL() string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr()
	}
	return "redis-cluster://" + strings.Join(addrs, ",")
}

// Stop kills every node and removes the directory.
func (c *RedisCluster) Stop() {
	for _, n := range c.Nodes {
		n.Kill()
	}
	_ = os.RemoveAll(c.dir)
}

// WaitHealthy waits until every running node reports cluster_state:ok,
// knows every other running node as connected (no fail, pfail or
// handshake flag), every slot is served by a master and every running
// replica's link to its master is up.
func (c *RedisCluster) WaitHealthy(limit time.Duration) error {
	return pollUntil(limit, c.healthy)
}

func (c *RedisCluster) healthy(ctx context.Context) error {
	running := 0
	for _, n := range c.Nodes {
		if n.Running() {
			running++
		}
	}
	for _, n := range c.Nodes {
		if !n.Running() {
			continue
		}
		if err := func() error {
			cl := n.Client()
			defer cl.Close()
			info, err := cl.ClusterInfo(ctx).Result()
			if err != nil {
				return err
			}
			if st := infoField(info, "cluster_state"); st != "ok" {
				return fmt.Errorf("node %s: cluster_state %s", n.Addr(), st)
			}
			if ok := infoField(info, "cluster_slots_ok"); ok != "16384" {
				return fmt.Errorf("node %s: %s slots ok", n.Addr(), ok)
			}
			nodes, err := cl.ClusterNodes(ctx).Result()
			if err != nil {
				return err
			}
			connected := 0
			for line := range strings.SplitSeq(strings.TrimSpace(nodes), "\n") {
				f := strings.Fields(line)
				if len(f) < 8 {
					continue
				}
				if strings.Contains(f[2], "fail") || strings.Contains(f[2], "handshake") || strings.Contains(f[2], "noaddr") {
					continue
				}
				if strings.Contains(f[2], "myself") || f[7] == "connected" {
					connected++
				}
			}
			if connected != running {
				return fmt.Errorf("node %s sees %d of %d running nodes connected", n.Addr(), connected, running)
			}
			repl, err := cl.Info(ctx, "replication").Result()
			if err != nil {
				return err
			}
			if infoField(repl, "role") == "slave" && infoField(repl, "master_link_status") != "up" {
				return fmt.Errorf("replica %s: link to its master down", n.Addr())
			}
			return nil
		}(); err != nil {
			return err
		}
	}
	return nil
}

// Masters returns the running nodes that are masters now (roles change on
// failover).
func (c *RedisCluster) Masters(ctx context.Context) ([]*RedisNode, error) {
	var masters []*RedisNode
	for _, n := range c.Nodes {
		if !n.Running() {
			continue
		}
		cl := n.Client()
		role, err := cl.Do(ctx, "ROLE").Slice()
		cl.Close()
		if err != nil {
			return nil, fmt.Errorf("ROLE on %s: %w", n.Addr(), err)
		}
		if len(role) > 0 && role[0] == "master" {
			masters = append(masters, n)
		}
	}
	if len(masters) == 0 {
		return nil, errors.New("no running master")
	}
	return masters, nil
}

// MasterOfSlot returns the running node that serves slot as master, as
// that node itself says.
func (c *RedisCluster) MasterOfSlot(ctx context.Context, slot int) (*RedisNode, error) {
	masters, err := c.Masters(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range masters {
		cl := n.Client()
		nodes, err := cl.ClusterNodes(ctx).Result()
		cl.Close()
		if err != nil {
			return nil, err
		}
		// The node's own line: id addr flags master ping pong epoch
		// link slot-range...
		for line := range strings.SplitSeq(strings.TrimSpace(nodes), "\n") {
			f := strings.Fields(line)
			if len(f) < 8 || !strings.Contains(f[2], "myself") {
				continue
			}
			for _, r := range f[8:] {
				lo, hi, isRange := strings.Cut(r, "-")
				if !isRange {
					hi = lo
				}
				a, err1 := strconv.Atoi(lo)
				b, err2 := strconv.Atoi(hi)
				if err1 == nil && err2 == nil && slot >= a && slot <= b {
					return n, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("no running master serves slot %d", slot)
}

// Client is a Cluster client of the test Cluster (the caller closes it).
func (c *RedisCluster) Client() *redis.ClusterClient {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr()
	}
	return redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, DialTimeout: time.Second, ReadTimeout: 2 * time.Second})
}
