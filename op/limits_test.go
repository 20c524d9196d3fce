package op

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// limitBody caps every body but the admin API's, which keeps its own,
// larger limit (op/admin tests that one).
func TestLimitBody(t *testing.T) {
	var read int64
	var readErr error
	h := limitBody(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		read, readErr = io.Copy(io.Discard, r.Body)
	}))
	big := strings.Repeat("x", maxBodyBytes+1)
	for _, tc := range []struct {
		path    string
		limited bool
	}{
		{"/t/acme/token", true},
		{"/t/acme/login", true},
		{"/admin-ish", true},
		{"/admin/v1/tenants", false},
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(big)))
		var mbe *http.MaxBytesError
		if limited := errors.As(readErr, &mbe); limited != tc.limited {
			t.Errorf("%s: read %d bytes, error %v; want limited=%v", tc.path, read, readErr, tc.limited)
		}
		if !tc.limited && read != int64(len(big)) {
			t.Errorf("%s: read %d of %d bytes", tc.path, read, len(big))
		}
	}
}
