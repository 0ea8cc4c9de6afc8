package handlers

import (
	"bytes"
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
