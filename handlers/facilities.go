package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// FacilityStore keeps facilities.
type FacilityStore interface {
	CreateFacility(ctx context.Context, f checklist.Facility, by checklist.Actor) (checklist.Facility, error)
	FindFacility(ctx context.Context, id string) (checklist.Facility, error)
	ListFacilities(ctx context.Context, q checklist.FacilityQuery) (checklist.FacilityPage, error)
	UpdateFacility(ctx context.Context, id string, revision int, by checklist.Actor, change func(checklist.Facility) (checklist.Facility, error)) (checklist.Facility, error)
}

type facilityNameJSON struct {
	JA string `json:"ja"`
	EN string `json:"en"`
}

// facilityJSON is a facility on the wire.
type facilityJSON struct {
	ID         string                 `json:"id"`
	Code       string                 `json:"code"`
	Name       facilityNameJSON       `json:"name"`
	Kind       checklist.FacilityKind `json:"kind"`
	Department string                 `json:"department"`
	Address    string                 `json:"address"`
	Active     bool                   `json:"active"`
	Revision   int                    `json:"revision"`
	CreatedAt  time.Time              `json:"created_at"`
	UpdatedAt  time.Time              `json:"updated_at"`
}

func newFacilityJSON(f checklist.Facility) facilityJSON {
	return facilityJSON{
		ID: f.ID, Code: f.Code, Name: facilityNameJSON{JA: f.Name.JA, EN: f.Name.EN}, Kind: f.Kind,
		Department: f.Department, Address: f.Address, Active: f.Active, Revision: f.Revision,
		CreatedAt: f.CreatedAt.UTC(), UpdatedAt: f.UpdatedAt.UTC(),
	}
}

// errNoFacility is the answer for a facility that does not exist and for
// one the caller may not see: an inspector cannot probe which ids exist.
func errNoFacility(id string) error {
	return checklist.Errorf(checklist.ENotFound, "no facility %q", id)
}

// createFacility: POST /v1/facilities. A new facility is active unless
// the request says otherwise.
func (s *Server) createFacility(c *gin.Context) {
	var req struct {
		Code       string                 `json:"code"`
		Name       facilityNameJSON       `json:"name"`
		Kind       checklist.FacilityKind `json:"kind"`
		Department string                 `json:"department"`
		Address    string                 `json:"address"`
		Active     *bool                  `json:"active"`
	}
	if err := decodeJSON(c, &req); err != nil {
		respondError(c, err)
		return
	}
	f := checklist.Facility{
		Code: req.Code, Name: checklist.FacilityName{JA: req.Name.JA, EN: req.Name.EN}, Kind: req.Kind,
		Department: req.Department, Address: req.Address, Active: req.Active == nil || *req.Active,
	}
	f, err := s.store.CreateFacility(c.Request.Context(), f, actorOf(c))
	if err != nil {
		respondError(c, err)
		return
	}
	c.Header("Location", "/v1/facilities/"+f.ID)
	respondJSON(c, http.StatusCreated, newFacilityJSON(f))
}

// listFacilities: GET /v1/facilities. Inspectors see their own only.
func (s *Server) listFacilities(c *gin.Context) {
	after, limit, err := pageParams(c, "facilities")
	if err != nil {
		respondError(c, err)
		return
	}
	q := checklist.FacilityQuery{Kind: checklist.FacilityKind(c.Query("kind")), Text: c.Query("q"), After: after, Limit: limit}
	switch a := c.Query("active"); a {
	case "":
	case "true", "false":
		active := a == "true"
		q.Active = &active
	default:
		respondError(c, badQuery("active", "type", "active must be true or false"))
		return
	}
	if err := checklist.ValidateFacilityQuery(q); err != nil {
		respondError(c, err)
		return
	}
	if p := principalOf(c); p.Role == checklist.RoleInspector {
		q.Within = append([]string{}, p.Facilities...)
	}
	page, err := s.store.ListFacilities(c.Request.Context(), q)
	if err != nil {
		respondError(c, err)
		return
	}
	items := make([]facilityJSON, len(page.Items))
	for i, f := range page.Items {
		items[i] = newFacilityJSON(f)
	}
	respondJSON(c, http.StatusOK, listJSON[facilityJSON]{Items: items, NextCursor: nextCursor("facilities", page.Next)})
}

// getFacility: GET /v1/facilities/{id}.
func (s *Server) getFacility(c *gin.Context) {
	id := c.Param("id")
	if !principalOf(c).CanAccessFacility(id) {
		respondError(c, errNoFacility(id))
		return
	}
	f, err := s.store.FindFacility(c.Request.Context(), id)
	if err != nil {
		respondError(c, err)
		return
	}
	respondJSON(c, http.StatusOK, newFacilityJSON(f))
}

// updateFacility: PATCH /v1/facilities/{id}. Fields left out stay; name,
// when given, replaces both languages; active false deactivates.
func (s *Server) updateFacility(c *gin.Context) {
	var req struct {
		Revision   *int                    `json:"revision"`
		Code       *string                 `json:"code"`
		Name       *facilityNameJSON       `json:"name"`
		Kind       *checklist.FacilityKind `json:"kind"`
		Department *string                 `json:"department"`
		Address    *string                 `json:"address"`
		Active     *bool                   `json:"active"`
	}
	if err := decodeJSON(c, &req); err != nil {
		respondError(c, err)
		return
	}
	if err := requireRevision(req.Revision); err != nil {
		respondError(c, err)
		return
	}
	change := checklist.FacilityChange{
		Code: req.Code, Kind: req.Kind, Department: req.Department, Address: req.Address, Active: req.Active,
	}
	if req.Name != nil {
		change.Name = &checklist.FacilityName{JA: req.Name.JA, EN: req.Name.EN}
	}
	f, err := s.store.UpdateFacility(c.Request.Context(), c.Param("id"), *req.Revision, actorOf(c), change.Apply)
	if err != nil {
		respondError(c, err)
		return
	}
	respondJSON(c, http.StatusOK, newFacilityJSON(f))
}
