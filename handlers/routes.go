package handlers

import (
	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// routes lists every route of the API in one place.
func (s *Server) routes() *gin.Engine {
	r := newEngine()
	s.trustProxies(r)
	r.Use(s.measure, securityHeaders, s.requestID, s.accessLog, recoverPanic)
	r.NoRoute(notFound)
	r.NoMethod(methodNotAllowed)

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/openapi.yaml", serveSpec)
	r.GET("/docs", serveDocs)

	v1 := r.Group("/v1")
	v1.POST("/auth/login", s.login)
	v1.POST("/auth/refresh", s.refresh)
	v1.POST("/auth/logout", s.logout)

	// Everything below needs an access token.
	authed := v1.Group("", s.authenticate)
	authed.GET("/me", s.me)
	authed.GET("/facilities", s.listFacilities)
	authed.GET("/facilities/:id", s.getFacility)

	admin := authed.Group("", requireRole(checklist.RoleAdmin))
	admin.POST("/users", s.createUser)
	admin.GET("/users", s.listUsers)
	admin.GET("/users/:id", s.getUser)
	admin.PATCH("/users/:id", s.updateUser)
	admin.POST("/users/:id/password", s.resetPassword)
	admin.POST("/facilities", s.createFacility)
	admin.PATCH("/facilities/:id", s.updateFacility)

	// Checklists: admins author them, reviewers read everything, and
	// inspectors read the manifest and published versions (not drafts).
	staff := requireRole(checklist.RoleAdmin, checklist.RoleReviewer)
	adminOnly := requireRole(checklist.RoleAdmin)
	cl := authed.Group("/checklists")
	cl.GET("", staff, s.listChecklists)
	cl.POST("", adminOnly, s.createChecklist)
	cl.GET("/manifest", s.checklistManifest)
	cl.GET("/applicability", staff, s.getApplicability)
	cl.PUT("/applicability", adminOnly, s.setApplicability)
	cl.GET("/:id", staff, s.getChecklist)
	cl.GET("/:id/draft", staff, s.getDraft)
	cl.PUT("/:id/draft", adminOnly, s.replaceDraft)
	cl.POST("/:id/draft/validate", staff, s.validateDraft)
	cl.POST("/:id/publish", adminOnly, s.publish)
	cl.GET("/:id/versions", s.listVersions)
	cl.GET("/:id/versions/:n", s.getVersion)
	cl.PUT("/:id/versions/:n", adminOnly, s.refuseVersionWrite)
	cl.PATCH("/:id/versions/:n", adminOnly, s.refuseVersionWrite)
	cl.DELETE("/:id/versions/:n", adminOnly, s.refuseVersionWrite)
	cl.POST("/:id/versions/:n/retire", adminOnly, s.retireVersion)
	cl.GET("/:id/versions/:n/diff/:to", s.diffVersions)

	s.inspectionRoutes(authed)
	s.reportRoutes(authed)
	s.actionRoutes(authed)
	s.roundRoutes(authed)

	s.consoleRoutes(r)

	return r
}
