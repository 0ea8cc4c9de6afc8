package archive_test

import (
	"os"
	"testing"

	"tenken/storage/storagetest"
)

// TestMain keeps the tests' temporary folders in memory and removes them,
// with the shared test database server, when the tests end.
func TestMain(m *testing.M) { os.Exit(storagetest.Main(m)) }
