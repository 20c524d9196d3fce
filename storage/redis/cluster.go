package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterStateReload is how old go-redis lets its copy of the Cluster's
// slot map get before refreshing it (its default is 60s). It is only the
// backstop: reloadOnFailure refreshes the map at the first failure.
const clusterStateReload = 10 * time.Second

// reloadOnFailure makes a Cluster client re-read the slot map (CLUSTER
// SLOTS) whenever a command fails as unavailable. go-redis reloads it on
// MOVED and READONLY replies only; when a master dies, the commands for
// its slots fail with "connection refused" and go-redis kept sending them
// to the dead node until the map expired (60s), long after the replica
// had taken over (the fault test measured 57s of 503s). go-redis runs at
// most one reload at a time and merges the requests that arrive meanwhile.
type reloadOnFailure struct{ c *redis.ClusterClient }

func (h reloadOnFailure) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h reloadOnFailure) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.check(err)
		return err
	}
}

func (h reloadOnFailure) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.check(err)
		return err
	}
}

func (h reloadOnFailure) check(err error) {
	if err != nil && isUnavailable(err) {
		h.c.ReloadState(context.Background())
	}
}
