package checklistfile_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"testing"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
)

var update = flag.Bool("update", false, "rewrite docs/examples from the bundled default checklist")

const (
	examplePhoto   = "../../docs/examples/photo.jpg"
	exampleAnswers = "../../docs/examples/answers.json"
)

// The README's walk-through saves docs/examples/answers.json into a new
// inspection of the bundled default checklist and submits it: the file
// must answer every required item, validly, with the one finding it shows
// carrying the comment and the photo (docs/examples/photo.jpg) it needs.
// go test ./checklist/checklistfile -run Example -update rewrites both.
func TestExampleAnswersSubmit(t *testing.T) {
	if *update {
		writeExamples(t)
	}
	photo, err := os.ReadFile(examplePhoto)
	if err != nil {
		t.Fatal(err)
	}
	if _, format, err := image.DecodeConfig(bytes.NewReader(photo)); err != nil || format != "jpeg" {
		t.Fatalf("%s: %q, %v", examplePhoto, format, err)
	}
	raw, err := os.ReadFile(exampleAnswers)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		BaseRevision int                         `json:"base_revision"`
		Answers      map[string]checklist.Answer `json:"answers"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(photo)
	id := hex.EncodeToString(digest[:])
	c := checklistfile.Default()
	failed := 0
	for key, a := range body.Answers {
		ids := a.Photos
		if it, _ := c.Item(key); it.Type == checklist.TypePhoto {
			ids = append(ids, a.Value.List...)
		}
		for _, p := range ids {
			if p != id {
				t.Errorf("%s: photo %s is not docs/examples/photo.jpg (%s)", key, p, id)
			}
		}
		it, _ := c.Item(key)
		if it.Evaluate(it.Normalize(a)).Failed {
			failed++
		}
	}
	if err := c.CheckSubmit(body.Answers); err != nil {
		t.Fatalf("the example answers cannot be submitted: %v", err)
	}
	if failed != 1 {
		t.Errorf("%d failed answers, want the one finding the walk-through shows", failed)
	}
}

// writeExamples answers every item of the default checklist with its best
// answer, except one finding (the floor directory) with its comment and photo.
func writeExamples(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for y := range 240 {
		for x := range 320 {
			img.Set(x, y, color.RGBA{uint8(120 + x/8), uint8(140 + y/8), 160, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(examplePhoto, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(buf.Bytes())
	photo := hex.EncodeToString(digest[:])

	answers := map[string]checklist.Answer{}
	c := checklistfile.Default()
	for _, s := range c.Sections {
		for _, it := range s.Items {
			if !c.Visible(answers)[it.Key] {
				continue
			}
			a := checklist.Answer{Value: bestAnswer(it)}
			if it.Type == checklist.TypePhoto {
				a = checklist.Answer{Value: checklist.ListValue(photo)}
			}
			if it.Key == "signage.floor_directory" {
				a = checklist.Answer{Value: checklist.StringValue("no"),
					Comment: "2階の窓口移転が案内図に反映されていない", Photos: []string{photo}}
			}
			answers[it.Key] = a
		}
	}
	out, err := json.MarshalIndent(map[string]any{"base_revision": 1, "answers": answers}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exampleAnswers, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
