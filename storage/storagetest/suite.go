package storagetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

// Tenants every subtest starts with.
const (
	tenantA = "tenant-a"
	tenantB = "tenant-b"
)

// concurrency is how many goroutines race for one single-use record.
const concurrency = 50

// Run runs the contract suite. newStore must return a fresh, empty store
// for each call (a new file, database or key prefix); Run closes it when the
// subtest ends. Subtests run in parallel.
//
// Beyond the comments on the storage interfaces, the suite pins down:
//   - times round-trip with at least millisecond precision (compare with Equal);
//   - empty string lists, and empty maps (user attributes, audit details),
//     may come back as nil;
//   - free-form JSON values (attributes, details) come back as JSON decodes
//     them: numbers as float64, arrays as []any, objects as map[string]any;
//   - Delete of an absent tenant, client or user returns ErrNotFound, while
//     deleting or revoking an absent short-lived record (auth request, session,
//     access token, consent) is not an error;
//   - Update closures cannot change a record's key, and their error is returned
//     unchanged (errors.Is) with nothing stored.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"Tenants", testTenants},
		{"Hostnames", testHostnames},
		{"HostnamesConcurrentClaim", testHostnamesConcurrentClaim},
		{"HostnameValidation", testHostnameValidation},
		{"TenantSettings", testTenantSettings},
		{"UserAttributes", testUserAttributes},
		{"Audit", testAudit},
		{"AuditLimits", testAuditLimits},
		{"Clients", testClients},
		{"Users", testUsers},
		{"Keys", testKeys},
		{"KeySet", testKeySet},
		{"KeySetConcurrentRotation", testKeySetConcurrentRotation},
		{"SwapSecret", testSwapSecret},
		{"Secrets", testSecrets},
		{"SecretsConcurrent", testSecretsConcurrent},
		{"Consents", testConsents},
		{"AuthRequests", testAuthRequests},
		{"AuthCodes", testAuthCodes},
		{"AuthCodeConcurrentConsume", testAuthCodeConcurrentConsume},
		{"Sessions", testSessions},
		{"UserSessions", testUserSessions},
		{"UserConsents", testUserConsents},
		{"RevokeUserGrantsExcept", testRevokeUserGrantsExcept},
		{"AccessTokens", testAccessTokens},
		{"IssueTokensAtomic", testIssueTokensAtomic},
		{"RefreshRotation", testRefreshRotation},
		{"RefreshRotationConcurrent", testRefreshRotationConcurrent},
		{"RevokeGrant", testRevokeGrant},
		{"Grants", testGrants},
		{"GrantRevokedBeforeCreated", testGrantRevokedBeforeCreated},
		{"RevokeGrantsBy", testRevokeGrantsBy},
		{"DeleteClientRevokes", testDeleteClientRevokes},
		{"DeleteUserRevokes", testDeleteUserRevokes},
		{"RevokeConsentRevokes", testRevokeConsentRevokes},
		{"CodeReplayRace", testCodeReplayRace},
		{"RefreshRevokeRace", testRefreshRevokeRace},
		{"ConsumeAuthRequestConcurrent", testConsumeAuthRequestConcurrent},
		{"TenantIsolation", testTenantIsolation},
		{"DeleteTenantCascades", testDeleteTenantCascades},
		{"Sweep", testSweep},
		{"Ping", testPing},
		{"LoginAttempts", testLoginAttempts},
		{"LoginAttemptsExpire", testLoginAttemptsExpire},
		{"LoginAttemptsConcurrent", testLoginAttemptsConcurrent},
		{"AuthEvents", testAuthEvents},
		{"SecondFactors", testSecondFactors},
		{"SecondFactorsGoWithUser", testSecondFactorsGoWithUser},
		{"SecondFactorConcurrentUse", testSecondFactorConcurrentUse},
		{"SecondFactorSecretSwap", testSecondFactorSecretSwap},
		{"Connectors", testConnectors},
		{"UserLinks", testUserLinks},
		{"UpstreamStates", testUpstreamStates},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, newFixture(t, s))
		})
	}
}

// fixture is a store holding tenants A and B, and a reference time. now is
// the wall clock (AuthRequest checks expiry against it) truncated to the
// precision the contract requires.
type fixture struct {
	s   storage.Store
	now time.Time
}

func newFixture(t *testing.T, s storage.Store) *fixture {
	t.Helper()
	f := &fixture{s: s, now: time.Now().UTC().Truncate(time.Millisecond)}
	for _, name := range []string{tenantA, tenantB} {
		must(t, s.Tenants().CreateTenant(t.Context(), newTenant(name, f.now)))
	}
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// wantErr fails unless errors.Is(err, target).
func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

// wantNotFound is the common case of wantErr.
func wantNotFound(t *testing.T, err error) {
	t.Helper()
	wantErr(t, err, storage.ErrNotFound)
}

// equal compares two records after normalising what the contract leaves
// open: time zones and monotonic readings, nil vs empty string lists and
// nil vs empty maps.
func equal[T any](t *testing.T, got, want *T) {
	t.Helper()
	if got == nil || want == nil {
		if got != want {
			t.Fatalf("got %+v, want %+v", got, want)
		}
		return
	}
	g, w := *got, *want
	normalize(reflect.ValueOf(&g).Elem())
	normalize(reflect.ValueOf(&w).Elem())
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("record mismatch:\n got  %+v\n want %+v", g, w)
	}
}

var timeType = reflect.TypeFor[time.Time]()

func normalize(v reflect.Value) {
	switch {
	case v.Type() == timeType:
		tm := v.Interface().(time.Time)
		if tm.IsZero() {
			v.Set(reflect.ValueOf(time.Time{}))
		} else {
			v.Set(reflect.ValueOf(time.Unix(tm.Unix(), int64(tm.Nanosecond())).UTC()))
		}
	case v.Kind() == reflect.Pointer && !v.IsNil():
		// Copy before normalising so that the caller's record is untouched.
		cp := reflect.New(v.Type().Elem())
		cp.Elem().Set(v.Elem())
		normalize(cp.Elem())
		v.Set(cp)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String && v.Len() == 0,
		v.Kind() == reflect.Map && v.Len() == 0:
		v.Set(reflect.Zero(v.Type()))
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				normalize(v.Field(i))
			}
		}
	}
}

// race runs fn concurrently times at once and returns the errors in order.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	done := make(chan struct{})
	for i := range n {
		go func() {
			defer func() { done <- struct{}{} }()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	for range n {
		<-done
	}
	return errs
}

func testPing(t *testing.T, f *fixture) {
	must(t, f.s.Ping(t.Context()))
}
