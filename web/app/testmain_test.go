package app_test

import (
	"os"
	"testing"

	"tenken/storage/storagetest"
	"tenken/web/browsertest"
)

// TestMain closes the browser the tests shared, stops the shared test
// database server and removes its folder when the tests end.
func TestMain(m *testing.M) { os.Exit(storagetest.Main(m, browsertest.Stop)) }
