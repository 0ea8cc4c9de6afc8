package checklist

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Checklist is a checklist under authoring: one editable Draft and the
// number of its latest published version (0 before the first). Published
// versions are separate, immutable Version values.
type Checklist struct {
	ID            string  `json:"id"`
	Title         Text    `json:"title"`
	Draft         Content `json:"draft"`
	LatestVersion int     `json:"latest_version"`
}

// Validate reports whether c may be stored: an id that is a valid key (a
// UUID in lower case qualifies), a title with Japanese text, and a draft
// within the size limits (Content.ValidateDraft; the draft's paths are
// prefixed with "draft."). The draft is checked in full only when it is
// published.
func (c Checklist) Validate() error {
	var p Problems
	checkKey(&p, "id", c.ID)
	checkText(&p, "title", c.Title, true)
	if err := c.Draft.ValidateDraft(); err != nil {
		var e *Error
		if errors.As(err, &e) {
			for _, f := range e.Fields {
				f.Field = "draft." + f.Field
				p = append(p, f)
			}
		}
	}
	return p.Err("the checklist has problems; nothing was saved")
}

// Version is a published, numbered and immutable copy of a checklist's
// content. ContentHash is ContentHash(Content), fixed at publication: it is
// the version's strong ETag and lets anyone verify that the content never
// changed. The only change a version ever sees is being retired (no longer
// offered for new inspections; inspections that pinned it keep it).
type Version struct {
	ChecklistID string    `json:"checklist_id"`
	Number      int       `json:"number"`
	Content     Content   `json:"content"`
	ContentHash string    `json:"content_hash"`
	PublishedAt time.Time `json:"published_at"`
	PublishedBy string    `json:"published_by"`
	Retired     bool      `json:"retired"`
	RetiredAt   time.Time `json:"retired_at,omitzero"`
	RetiredBy   string    `json:"retired_by,omitempty"`
	// UpdatedAt is when the version was last written: published, retired,
	// or stored outside the authoring flow. The sync feed finds changes
	// since a cursor by it.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Publish validates the draft and returns it as version LatestVersion+1 of
// c; see Publish (the function) for the rest of the contract. The caller
// records the version's Number as the checklist's LatestVersion.
func (c Checklist) Publish(at time.Time, by string) (Version, error) {
	return Publish(c.ID, c.Draft, c.LatestVersion+1, at, by)
}

// Publish validates draft and returns it as version number of checklist
// checklistID, published at (in UTC) by the user id by. The version holds a
// deep copy of the draft, so later edits of the draft never reach it, and
// its ContentHash. The caller stores it, refusing a second version with the
// same checklist id and number (a unique index), and never changes its
// content afterwards (see ImmutableVersionError).
//
// Errors: EInvalid with every problem of the draft, with the same paths as
// Content.Validate; EInvalid (fields "checklist_id", "number",
// "published_at", "published_by") when an argument is missing or number is
// below 1.
func Publish(checklistID string, draft Content, number int, at time.Time, by string) (Version, error) {
	var p Problems
	if checklistID == "" {
		p.Add("checklist_id", CodeRequired, "the checklist id is required")
	}
	if number < 1 {
		p.Add("number", CodeOutOfRange, "version numbers start at 1, not %d", number)
	}
	if at.IsZero() {
		p.Add("published_at", CodeRequired, "the time of publication is required")
	}
	if by == "" {
		p.Add("published_by", CodeRequired, "the publishing user is required")
	}
	if err := p.Err("the version cannot be published"); err != nil {
		return Version{}, err
	}
	if err := draft.Validate(); err != nil {
		return Version{}, err
	}
	content := draft.Clone()
	return Version{
		ChecklistID: checklistID,
		Number:      number,
		Content:     content,
		ContentHash: ContentHash(content),
		PublishedAt: at.UTC(),
		PublishedBy: by,
		UpdatedAt:   at.UTC(),
	}, nil
}

// Retire returns v marked as retired at (UTC) by the user id by. Retiring a
// retired version is an EConflict error.
func (v Version) Retire(at time.Time, by string) (Version, error) {
	if v.Retired {
		return v, Errorf(EConflict, "version %d is already retired", v.Number)
	}
	v.Retired, v.RetiredAt, v.RetiredBy, v.UpdatedAt = true, at.UTC(), by, at.UTC()
	return v, nil
}

// Verify reports whether v's content still has the hash it was published
// with; an error (EInternal) means the stored copy was altered.
func (v Version) Verify() error {
	if got := ContentHash(v.Content); got != v.ContentHash {
		return Errorf(EInternal, "version %d of checklist %s: content hash %s does not match the published %s", v.Number, v.ChecklistID, got, v.ContentHash)
	}
	return nil
}

// ETag returns v's strong entity tag: its quoted content hash.
func (v Version) ETag() string { return `"` + v.ContentHash + `"` }

// ImmutableVersionError is the error for any attempt to change the content
// of published version number: EConflict, pointing to the draft.
func ImmutableVersionError(number int) error {
	return Errorf(EConflict, "version %d is published and can never change; edit the draft and publish a new version", number)
}

// ContentHash returns the lower-case hex SHA-256 of c's canonical JSON
// encoding: the fields in declaration order, empty optional fields left
// out, empty lists and absent lists alike, -0 as 0, no HTML escaping. Equal
// content gives equal hashes whatever route it took (JSON, YAML, Go), so
// the hash serves as a strong ETag and as proof that a version never
// changed. Content with non-finite numbers (which Validate refuses) hashes
// as if those numbers were absent.
func ContentHash(c Content) string {
	sum := sha256.Sum256(canonicalJSON(c))
	return hex.EncodeToString(sum[:])
}

func canonicalJSON(c Content) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c.canonical()); err != nil {
		// Content holds only strings, bools, finite numbers, slices and
		// structs: encoding cannot fail.
		panic(fmt.Sprintf("checklist: canonical encoding: %v", err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// Equal reports whether c and d are the same content, that is whether they
// have the same ContentHash.
func (c Content) Equal(d Content) bool {
	return bytes.Equal(canonicalJSON(c), canonicalJSON(d))
}

// VersionDiff is the difference between two contents, a and b, by key.
type VersionDiff struct {
	// Properties lists the checklist-level fields that changed: "title",
	// "description".
	Properties []string `json:"properties"`
	Sections   KeyDiff  `json:"sections"`
	Items      KeyDiff  `json:"items"`
}

// KeyDiff is the difference between two keyed lists. Added keys are in b's
// order, removed and changed keys in a's. Reordered reports whether the keys
// present in both appear in a different relative order.
type KeyDiff struct {
	Added     []string `json:"added"`
	Removed   []string `json:"removed"`
	Changed   []Change `json:"changed"`
	Reordered bool     `json:"reordered"`
}

// Change names what changed in one section or item: the JSON names of its
// changed fields, plus "section" for an item that moved to another section.
type Change struct {
	Key        string   `json:"key"`
	Properties []string `json:"properties"`
}

// Empty reports whether the diff found no difference at all.
func (d VersionDiff) Empty() bool {
	return len(d.Properties) == 0 && d.Sections.empty() && d.Items.empty()
}

func (d KeyDiff) empty() bool {
	return len(d.Added) == 0 && len(d.Removed) == 0 && len(d.Changed) == 0 && !d.Reordered
}

// Diff compares a (the older) and b (the newer) by section and item key.
// An item that moved to another section is changed with the property
// "section"; a change of position alone is no change of the item, only
// reflected in Items.Reordered (which compares document order). Items are compared as Content.Equal
// compares content. Keys are assumed unique (as Validate demands); with
// duplicates, the first occurrence counts.
func Diff(a, b Content) VersionDiff {
	a, b = a.canonical(), b.canonical()
	d := VersionDiff{Properties: []string{}}
	if a.Title != b.Title {
		d.Properties = append(d.Properties, "title")
	}
	if a.Description != b.Description {
		d.Properties = append(d.Properties, "description")
	}

	type located struct {
		item    Item
		section string
	}
	sections := func(c Content) ([]string, map[string]Section) {
		var keys []string
		m := map[string]Section{}
		for _, s := range c.Sections {
			if _, dup := m[s.Key]; !dup {
				keys = append(keys, s.Key)
				m[s.Key] = s
			}
		}
		return keys, m
	}
	items := func(c Content) ([]string, map[string]located) {
		var keys []string
		m := map[string]located{}
		for _, s := range c.Sections {
			for _, it := range s.Items {
				if _, dup := m[it.Key]; !dup {
					keys = append(keys, it.Key)
					m[it.Key] = located{it, s.Key}
				}
			}
		}
		return keys, m
	}

	aSec, aSecs := sections(a)
	bSec, bSecs := sections(b)
	d.Sections = diffKeys(aSec, bSec, func(key string) []string {
		if aSecs[key].Title != bSecs[key].Title {
			return []string{"title"}
		}
		return nil
	})

	aItem, aItems := items(a)
	bItem, bItems := items(b)
	d.Items = diffKeys(aItem, bItem, func(key string) []string {
		x, y := aItems[key], bItems[key]
		props := itemProperties(x.item, y.item)
		if x.section != y.section {
			props = append(props, "section")
		}
		return props
	})
	return d
}

// diffKeys compares two key lists; changed returns the changed properties
// of a key present in both.
func diffKeys(a, b []string, changed func(string) []string) KeyDiff {
	d := KeyDiff{Added: []string{}, Removed: []string{}, Changed: []Change{}}
	inA, inB := map[string]bool{}, map[string]bool{}
	for _, k := range a {
		inA[k] = true
	}
	for _, k := range b {
		inB[k] = true
		if !inA[k] {
			d.Added = append(d.Added, k)
		}
	}
	var commonA, commonB []string
	for _, k := range a {
		if !inB[k] {
			d.Removed = append(d.Removed, k)
			continue
		}
		commonA = append(commonA, k)
		if props := changed(k); len(props) > 0 {
			d.Changed = append(d.Changed, Change{Key: k, Properties: props})
		}
	}
	for _, k := range b {
		if inA[k] {
			commonB = append(commonB, k)
		}
	}
	d.Reordered = !reflect.DeepEqual(commonA, commonB)
	return d
}

// itemProperties returns the JSON names of the fields, other than the key,
// that differ between two canonical items.
func itemProperties(x, y Item) []string {
	var props []string
	vx, vy := reflect.ValueOf(x), reflect.ValueOf(y)
	t := vx.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "key" {
			continue
		}
		if !reflect.DeepEqual(vx.Field(i).Interface(), vy.Field(i).Interface()) {
			props = append(props, name)
		}
	}
	return props
}
