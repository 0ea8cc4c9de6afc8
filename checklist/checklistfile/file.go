// Package checklistfile reads and writes checklist content as YAML files,
// the format of `tenken checklist import` and `export`, and holds the
// bundled default checklist.
//
// A file is a checklist.Content written with the same field names as the
// JSON API, plus an optional format marker:
//
//	format: tenken-checklist/1
//	title: {ja: サービス品質点検チェックリスト, en: Service quality checklist}
//	sections:
//	  - key: flyers
//	    title: {ja: チラシ・ポスター, en: Flyers and posters}
//	    items:
//	      - key: flyers.sorted_by_field
//	        text: {ja: チラシが分野別に分類して配架されている}
//	        type: yes_no
//	        ...
//
// Decode is strict and reports every problem at once: YAML syntax errors
// with their line; unknown fields, duplicate fields and wrong types as
// EBadRequest field errors with paths such as "sections[1].items[0].fial_rule"
// and the line in the message; then every problem Content.Validate finds,
// as EInvalid field errors with the same paths as the API, again with the
// line in the message. Encode then Decode gives back equal content.
package checklistfile

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"tenken/checklist"
)

// Format is the format marker Encode writes and Decode accepts.
const Format = "tenken-checklist/1"

// MaxFileSize is the largest file Decode reads, in bytes: ample for real
// checklists (the bundled default has 70 items in 35 KB), while a file that
// filled every text of 500 items to the limit would not fit.
const MaxFileSize = 8 << 20

// Field error codes for files that do not have the shape of a checklist.
// They match the codes the API gives for JSON bodies of the wrong shape.
const (
	CodeUnknownField   = "unknown"   // a field the format does not have
	CodeWrongType      = "type"      // a value of the wrong kind: a list where text belongs, "abc" for a number
	CodeDuplicateField = "duplicate" // a field given twice in one mapping
)

// document is the file's top level: the content and the format marker.
type document struct {
	Format            string `yaml:"format,omitempty"`
	checklist.Content `yaml:",inline"`
}

// Decode reads one checklist file from r. Errors (see the package
// documentation): ETooLarge beyond MaxFileSize; EBadRequest for invalid
// YAML, more than one document, or a shape that is not a checklist;
// EInvalid for content that Content.Validate refuses. Errors reading r are
// returned as they are.
func Decode(r io.Reader) (checklist.Content, error) {
	return decode(r, checklist.Content.Validate)
}

// DecodeDraft reads a checklist file like Decode, but as a draft: the
// shape is checked as strictly, while of Content.Validate's rules only the
// size limits apply (Content.ValidateDraft), so unfinished work can be
// exported, edited and imported again.
func DecodeDraft(r io.Reader) (checklist.Content, error) {
	return decode(r, checklist.Content.ValidateDraft)
}

func decode(r io.Reader, validate func(checklist.Content) error) (checklist.Content, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return checklist.Content{}, fmt.Errorf("reading the checklist file: %w", err)
	}
	if len(data) > MaxFileSize {
		return checklist.Content{}, checklist.Errorf(checklist.ETooLarge, "the file is larger than %d bytes", MaxFileSize)
	}
	doc, lines, err := decodeDocument(data)
	if err != nil {
		return checklist.Content{}, err
	}
	if err := validate(doc.Content); err != nil {
		var e *checklist.Error
		if errors.As(err, &e) {
			e.Fields = withLines(e.Fields, lines)
		}
		return checklist.Content{}, err
	}
	return doc.Content, nil
}

// decodeDocument parses data into a document, checking its shape, and
// returns the line of every field path it saw.
func decodeDocument(data []byte) (document, map[string]int, error) {
	var doc document
	// yaml.v3 builds the whole tree before anything can count it, at
	// ~300 bytes a node: an 8 MiB flow list of one-letter items is 4
	// million nodes and over a gigabyte. So bound the nodes first.
	if n := nodeBound(data); n > maxNodeBound {
		return doc, nil, checklist.Errorf(checklist.ETooLarge,
			"the file is not a checklist: it has %d YAML separators (at most %d: a checklist has a few per line)", n, maxNodeBound)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return doc, nil, checklist.Errorf(checklist.EBadRequest, "the file is empty")
		}
		return doc, nil, syntaxError(err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return doc, nil, syntaxError(err)
	default:
		return doc, nil, checklist.Errorf(checklist.EBadRequest, "the file holds more than one YAML document (line %d)", extra.Line)
	}

	w := walker{lines: map[string]int{}, budget: maxNodes}
	w.walk(&root, reflect.TypeFor[document](), "", 0)
	if w.budget < 0 {
		return doc, nil, checklist.Errorf(checklist.EBadRequest, "the file is not a checklist: it holds more than %d values or %d aliases", maxNodes, maxAliases)
	}
	if len(w.problems) > maxProblems {
		w.problems = append(w.problems[:maxProblems], checklist.FieldError{Code: CodeWrongType,
			Message: fmt.Sprintf("and %d more problems", len(w.problems)-maxProblems)})
	}
	if len(w.problems) > 0 {
		return doc, nil, &checklist.Error{Code: checklist.EBadRequest, Message: "the file is not a checklist: some fields are unknown or of the wrong type", Fields: w.problems}
	}
	if err := root.Decode(&doc); err != nil {
		// The walk checks what decoding needs; this is a safety net.
		return doc, nil, checklist.Errorf(checklist.EBadRequest, "the file is not a checklist: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Format != "" && doc.Format != Format {
		return doc, nil, &checklist.Error{Code: checklist.EBadRequest, Message: "the file is not in a format this version of tenken reads",
			Fields: []checklist.FieldError{{Field: "format", Code: checklist.CodeBadValue,
				Message: fmt.Sprintf("line %d: format %q is not %q", w.lines["format"], doc.Format, Format)}}}
	}
	return doc, w.lines, nil
}

func syntaxError(err error) error {
	return checklist.Errorf(checklist.EBadRequest, "the file is not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
}

// withLines prefixes each message with the line of its field, or of the
// nearest enclosing field the file has.
func withLines(fields []checklist.FieldError, lines map[string]int) []checklist.FieldError {
	out := make([]checklist.FieldError, len(fields))
	for i, f := range fields {
		for path := f.Field; ; path = parentPath(path) {
			if line, ok := lines[path]; ok && line > 0 {
				f.Message = fmt.Sprintf("line %d: %s", line, f.Message)
				break
			}
			if path == "" {
				break
			}
		}
		out[i] = f
	}
	return out
}

// parentPath returns the path one step up from path: "a.b[2]" → "a.b",
// "a.b" → "a", "a" → "".
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// walker checks a YAML node tree against the Go type it will decode into,
// collecting every unknown field, duplicate field and wrong type with its
// path and line, and recording the line of every path.
type walker struct {
	problems checklist.Problems
	lines    map[string]int
	budget   int // nodes left to visit
	aliases  int // aliases followed
}

// Bounds on the walk. A checklist is 8 levels deep; the largest valid one
// has some 200,000 values. Aliases could make a small file expand to far
// more, so the walk stops after maxNodes values or maxAliases aliases.
const (
	maxDepth = 32
	maxNodes = 500_000
	// maxNodeBound bounds nodeBound: 200,000 nodes of the YAML tree
	// stay within ~60 MB, and the 500-item checklists MaxFileSize allows
	// need a tenth of it.
	maxNodeBound = 200_000
	maxAliases   = 10_000
	maxProblems  = 100 // shape problems listed; beyond that the file is not a checklist at all
)

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string, depth int) {
	if w.budget--; w.budget < 0 {
		return
	}
	if depth > maxDepth {
		w.problems.Add(path, CodeWrongType, "line %d: nested too deeply", n.Line)
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 1 {
			w.walk(n.Content[0], t, path, depth+1)
		}
		return
	case yaml.AliasNode:
		if w.aliases++; w.aliases > maxAliases {
			w.budget = -1
			return
		}
		w.walk(n.Alias, t, path, depth+1)
		return
	}
	if _, seen := w.lines[path]; !seen {
		w.lines[path] = n.Line
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // null decodes to the zero value of any type
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			w.wrongType(n, path, "a mapping of fields")
			return
		}
		fields := yamlFields(t)
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			name := k.Value
			fp := joinPath(path, name)
			if first, dup := seen[name]; dup {
				w.problems.Add(fp, CodeDuplicateField, "line %d: %s is given twice (first at line %d)", k.Line, name, first)
				continue
			}
			seen[name] = k.Line
			ft, ok := fields[name]
			if !ok || k.Kind != yaml.ScalarNode {
				w.problems.Add(fp, CodeUnknownField, "line %d: unknown field %q%s", k.Line, name, suggest(name, fields))
				continue
			}
			w.walk(v, ft, fp, depth+1)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.wrongType(n, path, "a list")
			return
		}
		for i, e := range n.Content {
			w.walk(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), depth+1)
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			w.wrongType(n, path, "a text")
		}
	case reflect.Bool:
		w.scalar(n, t, path, "true or false", "!!bool")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		w.scalar(n, t, path, "a whole number", "!!int")
	case reflect.Float32, reflect.Float64:
		w.scalar(n, t, path, "a number", "!!int", "!!float")
	}
}

// scalar checks that n is a scalar of one of the YAML tags and decodes
// into a value of type t. The tags keep yaml.v3 from reading 2.5 as the
// whole number 2 or "yes" as true.
func (w *walker) scalar(n *yaml.Node, t reflect.Type, path, want string, tags ...string) {
	if n.Kind != yaml.ScalarNode || !slices.Contains(tags, n.ShortTag()) || n.Decode(reflect.New(t).Interface()) != nil {
		w.wrongType(n, path, want)
	}
}

func (w *walker) wrongType(n *yaml.Node, path, want string) {
	what := map[yaml.Kind]string{yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list"}[n.Kind]
	if what == "" {
		what = fmt.Sprintf("%q", n.Value)
	}
	name := path
	if name == "" {
		name = "the file"
	}
	w.problems.Add(path, CodeWrongType, "line %d: %s must be %s, not %s", n.Line, name, want, what)
}

// field is one YAML field of a struct type.
type field struct {
	name      string
	index     int
	omitEmpty bool
	inline    bool
}

// structFields lists the YAML fields of struct type t in declaration order,
// as yaml.v3 reads its tags.
func structFields(t reflect.Type) []field {
	var fields []field
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		flags := "," + opts + ","
		fields = append(fields, field{name: name, index: i,
			omitEmpty: strings.Contains(flags, ",omitempty,"), inline: strings.Contains(flags, ",inline,")})
	}
	return fields
}

// yamlFields maps the YAML field names of struct type t, inline fields
// included, to their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for _, f := range structFields(t) {
		ft := t.Field(f.index).Type
		if f.inline {
			for k, v := range yamlFields(ft) {
				fields[k] = v
			}
			continue
		}
		fields[f.name] = ft
	}
	return fields
}

// suggest names a known field close to an unknown one, to catch typos.
func suggest(name string, fields map[string]reflect.Type) string {
	best, bestDist := "", 3
	for known := range fields {
		if d := distance(name, known); d < bestDist || (d == bestDist && best != "" && known < best) {
			best, bestDist = known, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance between a and b, in bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// header is the comment Encode puts at the top of a file.
const header = "tenken checklist file: edit it, then import it with `tenken checklist import FILE`.\n" +
	"Texts: ja is required, en optional. Keep item keys stable: results are compared by key."

// Encode writes c to w as a checklist file (whether or not c is valid, so
// that drafts can be exported for editing). Decode reads it back as equal
// content, and encoding that again gives the same bytes.
func Encode(w io.Writer, c checklist.Content) error {
	root := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: header,
		Content: []*yaml.Node{toNode(reflect.ValueOf(document{Format: Format, Content: c}))}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return fmt.Errorf("encoding the checklist file: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encoding the checklist file: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// toNode builds the YAML node of v the way yaml.v3 would marshal it, but
// choosing the style of every text itself: yaml.v3 writes some multi-line
// texts (those beginning with white space, for example) as literal blocks
// that it cannot read back.
func toNode(v reflect.Value) *yaml.Node {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
		}
		return toNode(v.Elem())
	case reflect.Struct:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, f := range structFields(v.Type()) {
			fv := v.Field(f.index)
			if f.inline {
				n.Content = append(n.Content, toNode(fv).Content...)
				continue
			}
			if f.omitEmpty && isEmpty(fv) {
				continue
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.name}, toNode(fv))
		}
		return n
	case reflect.Slice:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		if v.Len() == 0 {
			n.Style = yaml.FlowStyle // []
		}
		for i := range v.Len() {
			n.Content = append(n.Content, toNode(v.Index(i)))
		}
		return n
	case reflect.String:
		return textNode(v.String())
	case reflect.Bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: strconv.FormatBool(v.Bool())}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: strconv.FormatInt(v.Int(), 10)}
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if f == 0 {
			f = 0 // YAML reads "-0" as the integer 0: write what it reads
		}
		s := strconv.FormatFloat(f, 'g', -1, 64)
		switch s {
		case "+Inf":
			s = ".inf"
		case "-Inf":
			s = "-.inf"
		case "NaN":
			s = ".nan"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Value: s}
	}
	panic(fmt.Sprintf("checklistfile: cannot encode a %s", v.Type()))
}

// isEmpty reports whether yaml.v3 would leave out v under omitempty.
func isEmpty(v reflect.Value) bool {
	if z, ok := v.Interface().(interface{ IsZero() bool }); ok {
		return z.IsZero()
	}
	switch v.Kind() {
	case reflect.Slice:
		return v.Len() == 0
	case reflect.Pointer:
		return v.IsNil()
	}
	return v.IsZero()
}

// textNode returns the node of a text: a literal block for multi-line texts
// that one reads back unchanged, double quotes for other multi-line texts
// and for words that YAML 1.1 readers take for booleans ("no"), and
// otherwise whatever yaml.v3 picks (plain, or quoted where plain would be
// misread).
func textNode(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	switch {
	case strings.Contains(s, "\n") && literalSafe(s):
		n.Style = yaml.LiteralStyle
	case strings.Contains(s, "\n"), oldBool[s]:
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// literalSafe reports whether s survives a literal block: it begins with a
// printable character and no line begins or ends with white space or
// holds a character YAML treats as a line break or byte-order mark.
func literalSafe(s string) bool {
	if s == "" || strings.ContainsAny(s, "\u0085\u2028\u2029\ufeff") {
		return false
	}
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimFunc(line, unicode.IsSpace) != line {
			return false
		}
	}
	r, _ := utf8.DecodeRuneInString(s)
	return !unicode.IsSpace(r)
}

// oldBool holds the YAML 1.1 spellings of booleans.
var oldBool = map[string]bool{}

func init() {
	for _, s := range []string{"y", "yes", "n", "no", "on", "off", "true", "false"} {
		oldBool[s] = true
		oldBool[strings.ToUpper(s)] = true
		oldBool[strings.ToUpper(s[:1])+s[1:]] = true
	}
}

//go:embed default.yaml
var defaultYAML []byte

var defaultContent = sync.OnceValue(func() checklist.Content {
	c, err := Decode(bytes.NewReader(defaultYAML))
	if err != nil {
		panic("checklistfile: the bundled default checklist is invalid: " + err.Error())
	}
	return c
})

// Default returns the bundled default checklist: the bureau's unified
// service-quality checklist for citizen-use facilities. Each call returns
// a fresh copy that the caller may change.
func Default() checklist.Content { return defaultContent().Clone() }

// DefaultYAML returns the bundled default checklist file as written, with
// its comments.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }

// nodeBound is an upper bound of the YAML nodes data can make, counted
// without parsing: a node starts a line, or follows one of the characters
// that separate or open nodes (also counted inside text, which only makes
// the bound higher).
func nodeBound(data []byte) int {
	n := 1
	for _, b := range data {
		switch b {
		case '\n', ',', '[', '{', ':', '-', '?', '&', '*', '!':
			n++
		}
	}
	return n
}
