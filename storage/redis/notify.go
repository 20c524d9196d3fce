package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/herald-idp/herald/storage"
)

var _ storage.Notifier = (*Store)(nil)

// Subscriber timing. An idle subscription is pinged every
// subscribePingInterval; when a ping gets no answer within the next
// interval the connection is replaced, so that one the network silently
// dropped is noticed. Reconnects back off from minSubscribeBackoff to
// maxSubscribeBackoff.
const (
	subscribePingInterval = 30 * time.Second
	minSubscribeBackoff   = 100 * time.Millisecond
	maxSubscribeBackoff   = 10 * time.Second
)

// tenantsChannel is the pub/sub channel of tenant changes,
// <prefix>:tenants. PUBLISH reaches every node of a Cluster.
func (s *Store) tenantsChannel() string { return s.prefix + ":tenants" }

// Publish announces that tenant's records changed (PUBLISH
// <prefix>:tenants <tenant>). Every subscriber gets it, this replica's
// included.
//
// On Cluster, PUBLISH names no key, so go-redis would send each one to a
// random node, and the cluster bus may then deliver two announcements in
// the opposite order. It goes to the master of the channel's hash slot
// instead: the node go-redis subscribes on, so announcements arrive in
// order.
func (s *Store) Publish(ctx context.Context, tenant string) error {
	what := fmt.Sprintf("tenant %q: publish change", tenant)
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	cc, ok := s.client.(*redis.ClusterClient)
	if !ok {
		return mapErr(s.client.Publish(ctx, s.tenantsChannel(), tenant).Err(), what)
	}
	node, err := cc.MasterForKey(ctx, s.tenantsChannel())
	if err == nil {
		err = node.Publish(ctx, s.tenantsChannel(), tenant).Err()
	}
	// A node's own client bypasses the Cluster client's hooks: ask for the
	// slot map to be re-read here (a failed-over master).
	reloadOnFailure{cc}.check(err)
	return mapErr(err, what)
}

// Subscribe subscribes to <prefix>:tenants on a dedicated connection and
// calls fn with the tenant of every message, from this goroutine, one at a
// time. Each time the subscription is (re)established it calls fn("")
// first: messages published while nobody listened are lost, so every
// tenant must be treated as changed. After an error it subscribes again
// with exponential backoff until ctx ends; then it returns nil.
func (s *Store) Subscribe(ctx context.Context, fn func(tenant string)) error {
	backoff := minSubscribeBackoff
	for {
		subscribed, err := s.subscribe(ctx, fn)
		if ctx.Err() != nil {
			return nil
		}
		if subscribed {
			backoff = minSubscribeBackoff
		}
		slog.WarnContext(ctx, "redis: tenant change subscription failed; subscribing again",
			"error", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxSubscribeBackoff)
	}
}

// errNoPong says that a ping on the subscription went unanswered.
var errNoPong = errors.New("no answer to PING")

// subscribe runs one subscription until it fails or ctx ends. subscribed
// reports whether Redis confirmed the subscription.
func (s *Store) subscribe(ctx context.Context, fn func(string)) (subscribed bool, err error) {
	ps := s.client.Subscribe(ctx, s.tenantsChannel())
	// go-redis reads ignore ctx cancellation; closing the subscription
	// ends a blocked read at once.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer func() {
		if stop() {
			_ = ps.Close()
		}
	}()
	pingPending := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, subscribePingInterval)
		if ctx.Err() != nil {
			return subscribed, nil
		}
		if err != nil {
			if !isTimeout(err) {
				return subscribed, mapErr(err, "subscribe")
			}
			if pingPending {
				return subscribed, mapErr(errNoPong, "subscribe")
			}
			opCtx, cancel := s.opCtx(ctx)
			err = ps.Ping(opCtx)
			cancel()
			if err != nil {
				return subscribed, mapErr(err, "subscribe: ping")
			}
			pingPending = true
			continue
		}
		pingPending = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				subscribed = true
				fn("")
			}
		case *redis.Message:
			fn(m.Payload)
		}
	}
}

// isTimeout reports a read that timed out without a message.
func isTimeout(err error) bool {
	var netErr interface{ Timeout() bool }
	return errors.As(err, &netErr) && netErr.Timeout()
}
