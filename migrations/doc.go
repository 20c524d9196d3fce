// Package migrations embeds Herald's SQL schema migrations, one directory per
// SQL dialect, in goose format. Backends apply them at start-up with a goose
// Provider (never goose's global state). This package imports nothing of ours.
package migrations
