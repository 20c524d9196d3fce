package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// hotReads keeps prepared statements for the reads every token check makes
// (grant, user, opaque access token, refresh token). modernc's driver parses
// a query each time it is run unprepared, which costs more CPU than the
// lookup itself; a *sql.Stmt is prepared once per pooled connection.
type hotReads struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func (h *hotReads) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	h.mu.Lock()
	st, ok := h.stmts[query]
	if !ok {
		var err error
		if st, err = h.db.PrepareContext(ctx, query); err != nil {
			h.mu.Unlock()
			return h.db.QueryRowContext(ctx, query, args...) // reports the error
		}
		if h.stmts == nil {
			h.stmts = map[string]*sql.Stmt{}
		}
		h.stmts[query] = st
	}
	h.mu.Unlock()
	return st.QueryRowContext(ctx, args...)
}

func (h *hotReads) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, st := range h.stmts {
		_ = st.Close()
	}
	h.stmts = nil
}
