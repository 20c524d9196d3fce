package backends

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// SentinelMasterName is the name the test Sentinel group monitors its
// master under (the path of its Herald URL).
const SentinelMasterName = "herald"

// SentinelDownAfter is the group's down-after-milliseconds: a master
// unreachable this long is failed over to the replica.
const SentinelDownAfter = 3 * time.Second

// RedisSentinelGroup is a local Sentinel set-up: one master, one replica
// and three sentinels (quorum 2) on loopback ports.
type RedisSentinelGroup struct {
	Master, Replica *RedisNode // as started; roles change on failover
	Sentinels       []*RedisNode
	dir             string
}

// StartRedisSentinel starts the group in a new temporary directory and
// waits until every sentinel knows the replica and the two other
// sentinels. Stop removes it all.
func StartRedisSentinel() (*RedisSentinelGroup, error) { return startRedisSentinel(SentinelDownAfter) }

func startRedisSentinel(downAfter time.Duration) (*RedisSentinelGroup, error) {
	dir, err := os.MkdirTemp("", "herald-redis-sentinel-")
	if err != nil {
		return nil, err
	}
	g := &RedisSentinelGroup{dir: dir}
	if g.Master, err = startNode(dir, "master", false, baseArgs, nil); err != nil {
		g.Stop()
		return nil, err
	}
	replicaArgs := func(port int) []string {
		return append(baseArgs(port), "--replicaof", "127.0.0.1", strconv.Itoa(g.Master.Port))
	}
	if g.Replica, err = startNode(dir, "replica", false, replicaArgs, nil); err != nil {
		g.Stop()
		return nil, err
	}
	// A sentinel rewrites its configuration file, so it gets its own.
	sentinelConfig := func(dir string, port int) error {
		conf := strings.Join([]string{
			"port " + strconv.Itoa(port),
			"bind 127.0.0.1",
			"protected-mode no",
			"daemonize no",
			"logfile redis.log",
			"dir " + dir,
			fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2", SentinelMasterName, g.Master.Port),
			fmt.Sprintf("sentinel down-after-milliseconds %s %d", SentinelMasterName, downAfter.Milliseconds()),
			fmt.Sprintf("sentinel failover-timeout %s 10000", SentinelMasterName),
			fmt.Sprintf("sentinel parallel-syncs %s 1", SentinelMasterName),
		}, "\n") + "\n"
		return os.WriteFile(filepath.Join(dir, "sentinel.conf"), []byte(conf), 0o600)
	}
	sentinelArgs := func(int) []string { return []string{"sentinel.conf", "--sentinel"} }
	for i := range 3 {
		s, err := startNode(dir, "sentinel"+strconv.Itoa(i), false, sentinelArgs, sentinelConfig)
		if err != nil {
			g.Stop()
			return nil, err
		}
		g.Sentinels = append(g.Sentinels, s)
	}
	if err := pollUntil(time.Minute, g.ready); err != nil {
		g.Stop()
		return nil, fmt.Errorf("sentinel group not ready: %w", err)
	}
	return g, nil
}

func (g *RedisSentinelGroup) ready(ctx context.Context) error {
	for _, s := range g.Sentinels {
		cl := s.Client()
		m, err := cl.Do(ctx, "SENTINEL", "MASTER", SentinelMasterName).Result()
		cl.Close()
		if err != nil {
			return err
		}
		fields := map[string]string{}
		switch v := m.(type) {
		case map[any]any:
			for k, val := range v {
				fields[fmt.Sprint(k)] = fmt.Sprint(val)
			}
		case []any:
			for i := 0; i+1 < len(v); i += 2 {
				fields[fmt.Sprint(v[i])] = fmt.Sprint(v[i+1])
			}
		}
		if fields["num-slaves"] != "1" || fields["num-other-sentinels"] != "2" || fields["flags"] != "master" {
			return fmt.Errorf("sentinel %s: slaves %s, other sentinels %s, flags %s", s.Addr(),
				fields["num-slaves"], fields["num-other-sentinels"], fields["flags"])
		}
	}
	// The replica is in sync.
	cl := g.Replica.Client()
	defer cl.Close()
	repl, err := cl.Info(ctx, "replication").Result()
	if err != nil {
		return err
	}
	if infoField(repl, "master_link_status") != "up" {
		return fmt.Errorf("replica %s: link to the master down", g.Replica.Addr())
	}
	return nil
}

// URL is the Herald URL of the group: the sentinels, then the master name.
func (g *RedisSentinelGroup) URL() string {
	addrs := make([]string, len(g.Sentinels))
	for i, s := range g.Sentinels {
		addrs[i] = s.Addr()
	}
	return "redis-sentinel://" + strings.Join(addrs, ",") + "/" + SentinelMasterName
}

// Stop kills every process and removes the directory.
func (g *RedisSentinelGroup) Stop() {
	for _, n := range append([]*RedisNode{g.Master, g.Replica}, g.Sentinels...) {
		if n != nil {
			n.Kill()
		}
	}
	_ = os.RemoveAll(g.dir)
}
