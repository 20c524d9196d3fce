package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strings"
	"time"
)

// decode reads the request body, one JSON object, into dst. It insists on
// Content-Type application/json (415 otherwise: a form post from a browser
// cannot pass as an API call), refuses unknown fields (a misspelt field
// must not be silently ignored) and bodies over maxBodyBytes (413).
func decode(r *http.Request, dst any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &requestError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
			description: "the request body must be application/json"}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return decodeError(err)
		}
		return invalidBody("the body must be exactly one JSON object")
	}
	return nil
}

func invalidBody(description string, fields ...fieldError) *requestError {
	return &requestError{status: http.StatusBadRequest, code: "invalid_request", description: description, fields: fields}
}

// decodeError explains a decoding failure without echoing the body.
func decodeError(err error) error {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return &requestError{status: http.StatusRequestEntityTooLarge, code: "request_too_large",
			description: fmt.Sprintf("the request body must be at most %d bytes", maxBodyBytes)}
	case errors.Is(err, io.EOF):
		return invalidBody("the request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalidBody("the request body is truncated JSON")
	case errors.As(err, &se):
		return invalidBody(fmt.Sprintf("the request body is not valid JSON (at byte %d)", se.Offset))
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return invalidBody("the request body must be a JSON object")
		}
		return invalidBody("a field has the wrong type", fieldError{Field: field, Message: "must be " + jsonType(te.Type.Kind().String())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return invalidBody("the request body has an unknown field", fieldError{Field: name, Message: "unknown field"})
	}
	return invalidBody("the request body could not be decoded")
}

// jsonType names a Go kind the way a JSON client thinks of it.
func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	}
	return "of another type"
}

// seconds converts an API lifetime in seconds to a duration, saturating
// instead of overflowing, so that the registry reports out-of-range values
// ("at most 8784h") rather than seeing a wrapped-around one.
func seconds(n int64) time.Duration {
	const limit = math.MaxInt64 / int64(time.Second)
	switch {
	case n > limit:
		return math.MaxInt64
	case n < -limit:
		return math.MinInt64
	}
	return time.Duration(n) * time.Second
}

func secondsPtr(n *int64) *time.Duration {
	if n == nil {
		return nil
	}
	d := seconds(*n)
	return &d
}
