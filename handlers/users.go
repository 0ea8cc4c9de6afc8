package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"tenken/auth"
	"tenken/checklist"
)

// UserStore keeps users and their password hashes. It is the store of
// auth.CreateUser, auth.SetPassword and auth.Credentials too.
type UserStore interface {
	CreateUser(ctx context.Context, u checklist.User, passwordHash string, by checklist.Actor) (checklist.User, error)
	FindUser(ctx context.Context, id string) (checklist.User, error)
	FindCredentials(ctx context.Context, username string) (checklist.User, string, error)
	ListUsers(ctx context.Context, q checklist.UserQuery) (checklist.UserPage, error)
	UpdateUser(ctx context.Context, id string, revision int, by checklist.Actor, change func(checklist.User) (checklist.User, error)) (checklist.User, error)
	SetPassword(ctx context.Context, id, passwordHash string, by checklist.Actor) error
}

// userJSON is a user on the wire. It has no password field in any form.
type userJSON struct {
	ID          string         `json:"id"`
	Username    string         `json:"username"`
	DisplayName string         `json:"display_name"`
	Role        checklist.Role `json:"role"`
	FacilityIDs []string       `json:"facility_ids"`
	Disabled    bool           `json:"disabled"`
	Revision    int            `json:"revision"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
}

func newUserJSON(u checklist.User) userJSON {
	ids := u.FacilityIDs
	if ids == nil {
		ids = []string{}
	}
	return userJSON{
		ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role, FacilityIDs: ids,
		Disabled: u.Disabled, Revision: u.Revision, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(),
	}
}

// createUser: POST /v1/users.
func (s *Server) createUser(c *gin.Context) {
	var req struct {
		Username    string         `json:"username"`
		DisplayName string         `json:"display_name"`
		Role        checklist.Role `json:"role"`
		FacilityIDs []string       `json:"facility_ids"`
		Password    string         `json:"password"`
	}
	if err := decodeJSON(c, &req); err != nil {
		respondError(c, err)
		return
	}
	u, err := auth.CreateUser(c.Request.Context(), s.store, checklist.User{
		Username: req.Username, DisplayName: req.DisplayName, Role: req.Role, FacilityIDs: req.FacilityIDs,
	}, req.Password, actorOf(c))
	if err != nil {
		respondError(c, err)
		return
	}
	c.Header("Location", "/v1/users/"+u.ID)
	respondJSON(c, http.StatusCreated, newUserJSON(u))
}

// listUsers: GET /v1/users.
func (s *Server) listUsers(c *gin.Context) {
	after, limit, err := pageParams(c, "users")
	if err != nil {
		respondError(c, err)
		return
	}
	q := checklist.UserQuery{Role: checklist.Role(c.Query("role")), After: after, Limit: limit}
	if q.Role != "" && !q.Role.Valid() {
		respondError(c, badQuery("role", "enum", "role must be admin, reviewer or inspector"))
		return
	}
	page, err := s.store.ListUsers(c.Request.Context(), q)
	if err != nil {
		respondError(c, err)
		return
	}
	items := make([]userJSON, len(page.Items))
	for i, u := range page.Items {
		items[i] = newUserJSON(u)
	}
	respondJSON(c, http.StatusOK, listJSON[userJSON]{Items: items, NextCursor: nextCursor("users", page.Next)})
}

// getUser: GET /v1/users/{id}.
func (s *Server) getUser(c *gin.Context) {
	u, err := s.store.FindUser(c.Request.Context(), c.Param("id"))
	if err != nil {
		respondError(c, err)
		return
	}
	respondJSON(c, http.StatusOK, newUserJSON(u))
}

// updateUser: PATCH /v1/users/{id}. Fields left out stay; revision is the
// one the change is based on.
func (s *Server) updateUser(c *gin.Context) {
	var req struct {
		Revision    *int            `json:"revision"`
		DisplayName *string         `json:"display_name"`
		Role        *checklist.Role `json:"role"`
		FacilityIDs *[]string       `json:"facility_ids"`
		Disabled    *bool           `json:"disabled"`
	}
	if err := decodeJSON(c, &req); err != nil {
		respondError(c, err)
		return
	}
	if err := requireRevision(req.Revision); err != nil {
		respondError(c, err)
		return
	}
	change := checklist.UserChange{DisplayName: req.DisplayName, Role: req.Role, FacilityIDs: req.FacilityIDs, Disabled: req.Disabled}
	u, err := s.changeUser(c.Request.Context(), c.Param("id"), *req.Revision, actorOf(c), change)
	if err != nil {
		respondError(c, err)
		return
	}
	respondJSON(c, http.StatusOK, newUserJSON(u))
}

// changeUser applies change to user id at revision, as the API and the
// console both do: the domain's rules decide (nobody re-enables, promotes
// or re-scopes themselves), and this instance forgets the user's cached
// credential state at once.
func (s *Server) changeUser(ctx context.Context, id string, revision int, by checklist.Actor, change checklist.UserChange) (checklist.User, error) {
	u, err := s.store.UpdateUser(ctx, id, revision, by, func(u checklist.User) (checklist.User, error) {
		return change.Apply(u, by.UserID, s.now())
	})
	if err != nil {
		return u, err
	}
	s.credentials.Forget(u.ID)
	return u, nil
}

// resetPassword: POST /v1/users/{id}/password. It ends the user's sessions.
func (s *Server) resetPassword(c *gin.Context) {
	var req struct {
		Password string `json:"password"`
	}
	if err := decodeJSONLimit(c, &req, maxAuthBody); err != nil {
		respondError(c, err)
		return
	}
	if err := auth.SetPassword(c.Request.Context(), s.store, c.Param("id"), req.Password, actorOf(c)); err != nil {
		respondError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// requireRevision checks the revision field of an update.
func requireRevision(rev *int) error {
	var p checklist.Problems
	switch {
	case rev == nil:
		p.Add("revision", "required", "revision is required: the revision the change is based on")
	case *rev < 1:
		p.Add("revision", "min", "revision must be at least 1")
	}
	return p.Err("the change is not valid")
}
