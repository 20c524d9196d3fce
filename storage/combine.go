package storage

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ShortLived is the part of a Store that a cache-like backend (Redis) can
// hold: records that live minutes to hours and may be lost without losing
// anything durable (a lost session means signing in again).
type ShortLived interface {
	AuthRequests() AuthRequests
	AuthCodes() AuthCodes
	Sessions() Sessions
	LoginAttempts() LoginAttempts
	Ping(ctx context.Context) error
	Close() error
}

// Combine returns a Store that keeps authorization requests, codes and
// sessions in shortLived and everything else (audit log included) in
// durable (PostgreSQL + Redis in production).
//
// The result is no Notifier, whatever its parts are: whoever opens the
// stores chooses the notifier and passes it on (cmd/herald, op.Config).
func Combine(durable Store, shortLived ShortLived, durableName, shortLivedName string) Store {
	return &combined{Store: durable, short: shortLived, durableName: durableName, shortName: shortLivedName}
}

type combined struct {
	Store
	short                  ShortLived
	durableName, shortName string
}

func (c *combined) AuthRequests() AuthRequests { return c.short.AuthRequests() }

// Tenants deletes a tenant's short-lived records too when the tenant goes.
func (c *combined) Tenants() Tenants { return combinedTenants{c.Store.Tenants(), c.short} }

// TenantDataDeleter is implemented by short-lived stores that can drop a
// deleted tenant's records at once instead of waiting for their TTLs.
type TenantDataDeleter interface {
	DeleteTenantData(ctx context.Context, tenant string) error
}

type combinedTenants struct {
	Tenants
	short ShortLived
}

func (t combinedTenants) DeleteTenant(ctx context.Context, name string) error {
	if err := t.Tenants.DeleteTenant(ctx, name); err != nil {
		return err
	}
	if d, ok := t.short.(TenantDataDeleter); ok {
		return d.DeleteTenantData(ctx, name)
	}
	return nil
}
func (c *combined) AuthCodes() AuthCodes { return c.short.AuthCodes() }
func (c *combined) Sessions() Sessions   { return c.short.Sessions() }

// SecondFactors are durable: a lost TOTP secret locks its user out.
func (c *combined) SecondFactors() SecondFactors { return c.Store.SecondFactors() }

// LoginAttempts are counted where every replica sees them at once.
func (c *combined) LoginAttempts() LoginAttempts { return c.short.LoginAttempts() }

// Ping names the dependency that is down, so /readyz can say which.
func (c *combined) Ping(ctx context.Context) error {
	var errs []error
	if err := c.Store.Ping(ctx); err != nil {
		errs = append(errs, &DependencyError{Name: c.durableName, Err: err})
	}
	if err := c.short.Ping(ctx); err != nil {
		errs = append(errs, &DependencyError{Name: c.shortName, Err: err})
	}
	return errors.Join(errs...)
}

// Sweep sweeps the durable store; the short-lived one expires by itself.
func (c *combined) Sweep(ctx context.Context, now time.Time) error { return c.Store.Sweep(ctx, now) }

func (c *combined) Close() error {
	return errors.Join(c.short.Close(), c.Store.Close())
}

// DependencyError says which backing service an error came from.
type DependencyError struct {
	Name string
	Err  error
}

func (e *DependencyError) Error() string { return fmt.Sprintf("%s: %v", e.Name, e.Err) }
func (e *DependencyError) Unwrap() error { return e.Err }

// ErrUnavailable marks errors of an unreachable or overloaded backend
// (connection refused, timeout). Backends wrap such errors with it so that
// the HTTP layer answers 503 rather than 500.
var ErrUnavailable = errors.New("storage: unavailable")
