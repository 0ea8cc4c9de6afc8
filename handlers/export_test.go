package handlers

import "tenken/auth/authtest"

// The handlers tests hash passwords at a token cost; see
// authtest.LowerPasswordCost.
func init() { authtest.LowerPasswordCost() }

// DropReportCache forgets every computed report, for benchmarks of the
// cold path.
func (s *Server) DropReportCache() {
	s.reports.bodies.Purge()
	s.reports.years.Purge()
}

// DropManifestCache forgets the manifests kept in memory, as a write
// does.
func (s *Server) DropManifestCache() { s.manifests.invalidate() }
