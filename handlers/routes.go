package handlers

import (
	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// routes lists every route of the API in one place.
func (s *Server) routes() *gin.Engine {
	r := newEngine()
	s.trustProxies(r)
	r.Use(securityHeaders, s.requestID, s.accessLog, recoverPanic)
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

	s.inspectionRoutes(authed)

	return r
}
