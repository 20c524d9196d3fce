package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

// notifyWait bounds how long RunNotifier waits for an announcement before
// it fails. It is a deadline for a hung backend, not a performance
// assertion: delivery normally takes milliseconds.
const notifyWait = 15 * time.Second

// RunNotifier checks a storage.Notifier backend. newNotifier must return,
// on each call, a notifier with its own connections to one shared backend
// (two replicas of one installation); RunNotifier calls it twice and closes
// nothing (register cleanups in newNotifier).
//
// It pins down: Subscribe calls fn("") once it listens; every Publish
// reaches every subscriber, the publisher's own included, in order; and
// Subscribe returns nil when its context ends.
func RunNotifier(t *testing.T, newNotifier func(t *testing.T) storage.Notifier) {
	a, b := newNotifier(t), newNotifier(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	subA, subB := Subscribe(ctx, a), Subscribe(ctx, b)
	// Both listen before anything is published: announcements are not
	// queued for subscribers that were not listening.
	subA.WaitFor(t, "")
	subB.WaitFor(t, "")

	must(t, a.Publish(ctx, "acme"))
	subA.WaitFor(t, "acme")
	subB.WaitFor(t, "acme")

	must(t, b.Publish(ctx, "globex"))
	subA.WaitFor(t, "globex")
	subB.WaitFor(t, "globex")

	// A burst arrives complete and in order.
	burst := []string{"t-1", "t-2", "t-3", "t-4", "t-5"}
	for _, tenant := range burst {
		must(t, a.Publish(ctx, tenant))
	}
	for _, tenant := range burst {
		subB.WaitFor(t, tenant)
	}

	cancel()
	for name, sub := range map[string]*Subscription{"A": subA, "B": subB} {
		select {
		case err := <-sub.Done:
			if err != nil {
				t.Errorf("Subscribe %s returned %v after its context ended, want nil", name, err)
			}
		case <-time.After(notifyWait):
			t.Fatalf("Subscribe %s did not return within %v of its context ending", name, notifyWait)
		}
	}
}

// Subscription is a running Subscribe call, for tests of Notifier
// backends: Tenants receives every announcement, Done Subscribe's result.
type Subscription struct {
	Tenants <-chan string
	Done    <-chan error
}

// Subscribe runs n.Subscribe in a goroutine until ctx ends.
func Subscribe(ctx context.Context, n storage.Notifier) *Subscription {
	tenants := make(chan string, 1024)
	done := make(chan error, 1)
	go func() {
		done <- n.Subscribe(ctx, func(tenant string) {
			select {
			case tenants <- tenant:
			case <-ctx.Done():
			}
		})
	}()
	return &Subscription{Tenants: tenants, Done: done}
}

// WaitFor reads announcements until tenant arrives, skipping others
// (including the "" of a reconnect), and fails the test after notifyWait.
func (s *Subscription) WaitFor(t *testing.T, tenant string) {
	t.Helper()
	timeout := time.After(notifyWait)
	for {
		select {
		case got := <-s.Tenants:
			if got == tenant {
				return
			}
		case err := <-s.Done:
			t.Fatalf("Subscribe returned %v while waiting for %q", err, tenant)
		case <-timeout:
			t.Fatalf("no announcement of %q within %v", tenant, notifyWait)
		}
	}
}
