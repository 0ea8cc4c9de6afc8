package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
)

func TestChecklistFiles(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	vars := map[string]string{"TENKEN_DATA": data}
	dir := t.TempDir()
	file := func(name string) string { return filepath.Join(dir, name) }

	// First start publishes the bundled default as version 1.
	_, _, stop := startServe(t, vars)
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	t.Run("ExportImportRoundTrips", func(t *testing.T) {
		if _, err := runCmd(t, vars, "", "checklist", "export", "--checklist", "default", "--version", "1", file("v1.yaml")); err != nil {
			t.Fatal(err)
		}
		exported, err := os.ReadFile(file("v1.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := checklistfile.Decode(bytes.NewReader(exported))
		if err != nil || checklist.ContentHash(got) != checklist.ContentHash(checklistfile.Default()) {
			t.Fatalf("the export is not the bundled checklist: %v", err)
		}

		out, err := runCmd(t, vars, "", "checklist", "import", file("v1.yaml"), "--checklist", "copy", "--publish")
		if err != nil {
			t.Fatalf("import: %v\n%s", err, out)
		}
		hash := regexp.MustCompile(`published version 1 \(content hash ([0-9a-f]{64})\)`).FindStringSubmatch(out)
		if hash == nil || hash[1] != checklist.ContentHash(checklistfile.Default()) {
			t.Fatalf("import output %q: want version 1 with the bundled checklist's hash", out)
		}
		// Exported again, the copy is the same bytes.
		again, err := runCmd(t, vars, "", "checklist", "export", "--checklist", "copy", "--version", "1")
		if err != nil {
			t.Fatal(err)
		}
		if again != string(exported) {
			t.Fatal("export → import → export changed the file")
		}
		// The draft exports the same too.
		draft, _ := runCmd(t, vars, "", "checklist", "export", "--checklist", "copy")
		if draft != string(exported) {
			t.Fatal("the imported draft exports differently")
		}
	})
	t.Run("OKReimportUnchanged", func(t *testing.T) {
		out, err := runCmd(t, vars, "", "checklist", "import", "--publish", "--checklist", "copy", file("v1.yaml"))
		if err != nil || !strings.Contains(out, "unchanged since version 1") {
			t.Fatalf("re-import: %v\n%s", err, out)
		}
	})
	t.Run("OKNewVersion", func(t *testing.T) {
		c := checklistfile.Default()
		c.Sections[0].Items[0].Text.Ja += "（改訂）"
		var buf bytes.Buffer
		if err := checklistfile.Encode(&buf, c); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file("v2.yaml"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := runCmd(t, vars, "", "checklist", "import", file("v2.yaml"), "--checklist", "copy", "--publish")
		if err != nil || !strings.Contains(out, "published version 2") {
			t.Fatalf("import v2: %v\n%s", err, out)
		}
		v1, _ := runCmd(t, vars, "", "checklist", "export", "--checklist", "copy", "--version", "1")
		if v1 == buf.String() {
			t.Fatal("version 1 changed")
		}
	})
	t.Run("ErrInvalidFile", func(t *testing.T) {
		c := checklistfile.Default()
		c.Sections[0].Items[1].Key = c.Sections[0].Items[0].Key
		c.Sections[1].Items[0].FailRule = &checklist.FailRule{AtOrBelow: 2}
		var buf bytes.Buffer
		if err := checklistfile.Encode(&buf, c); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file("bad.yaml"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := runCmd(t, vars, "", "checklist", "import", file("bad.yaml"), "--checklist", "bad", "--publish")
		if err == nil {
			t.Fatal("an invalid file was imported")
		}
		for _, want := range []string{"bad.yaml", "sections[0].items[1].key: line ", "sections[1].items[0].fail_rule.at_or_below: line "} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error does not name %q:\n%v", want, err)
			}
		}
		if _, err := runCmd(t, vars, "", "checklist", "export", "--checklist", "bad"); err == nil || !strings.Contains(err.Error(), "no checklist") {
			t.Fatalf("the invalid file left a checklist behind: %v", err)
		}
	})
	t.Run("ErrBadYAML", func(t *testing.T) {
		if err := os.WriteFile(file("syntax.yaml"), []byte("title: {ja: [\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := runCmd(t, vars, "", "checklist", "import", file("syntax.yaml")); err == nil || !strings.Contains(err.Error(), "not valid YAML") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrUsage", func(t *testing.T) {
		for _, args := range [][]string{{"checklist"}, {"checklist", "import"}, {"checklist", "export"}, {"checklist", "frobnicate"}} {
			if _, err := runCmd(t, vars, "", args...); err == nil || !strings.Contains(err.Error(), "usage") {
				t.Errorf("%v: err = %v", args, err)
			}
		}
	})
	t.Run("ErrUnknownVersion", func(t *testing.T) {
		if _, err := runCmd(t, vars, "", "checklist", "export", "--checklist", "default", "--version", "9"); err == nil {
			t.Fatal("exported a version that does not exist")
		}
	})
}

// TestServeSeedsDefaultChecklist: a fresh server offers the bundled
// checklist at once, and a restart publishes nothing new.
func TestServeSeedsDefaultChecklist(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	vars := map[string]string{"TENKEN_DATA": data, "TENKEN_PASSWORD": "a long enough password"}
	if _, err := runCmd(t, vars, "", "user", "add", "--username", "rev", "--role", "reviewer"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		base, _, stop := startServe(t, vars)
		token := loginAs(t, base, "rev", "a long enough password")
		status, body := call(t, "GET", base+"/v1/checklists/default/versions", nil, token)
		items, _ := body["items"].([]any)
		if status != 200 || len(items) != 1 {
			t.Fatalf("versions: %d %v", status, body)
		}
		status, body = call(t, "GET", base+"/v1/checklists/manifest", nil, token)
		def, _ := body["default"].(map[string]any)
		if status != 200 || def["content_hash"] != checklist.ContentHash(checklistfile.Default()) {
			t.Fatalf("manifest: %d %v", status, body)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
}
