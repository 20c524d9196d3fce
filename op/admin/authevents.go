package admin

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// AuthEventJSON is an authentication event in the admin API and the CLI.
// address, username_hash and device are keyed hashes (address is raw only
// when the installation stores raw addresses).
type AuthEventJSON struct {
	ID           string    `json:"id"`
	Time         time.Time `json:"time"`
	Tenant       string    `json:"tenant"`
	Event        string    `json:"event"`
	UserID       string    `json:"user_id,omitempty"`
	UsernameHash string    `json:"username_hash,omitempty"`
	ClientID     string    `json:"client_id,omitempty"`
	Address      string    `json:"address,omitempty"`
	Device       string    `json:"device,omitempty"`
	UserAgent    string    `json:"user_agent,omitempty"`
	RequestID    string    `json:"request_id,omitempty"`
	Outcome      string    `json:"outcome"`
	Reason       string    `json:"reason,omitempty"`
	Cursor       string    `json:"cursor"`
}

// RenderAuthEvent shows e as the admin API does; Cursor lists what follows it.
func RenderAuthEvent(e *storage.AuthEvent) AuthEventJSON {
	return AuthEventJSON{
		ID: e.ID, Time: e.Time, Tenant: e.Tenant, Event: e.Event, UserID: e.UserID,
		UsernameHash: e.UsernameHash, ClientID: e.ClientID, Address: e.Address, Device: e.Device,
		UserAgent: e.UserAgent, RequestID: e.RequestID, Outcome: e.Outcome, Reason: e.Reason,
		Cursor: strconv.FormatInt(e.Seq, 10),
	}
}

// AuthEventFilter reads the query of GET /tenants/{tenant}/audit: event,
// user, since and until (RFC 3339), cursor (from next_cursor) and limit.
// Shared with the CLI's flags.
func AuthEventFilter(get func(string) string) (storage.AuthEventFilter, error) {
	var f storage.AuthEventFilter
	f.Event, f.UserID = get("event"), get("user")
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if s := get(t.name); s != "" {
			v, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return f, &registry.ValidationError{Field: t.name, Message: "must be an RFC 3339 time such as 2026-01-02T15:04:05Z"}
			}
			*t.dst = v
		}
	}
	if s := get("cursor"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return f, &registry.ValidationError{Field: "cursor", Message: "is not a cursor from a previous page"}
		}
		f.Before = n
	}
	if s := get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return f, &registry.ValidationError{Field: "limit", Message: "must be a positive integer"}
		}
		f.Limit = n
	}
	return f, nil
}

// listAuthEvents answers GET /tenants/{tenant}/audit: one page as
// {"events":[...],"next_cursor":"..."} ("" on the last page), or with
// ?format=jsonl every matching event, one JSON object a line (the export).
func (h *handler) listAuthEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := AuthEventFilter(q.Get)
	if err != nil {
		fail(w, r, err, nil)
		return
	}
	tenant := chi.URLParam(r, "tenant")
	switch q.Get("format") {
	case "", "json":
	case "jsonl":
		h.exportAuthEvents(w, r, tenant, f)
		return
	default:
		fail(w, r, &registry.ValidationError{Field: "format", Message: "must be json or jsonl"}, nil)
		return
	}
	events, err := h.reg.ListAuthEvents(r.Context(), tenant, f)
	if err != nil {
		fail(w, r, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, RenderAuthEventPage(events, f.Limit))
}

// AuthEventPageJSON is one page of the authentication trail.
type AuthEventPageJSON struct {
	Events     []AuthEventJSON `json:"events"`
	NextCursor string          `json:"next_cursor"`
}

// RenderAuthEventPage renders a page listed with limit: next_cursor is the
// cursor of the next page, "" on the last one.
func RenderAuthEventPage(events []*storage.AuthEvent, limit int) AuthEventPageJSON {
	out := AuthEventPageJSON{Events: RenderList("events", events, RenderAuthEvent)["events"]}
	if len(events) > 0 && len(events) == storage.AuditLimit(limit) {
		out.NextCursor = strconv.FormatInt(events[len(events)-1].Seq, 10)
	}
	return out
}

// exportAuthEvents streams every matching event as JSON lines, page by
// page (limit sets the page size), newest first.
func (h *handler) exportAuthEvents(w http.ResponseWriter, r *http.Request, tenant string, f storage.AuthEventFilter) {
	f.Limit = storage.MaxAuditLimit
	events, err := h.reg.ListAuthEvents(r.Context(), tenant, f)
	if err != nil {
		fail(w, r, err, nil)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	for {
		for _, e := range events {
			if err := enc.Encode(RenderAuthEvent(e)); err != nil {
				return // the client went away
			}
		}
		if len(events) < f.Limit {
			return
		}
		f.Before = events[len(events)-1].Seq
		if events, err = h.reg.ListAuthEvents(r.Context(), tenant, f); err != nil {
			return // headers are sent: the truncated stream is the signal
		}
	}
}
