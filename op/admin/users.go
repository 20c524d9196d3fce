package admin

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

type createUserRequest struct {
	Username      string         `json:"username"`
	Email         string         `json:"email"`
	EmailVerified bool           `json:"email_verified"`
	Password      string         `json:"password"`
	Name          string         `json:"name"`
	GivenName     string         `json:"given_name"`
	FamilyName    string         `json:"family_name"`
	Attributes    map[string]any `json:"attributes"`
}

func (h *handler) createUser(w http.ResponseWriter, r *http.Request) {
	var req createUserRequest
	if err := decode(r, &req); err != nil {
		fail(w, r, err, nil)
		return
	}
	if req.Password == "" {
		// The registry also accepts an imported hash; the API does not, so
		// the error names the one field the API has.
		fail(w, r, &registry.ValidationError{Field: "password", Message: "is required"}, nil)
		return
	}
	u, err := h.registryFor(r).CreateUser(r.Context(), chi.URLParam(r, "tenant"), registry.UserSpec{
		Username: req.Username, Email: req.Email, EmailVerified: req.EmailVerified, Password: req.Password,
		Name: req.Name, GivenName: req.GivenName, FamilyName: req.FamilyName, Attributes: req.Attributes,
	})
	if err != nil {
		fail(w, r, err, nil)
		return
	}
	created(w, r, u.ID, RenderUser(u))
}

func (h *handler) listUsers(w http.ResponseWriter, r *http.Request) {
	us, err := h.reg.ListUsers(r.Context(), chi.URLParam(r, "tenant"))
	if err != nil {
		fail(w, r, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, RenderList("users", us, RenderUser))
}

func (h *handler) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := h.reg.GetUser(r.Context(), chi.URLParam(r, "tenant"), chi.URLParam(r, "user"))
	userResult(w, r, u, err)
}

type updateUserRequest struct {
	Email         *string         `json:"email"`
	EmailVerified *bool           `json:"email_verified"`
	Name          *string         `json:"name"`
	GivenName     *string         `json:"given_name"`
	FamilyName    *string         `json:"family_name"`
	Attributes    *map[string]any `json:"attributes"`
	Disabled      *bool           `json:"disabled"`
}

func (h *handler) updateUser(w http.ResponseWriter, r *http.Request) {
	var req updateUserRequest
	if err := decode(r, &req); err != nil {
		fail(w, r, err, nil)
		return
	}
	u, err := h.registryFor(r).UpdateUser(r.Context(), chi.URLParam(r, "tenant"), chi.URLParam(r, "user"), registry.UserUpdate{
		Email: req.Email, EmailVerified: req.EmailVerified, Name: req.Name, GivenName: req.GivenName,
		FamilyName: req.FamilyName, Attributes: req.Attributes, Disabled: req.Disabled,
	})
	userResult(w, r, u, err)
}

type setPasswordRequest struct {
	Password string `json:"password"`
}

// setPassword replaces the password and ends the user's sessions.
func (h *handler) setPassword(w http.ResponseWriter, r *http.Request) {
	var req setPasswordRequest
	if err := decode(r, &req); err != nil {
		fail(w, r, err, nil)
		return
	}
	err := h.registryFor(r).SetPassword(r.Context(), chi.URLParam(r, "tenant"), chi.URLParam(r, "user"), req.Password)
	if err != nil {
		fail(w, r, err, nil)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) deleteUser(w http.ResponseWriter, r *http.Request) {
	if err := h.registryFor(r).DeleteUser(r.Context(), chi.URLParam(r, "tenant"), chi.URLParam(r, "user")); err != nil {
		fail(w, r, err, nil)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func userResult(w http.ResponseWriter, r *http.Request, u *storage.User, err error) {
	if err != nil {
		fail(w, r, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, RenderUser(u))
}
