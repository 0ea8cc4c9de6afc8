package embedded

import "path/filepath"

// Attach returns a handle on the embedded server that another process
// (tenken db) runs over data folder dir at uri. Its Open opens databases
// as their sole writer, as a Server started here would: the caller
// promises that nothing else writes to them. Stop does nothing; the
// process that runs the server stops it.
//
// The test helpers use it to run the server out of a race-instrumented
// test binary (storage/storagetest).
func Attach(dir, uri string) *Server {
	return &Server{uri: uri, dbDir: filepath.Join(dir, "db")}
}
