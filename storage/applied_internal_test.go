package storage

import (
	"testing"

	"tenken/checklist"
)

func TestAppliedStringRoundTrip(t *testing.T) {
	t.Parallel()
	for _, a := range []checklist.AppliedRequest{
		{Key: "user-1/save|7", Fingerprint: "9f86d081", Revision: 12},
		{Key: "user-1/k", Revision: 3}, // no fingerprint
	} {
		if got := parseApplied(appliedString(a)); got != a {
			t.Errorf("parseApplied(appliedString(%+v)) = %+v", a, got)
		}
	}
	// Written before fingerprints were kept: the key is the rest.
	if got, want := parseApplied("4|user-1/save-9"), (checklist.AppliedRequest{Key: "user-1/save-9", Revision: 4}); got != want {
		t.Errorf("old record parsed as %+v, want %+v", got, want)
	}
}
