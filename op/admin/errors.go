package admin

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

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

// name is the API's name of a registry field.
func (n fieldNames) name(field string) string {
	if api, ok := n[field]; ok {
		return api
	}
	return field
}

var clientFieldNames = fieldNames{
	"id": "client_id", "name": "client_name", "auth_method": "token_endpoint_auth_method", "scopes": "scope",
}

// fail renders err: validation → 400 naming the fields; unknown object →
// 404 naming it; conflict → 409 naming the record (and the field, when a
// value such as a hostname is taken); unavailable storage → 503; anything else → 500 with a
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
			fields = append(fields, fieldError{Field: names.name(ve.Field), Message: ve.Message})
		}
		writeError(w, http.StatusBadRequest, "invalid_request", "the request has invalid fields", fields)
		return
	}
	var notFound *storage.NotFoundError
	var conflict *storage.ConflictError
	switch {
	case errors.As(err, &notFound):
		// The message names the record ("client "web" in tenant "acme" not
		// found"); the caller named it in the path, so nothing leaks.
		writeError(w, http.StatusNotFound, "not_found", notFound.Error(), nil)
	case errors.Is(err, storage.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "not found", nil)
	case errors.As(err, &conflict):
		var fields []fieldError
		if conflict.Field != "" {
			fields = []fieldError{{Field: names.name(conflict.Field), Message: conflict.Message}}
		}
		writeError(w, http.StatusConflict, "conflict", conflict.Error(), fields)
	case errors.Is(err, storage.ErrAlreadyExists):
		writeError(w, http.StatusConflict, "conflict", "already exists", nil)
	case errors.Is(err, storage.ErrUnavailable):
		slog.WarnContext(r.Context(), "admin API: storage unavailable", "method", r.Method, "path", r.URL.Path, "error", err)
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "storage is unavailable; try again later", nil)
	default:
		slog.ErrorContext(r.Context(), "admin API: internal error", "method", r.Method, "path", r.URL.Path, "error", err)
		writeError(w, http.StatusInternalServerError, "server_error", "internal error", nil)
	}
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
