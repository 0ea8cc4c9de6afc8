package handlers

import (
	"archive/zip"
	"bytes"
	"fmt"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestXLSXFirstSheetActive: a workbook opens on its first sheet, with
// every sheet's rows.
func TestXLSXFirstSheetActive(t *testing.T) {
	t.Parallel()
	data, err := xlsxBytes([]table{
		{name: "計画", headers: []string{"a"}, rows: [][]any{{"1"}}},
		{name: "所見", headers: []string{"b"}, rows: [][]any{{"2"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if i := f.GetActiveSheetIndex(); i != 0 {
		t.Errorf("active sheet %d, want 0", i)
	}
	for _, name := range []string{"計画", "所見"} {
		if rows, err := f.GetRows(name); err != nil || len(rows) != 2 {
			t.Errorf("sheet %s rows %v (%v)", name, rows, err)
		}
	}
}

// TestXLSXCompressed: the workbook's parts are deflated, and a big sheet
// reads back whole.
func TestXLSXCompressed(t *testing.T) {
	rows := make([][]any, 2000)
	for i := range rows {
		rows[i] = []any{i + 1, fmt.Sprintf("B-%04d", i), "案内表示は分かりやすく掲示されているか", 87.5, ""}
	}
	data, err := xlsxBytes([]table{{name: "計画", headers: []string{"a", "b", "c", "d", "e"}, rows: rows}})
	if err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range z.File {
		if part.Method != zip.Deflate || (part.UncompressedSize64 > 10000 && part.CompressedSize64*4 > part.UncompressedSize64) {
			t.Errorf("%s: method %d, %d bytes from %d", part.Name, part.Method, part.CompressedSize64, part.UncompressedSize64)
		}
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := f.GetRows("計画")
	if err != nil || len(got) != 1+len(rows) || got[2000][1] != "B-1999" || got[2000][3] != "87.5" {
		t.Fatalf("%d rows, last %v (%v)", len(got), got[len(got)-1], err)
	}
}
