package handlers

import (
	"github.com/gin-gonic/gin"
)

// routes lists every route of the API in one place.
func (s *Server) routes() *gin.Engine {
	r := newEngine()
	r.Use(securityHeaders, s.requestID, s.accessLog, recoverPanic)
	r.NoRoute(notFound)
	r.NoMethod(methodNotAllowed)

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/openapi.yaml", serveSpec)
	r.GET("/docs", serveDocs)

	v1 := r.Group("/v1")
	authed := v1.Group("", s.authenticate)
	s.inspectionRoutes(authed)

	return r
}
