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
	st, err := h.prepared(ctx, query)
	if err != nil {
		return h.db.QueryRowContext(ctx, query, args...) // reports the error
	}
	return st.QueryRowContext(ctx, args...)
}

// prepared returns query prepared on h.db, preparing it the first time.
func (h *hotReads) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st, ok := h.stmts[query]; ok {
		return st, nil
	}
	st, err := h.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if h.stmts == nil {
		h.stmts = map[string]*sql.Stmt{}
	}
	h.stmts[query] = st
	return st, nil
}

// hotTx runs the statements of the write transactions every token request
// makes (refresh rotation, token inserts) through statements prepared on
// the writer when the store opens (hotWriteSQL): sql.Tx.StmtContext reuses
// a statement already prepared on the transaction's connection. They must
// be prepared up front: the writer pool has one connection, which the
// transaction holds, so preparing on the pool from inside would wait for
// ever. Any other query runs unprepared.
type hotTx struct {
	tx  *sql.Tx
	hot *hotReads // on the write pool
}

// hotWriteSQL lists the statements prepared for hotTx.
func hotWriteSQL() []string {
	return []string{rotateSQL, rotateSelectSQL, liveGrantCheckSQL,
		accessTokensTable.insertSQL(), refreshTokensTable.insertSQL()}
}

// prepareAll prepares queries on h.db; called before the store is used.
func (h *hotReads) prepareAll(ctx context.Context, queries []string) error {
	for _, q := range queries {
		if _, err := h.prepared(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

func (h hotTx) stmt(ctx context.Context, query string) *sql.Stmt {
	h.hot.mu.Lock()
	st, ok := h.hot.stmts[query]
	h.hot.mu.Unlock()
	if !ok {
		return nil
	}
	return h.tx.StmtContext(ctx, st)
}

func (h hotTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := h.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return h.tx.QueryRowContext(ctx, query, args...)
}

func (h hotTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := h.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return h.tx.ExecContext(ctx, query, args...)
}

func (h *hotReads) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, st := range h.stmts {
		_ = st.Close()
	}
	h.stmts = nil
}
