package handlers

import "testing"

// The handlers tests hash passwords at a token cost: at the production
// cost a hash takes ~50 ms, ~250 ms under the race detector, and the tests
// create and log in many users. The rules around the hash (salt, encoding,
// constant-time compare, the dummy hash) are the same at any cost.
func init() {
	argonCost.Store(&argonParams{memory: 64, time: 1, threads: 1, keyLen: 32})
}

// UseProductionPasswordCost makes new password hashes use the production
// cost until t ends, for tests that measure time.
func UseProductionPasswordCost(t testing.TB) {
	prev := argonCost.Load()
	argonCost.Store(&productionArgon)
	t.Cleanup(func() { argonCost.Store(prev) })
}

// DropReportCache forgets every computed report, for benchmarks of the
// cold path.
func (s *Server) DropReportCache() {
	s.reports.mu.Lock()
	defer s.reports.mu.Unlock()
	s.reports.bodies, s.reports.years = nil, nil
}

// DropManifestCache forgets the manifests kept in memory, as a write
// does.
func (s *Server) DropManifestCache() { s.manifests.invalidate() }
