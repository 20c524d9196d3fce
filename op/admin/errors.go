package admin

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// errorBody is every error answer: an OAuth-style code and description,
// plus the offending fields of a validation failure.
type errorBody struct {
	Error       string       `json:"error"`
	Description string       `json:"error_description,omitempty"`
	Fields      []fieldError `json:"fields,omitempty"`
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// requestError is a problem with the request itself (media type, size,
// JSON syntax), found before the registry sees it.
type requestError struct {
	status            int
	code, description string
	fields            []fieldError
}

func (e *requestError) Error() string { return e.description }

// fieldNames maps registry field names to the API's where they differ
// (clients use the RFC 7591 names).
type fieldNames map[string]string

var clientFieldNames = fieldNames{
	"id": "client_id", "name": "client_name", "auth_method": "token_endpoint_auth_method", "scopes": "scope",
}

// fail renders err: validation → 400 naming the fields; unknown object →
// 404; conflict → 409; unavailable storage → 503; anything else → 500 with a
// generic message, the cause going to the log only.
func fail(w http.ResponseWriter, r *http.Request, err error, names fieldNames) {
	var re *requestError
	if errors.As(err, &re) {
		writeError(w, re.status, re.code, re.description, re.fields)
		return
	}
	if ves := registry.ValidationErrors(err); len(ves) > 0 {
		fields := make([]fieldError, 0, len(ves))
		for _, ve := range ves {
			name := ve.Field
			if n, ok := names[name]; ok {
				name = n
			}
			fields = append(fields, fieldError{Field: name, Message: ve.Message})
		}
		writeError(w, http.StatusBadRequest, "invalid_request", "the request has invalid fields", fields)
		return
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", describe(err), nil)
	case errors.Is(err, storage.ErrHostnameTaken):
		writeError(w, http.StatusConflict, "conflict", describe(err),
			[]fieldError{{Field: "hostnames", Message: describe(err)}})
	case errors.Is(err, storage.ErrAlreadyExists):
		writeError(w, http.StatusConflict, "conflict", describe(err), nil)
	case errors.Is(err, storage.ErrUnavailable):
		slog.WarnContext(r.Context(), "admin API: storage unavailable", "method", r.Method, "path", r.URL.Path, "error", err)
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "storage is unavailable; try again later", nil)
	default:
		slog.ErrorContext(r.Context(), "admin API: internal error", "method", r.Method, "path", r.URL.Path, "error", err)
		writeError(w, http.StatusInternalServerError, "server_error", "internal error", nil)
	}
}

// describe turns a registry not-found or conflict error ("tenant "acme":
// storage: not found") into a sentence without the storage prefix.
func describe(err error) string {
	s := err.Error()
	for _, tail := range []struct{ sentinel, say string }{
		{": " + storage.ErrNotFound.Error(), " not found"},
		{": " + storage.ErrHostnameTaken.Error(), ""},
		{": " + storage.ErrAlreadyExists.Error(), " already exists"},
	} {
		if strings.HasSuffix(s, tail.sentinel) {
			return strings.TrimSuffix(s, tail.sentinel) + tail.say
		}
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, description string, fields []fieldError) {
	writeJSON(w, status, errorBody{Error: code, Description: description, Fields: fields})
}
