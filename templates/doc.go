// Package templates owns the server-rendered pages of Herald's login UI (login,
// consent, error, logout confirmation, signed-out), the static stylesheet
// they share, and each tenant's branding stylesheet (branding.go). Pages are
// html/template files embedded at build time; callers fill a typed view
// model and call Render. This package imports only the standard library —
// nothing of Herald's, and no HTTP or OIDC code.
package templates
