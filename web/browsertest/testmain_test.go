package browsertest

import (
	"os"
	"testing"
)

// TestMain closes the browser the tests shared.
func TestMain(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}
