package handlers

import (
	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// routes lists every route of the server in one place: the JSON API under
// /v1, the console's pages under /console, the tablet app, health and the
// spec. Roles are checked here, so who may call what reads off this list.
func (s *Server) routes() *gin.Engine {
	r := newEngine()
	s.trustProxies(r)
	r.Use(s.measure, securityHeaders, s.requestID, s.accessLog, recoverPanic)
	r.NoRoute(notFound)
	r.NoMethod(methodNotAllowed)

	adminOnly := requireRole(checklist.RoleAdmin)
	staff := requireRole(checklist.RoleAdmin, checklist.RoleReviewer)

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/openapi.yaml", serveSpec)
	r.GET("/docs", serveDocs)
	r.GET("/app", slashRedirect)
	r.GET("/app/*file", appFile)

	v1 := r.Group("/v1", privateNoStore)
	v1.POST("/auth/login", s.login)
	v1.POST("/auth/refresh", s.refresh)
	v1.POST("/auth/logout", s.logout)

	// Everything below needs an access token.
	authed := v1.Group("", s.authenticate, s.dropManifestsOnWrite)
	authed.GET("/me", s.me)
	authed.GET("/facilities", s.listFacilities)
	authed.GET("/facilities/:id", s.getFacility)

	admin := authed.Group("", adminOnly)
	admin.POST("/users", s.createUser)
	admin.GET("/users", s.listUsers)
	admin.GET("/users/:id", s.getUser)
	admin.PATCH("/users/:id", s.updateUser)
	admin.POST("/users/:id/password", s.resetPassword)
	admin.POST("/facilities", s.createFacility)
	admin.PATCH("/facilities/:id", s.updateFacility)

	// Checklists: admins author them, reviewers read everything, and
	// inspectors read the manifest and published versions (not drafts).
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

	// Inspections: every role; the handlers check facility access.
	authed.GET("/inspections", s.listInspections)
	authed.PUT("/inspections/:id", s.createInspection)
	authed.GET("/inspections/:id", s.getInspection)
	authed.PATCH("/inspections/:id", s.saveAnswers)
	authed.POST("/inspections/:id/submit", s.transitionHandler(checklist.ActionSubmit))
	authed.POST("/inspections/:id/resubmit", s.transitionHandler(checklist.ActionResubmit))
	authed.POST("/inspections/:id/return", s.transitionHandler(checklist.ActionReturn))
	authed.POST("/inspections/:id/approve", s.transitionHandler(checklist.ActionApprove))
	authed.POST("/inspections/:id/reopen", s.transitionHandler(checklist.ActionReopen))
	authed.POST("/inspections/:id/discard", s.transitionHandler(checklist.ActionDiscard))
	authed.POST("/inspections/:id/photos", s.uploadPhoto)
	authed.GET("/photos/:sha256", s.downloadPhoto)
	authed.GET("/sync", s.sync)
	authed.GET("/audit", adminOnly, s.listAudit)

	// Reports: reviewers and admins.
	rep := authed.Group("/reports", staff)
	rep.GET("/facilities", s.facilityReport)
	rep.GET("/items", s.itemReport)
	rep.GET("/sections", s.sectionReport)
	rep.GET("/year-over-year", s.yearOverYearReport)
	rep.GET("/findings", s.findingsReport)
	rep.GET("/persistent-problems", s.persistentReport)
	rep.GET("/plan", s.planExport)

	// The improvement cycle: reviewers and admins open actions and mark
	// good practices; the handlers check facility access for the rest.
	authed.POST("/actions", staff, s.createAction)
	authed.GET("/actions", s.listActions)
	authed.GET("/actions/:id", s.getAction)
	authed.PATCH("/actions/:id", s.updateAction)
	authed.POST("/actions/:id/progress", s.reportProgress)
	authed.POST("/actions/:id/good-practice", staff, s.markGoodPractice)
	authed.GET("/good-practices", s.listGoodPractices)

	// Inspection rounds: admins open and manage them, reviewers read
	// everything, inspectors read their own facilities' assignments only.
	rounds := authed.Group("/rounds")
	rounds.GET("", staff, s.listRounds)
	rounds.POST("", adminOnly, s.openRound)
	rounds.GET("/:fy", staff, s.getRound)
	rounds.PATCH("/:fy", adminOnly, s.updateRound)
	rounds.GET("/:fy/assignments", s.listAssignments)
	rounds.POST("/:fy/assignments/bulk", adminOnly, s.bulkChangeAssignments)
	rounds.GET("/:fy/assignments/:facility_id", s.getAssignment)
	rounds.PATCH("/:fy/assignments/:facility_id", adminOnly, s.changeAssignment)
	rounds.GET("/:fy/reports/:milestone", staff, s.roundReport)

	// The bureau console: pages signed in with a cookie session
	// (consoleAuth), for reviewers and admins.
	r.GET("/console", slashRedirect)
	con := r.Group("/console", consoleHeaders)
	con.GET("/static/*file", serveConsoleStatic)
	con.GET("/login", s.consoleLoginPage)
	con.POST("/login", s.consoleLogin)
	con.POST("/logout", s.consoleLogout)

	in := con.Group("", s.consoleAuth)
	in.GET("/", s.consoleDashboard)
	in.GET("/queue", s.consoleQueue)
	in.GET("/inspections/:id", s.consoleInspection)
	in.GET("/inspections/:id/print", s.consolePrint)
	in.POST("/inspections/:id/:action", s.consoleTransition)
	in.GET("/photos/:sha256", s.downloadPhoto)
	in.GET("/facilities", s.consoleFacilities)
	in.GET("/facilities/:id", s.consoleFacility)
	in.GET("/plan", s.consolePlan)
	in.POST("/actions", s.consoleCreateAction)
	in.GET("/actions/:id", s.consoleAction)
	in.POST("/actions/:id/:what", s.consoleActionWrite)
	in.GET("/good-practices", s.consoleGallery)
	in.GET("/reports", s.consoleReports)
	in.GET("/reports/export", s.planExport)
	in.GET("/rounds", s.consoleRounds)
	in.GET("/rounds/:fy/reports/:milestone", s.roundReport) // the API's handler, with the console session
	in.POST("/rounds/:fy/:what", s.requireConsoleAdmin, s.consoleRoundWrite)

	conAdmin := in.Group("/admin", s.requireConsoleAdmin)
	conAdmin.GET("/users", s.consoleUsers)
	conAdmin.POST("/users", s.consoleCreateUser)
	conAdmin.GET("/users/:id", s.consoleUser)
	conAdmin.POST("/users/:id/:what", s.consoleUserWrite)
	conAdmin.GET("/facilities", s.consoleAdminFacilities)
	conAdmin.POST("/facilities", s.consoleCreateFacility)
	conAdmin.GET("/facilities/:id", s.consoleAdminFacility)
	conAdmin.POST("/facilities/:id", s.consoleUpdateFacility)
	conAdmin.GET("/checklists", s.consoleChecklists)
	conAdmin.GET("/checklists/:id", s.consoleChecklist)
	conAdmin.GET("/checklists/:id/yaml", s.consoleChecklistYAML)
	conAdmin.POST("/checklists/:id/:what", s.consoleChecklistWrite)

	return r
}
