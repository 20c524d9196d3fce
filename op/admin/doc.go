// Package admin is Herald's admin API (/admin/v1): thin JSON handlers that
// decode a request, let op/registry validate and apply it, and render the
// result. Its response types and renderers (render.go) are exported, as
// cmd/herald prints the same shapes. Authentication is the caller's:
// NewHandler takes a function that turns a request into a Principal. It
// imports op/registry and storage (for sentinel errors and records); never
// zitadel/oidc or a backend.
package admin
