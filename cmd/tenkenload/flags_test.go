package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestTabletFlagsRefused: the save and submit modes refuse a run without
// a password or without tablets before they contact any server.
func TestTabletFlagsRefused(t *testing.T) {
	noEnv := func(string) string { return "" }
	withPassword := func(k string) string {
		if k == "TENKEN_DEMO_PASSWORD" {
			return "pw"
		}
		return ""
	}
	for _, mode := range []string{"save", "submit"} {
		for _, tt := range []struct {
			getenv func(string) string
			args   []string
			want   string
		}{
			{noEnv, nil, "no password"},
			{withPassword, []string{"-tablets", "0"}, "-tablets must be at least 1"},
			{noEnv, []string{"-password", "pw", "-tablets", "-1"}, "-tablets must be at least 1"},
		} {
			err := run(context.Background(), append([]string{"-mode", mode}, tt.args...), tt.getenv, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s %v: %v, want %q", mode, tt.args, err, tt.want)
			}
		}
	}
}
