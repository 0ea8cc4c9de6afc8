package handlers

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"tenken/auth"
	"tenken/checklist"
)

// People and places (admin): users — create, disable, role, facilities,
// reset password — through the same store and domain functions as
// /v1/users.

// requireConsoleAdmin lets only admins through to the admin pages.
func (s *Server) requireConsoleAdmin(c *gin.Context) {
	if principalOf(c).Role != checklist.RoleAdmin {
		s.consoleError(c, checklist.Errorf(checklist.EForbidden, "this page is for admins"))
		return
	}
	c.Next()
}

type usersView struct {
	Users      []checklist.User
	Facilities []checklist.Facility
	FacName    map[string]checklist.Facility
	Roles      []checklist.Role
	Problem    string
	Done       string
	Form       userForm
}

type userForm struct {
	Username, DisplayName string
	Role                  checklist.Role
	FacilityIDs           []string
}

func (s *Server) usersView(c *gin.Context) (*usersView, error) {
	v := &usersView{Roles: checklist.Roles, FacName: map[string]checklist.Facility{}, Form: userForm{Role: checklist.RoleReviewer}}
	q := checklist.UserQuery{Limit: 200}
	for {
		pg, err := s.store.ListUsers(c.Request.Context(), q)
		if err != nil {
			return nil, err
		}
		v.Users = append(v.Users, pg.Items...)
		if pg.Next == "" {
			break
		}
		q.After = pg.Next
	}
	facs, err := s.allFacilities(c.Request.Context())
	if err != nil {
		return nil, err
	}
	v.Facilities = facs
	for _, f := range facs {
		v.FacName[f.ID] = f
	}
	return v, nil
}

func (s *Server) consoleUsers(c *gin.Context) {
	v, err := s.usersView(c)
	if err != nil {
		s.consoleError(c, err)
		return
	}
	v.Done = c.Query("done")
	s.render(c, http.StatusOK, "admin_users.html", "admin.users", v)
}

// consoleCreateUser creates a user from the form on the users page.
func (s *Server) consoleCreateUser(c *gin.Context) {
	f := userForm{Username: c.PostForm("username"), DisplayName: c.PostForm("display_name"),
		Role: checklist.Role(c.PostForm("role")), FacilityIDs: c.PostFormArray("facility_ids")}
	_, err := auth.CreateUser(c.Request.Context(), s.store, checklist.User{Username: f.Username, DisplayName: f.DisplayName,
		Role: f.Role, FacilityIDs: f.FacilityIDs}, c.PostForm("password"), actorOf(c))
	if err != nil {
		code := checklist.ErrorCode(err)
		if code != checklist.EInvalid && code != checklist.EConflict {
			s.consoleError(c, err)
			return
		}
		v, lerr := s.usersView(c)
		if lerr != nil {
			s.consoleError(c, lerr)
			return
		}
		v.Problem, v.Form = problemText(err), f
		s.render(c, statusOf[code], "admin_users.html", "admin.users", v)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/admin/users?done=create")
}

type userView struct {
	U          checklist.User
	Facilities []checklist.Facility
	Roles      []checklist.Role
	Problem    string
	Done       string
}

func (s *Server) userView(c *gin.Context) (*userView, error) {
	u, err := s.store.FindUser(c.Request.Context(), c.Param("id"))
	if err != nil {
		return nil, err
	}
	facs, err := s.allFacilities(c.Request.Context())
	if err != nil {
		return nil, err
	}
	return &userView{U: u, Facilities: facs, Roles: checklist.Roles}, nil
}

func (s *Server) consoleUser(c *gin.Context) {
	v, err := s.userView(c)
	if err != nil {
		s.consoleError(c, err)
		return
	}
	v.Done = c.Query("done")
	s.render(c, http.StatusOK, "admin_user.html", "admin.user", v)
}

// consoleUserWrite runs the user page's forms: the account (name, role,
// facilities, disabled) at the shown revision, or a new password.
func (s *Server) consoleUserWrite(c *gin.Context) {
	id, what := c.Param("id"), c.Param("what")
	ctx := c.Request.Context()
	by := actorOf(c)
	var err error
	switch what {
	case "account":
		rev, perr := strconv.Atoi(c.PostForm("revision"))
		if perr != nil || rev < 1 {
			s.consoleError(c, checklist.Errorf(checklist.EBadRequest, "the form names no revision"))
			return
		}
		name := strings.TrimSpace(c.PostForm("display_name"))
		role := checklist.Role(c.PostForm("role"))
		ids := c.PostFormArray("facility_ids")
		disabled := c.PostForm("disabled") == "on"
		change := checklist.UserChange{DisplayName: &name, Role: &role, FacilityIDs: &ids, Disabled: &disabled}
		_, err = s.changeUser(ctx, id, rev, by, change)
	case "password":
		err = auth.SetPassword(ctx, s.store, id, c.PostForm("password"), by)
	default:
		err = checklist.Errorf(checklist.ENotFound, "no such form %s", what)
	}
	if err != nil {
		code := checklist.ErrorCode(err)
		if !slices.Contains([]checklist.Code{checklist.EInvalid, checklist.EConflict, checklist.ERevision, checklist.EForbidden}, code) {
			s.consoleError(c, err)
			return
		}
		v, lerr := s.userView(c)
		if lerr != nil {
			s.consoleError(c, lerr)
			return
		}
		v.Problem = problemText(err)
		s.render(c, statusOf[code], "admin_user.html", "admin.user", v)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/admin/users/"+id+"?done="+what)
}

// Places (admin): facilities — add, edit, deactivate — through the same
// store calls and domain rules as /v1/facilities.

type facilityAdminView struct {
	Facilities []checklist.Facility
	F          checklist.Facility // the facility edited, or the create form's values
	Kinds      []checklist.FacilityKind
	Problem    string
	Done       string
}

// facilityFromForm reads the facility form; Active is the checkbox.
func facilityFromForm(c *gin.Context) checklist.Facility {
	return checklist.Facility{Code: c.PostForm("code"), Kind: checklist.FacilityKind(c.PostForm("kind")),
		Name:       checklist.FacilityName{JA: c.PostForm("name_ja"), EN: c.PostForm("name_en")},
		Department: c.PostForm("department"), Address: c.PostForm("address"), Active: c.PostForm("active") == "on"}
}

func (s *Server) facilityAdmin(c *gin.Context, status int, v facilityAdminView) {
	v.Kinds = checklist.FacilityKinds
	name := "admin_facilities.html"
	if v.F.ID != "" {
		name = "admin_facility.html"
	} else {
		facs, err := s.allFacilities(c.Request.Context())
		if err != nil {
			s.consoleError(c, err)
			return
		}
		v.Facilities = facs
	}
	s.render(c, status, name, "admin.facilities", v)
}

func (s *Server) consoleAdminFacilities(c *gin.Context) {
	s.facilityAdmin(c, http.StatusOK, facilityAdminView{F: checklist.Facility{Active: true, Kind: checklist.KindPublicHall}, Done: c.Query("done")})
}

func (s *Server) consoleCreateFacility(c *gin.Context) {
	f := facilityFromForm(c)
	if _, err := s.store.CreateFacility(c.Request.Context(), f, actorOf(c)); err != nil {
		if code := checklist.ErrorCode(err); code == checklist.EInvalid || code == checklist.EConflict {
			s.facilityAdmin(c, statusOf[code], facilityAdminView{F: f, Problem: problemText(err)})
			return
		}
		s.consoleError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/admin/facilities?done=create")
}

func (s *Server) consoleAdminFacility(c *gin.Context) {
	f, err := s.store.FindFacility(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.consoleError(c, err)
		return
	}
	s.facilityAdmin(c, http.StatusOK, facilityAdminView{F: f, Done: c.Query("done")})
}

func (s *Server) consoleUpdateFacility(c *gin.Context) {
	rev, err := strconv.Atoi(c.PostForm("revision"))
	if err != nil || rev < 1 {
		s.consoleError(c, checklist.Errorf(checklist.EBadRequest, "the form names no revision"))
		return
	}
	in := facilityFromForm(c)
	change := checklist.FacilityChange{Code: &in.Code, Name: &in.Name, Kind: &in.Kind, Department: &in.Department, Address: &in.Address, Active: &in.Active}
	id := c.Param("id")
	if _, err := s.store.UpdateFacility(c.Request.Context(), id, rev, actorOf(c), change.Apply); err != nil {
		code := checklist.ErrorCode(err)
		if code == checklist.EInvalid || code == checklist.EConflict || code == checklist.ERevision {
			f, ferr := s.store.FindFacility(c.Request.Context(), id)
			if ferr != nil {
				s.consoleError(c, ferr)
				return
			}
			s.facilityAdmin(c, statusOf[code], facilityAdminView{F: f, Problem: problemText(err)})
			return
		}
		s.consoleError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/admin/facilities/"+id+"?done=save")
}
