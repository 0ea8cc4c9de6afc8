// Package openapi holds tenken's API contract, openapi.yaml, embedded in
// the binary, and renders it as a self-contained HTML page for /docs.
package openapi

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Spec is openapi.yaml as shipped.
//
//go:embed openapi.yaml
var Spec []byte

// Document is the part of the spec the docs page and the route test read.
type Document struct {
	Info struct {
		Title       string `yaml:"title"`
		Version     string `yaml:"version"`
		Description string `yaml:"description"`
	} `yaml:"info"`
	Paths map[string]map[string]Operation `yaml:"paths"`
}

// Operation is one method of one path.
type Operation struct {
	Summary     string              `yaml:"summary"`
	Description string              `yaml:"description"`
	Tags        []string            `yaml:"tags"`
	Security    []map[string]any    `yaml:"security"`
	Responses   map[string]Response `yaml:"responses"`
}

// Response is one documented response.
type Response struct {
	Description string `yaml:"description"`
}

// httpMethods are the keys of a path item that are operations.
var httpMethods = map[string]bool{"get": true, "put": true, "post": true, "delete": true, "patch": true, "head": true, "options": true}

// Parse reads Spec.
func Parse() (*Document, error) {
	var raw struct {
		Info  yaml.Node                       `yaml:"info"`
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(Spec, &raw); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	doc := &Document{Paths: map[string]map[string]Operation{}}
	if err := raw.Info.Decode(&doc.Info); err != nil {
		return nil, fmt.Errorf("openapi.yaml info: %w", err)
	}
	for path, item := range raw.Paths {
		ops := map[string]Operation{}
		for method, node := range item {
			if !httpMethods[method] {
				continue // parameters, summary, …
			}
			var op Operation
			if err := node.Decode(&op); err != nil {
				return nil, fmt.Errorf("openapi.yaml %s %s: %w", method, path, err)
			}
			ops[strings.ToUpper(method)] = op
		}
		doc.Paths[path] = ops
	}
	return doc, nil
}

// Routes returns every "METHOD /path" the spec names, sorted.
func (d *Document) Routes() []string {
	var out []string
	for path, ops := range d.Paths {
		for m := range ops {
			out = append(out, m+" "+path)
		}
	}
	sort.Strings(out)
	return out
}

// DocsHTML renders the spec as one HTML page that needs nothing from the
// network: every operation with its summary, description and responses,
// and a link to the raw YAML for tools.
func DocsHTML() ([]byte, error) {
	doc, err := Parse()
	if err != nil {
		return nil, err
	}
	type op struct {
		Method, Path string
		Operation
		Codes []string
	}
	groups := map[string][]op{}
	for path, ops := range doc.Paths {
		for m, o := range ops {
			tag := "other"
			if len(o.Tags) > 0 {
				tag = o.Tags[0]
			}
			var codes []string
			for c := range o.Responses {
				codes = append(codes, c)
			}
			sort.Strings(codes)
			groups[tag] = append(groups[tag], op{Method: m, Path: path, Operation: o, Codes: codes})
		}
	}
	type group struct {
		Tag string
		Ops []op
	}
	var gs []group
	for tag, ops := range groups {
		sort.Slice(ops, func(i, j int) bool {
			if ops[i].Path != ops[j].Path {
				return ops[i].Path < ops[j].Path
			}
			return ops[i].Method < ops[j].Method
		})
		gs = append(gs, group{tag, ops})
	}
	sort.Slice(gs, func(i, j int) bool { return gs[i].Tag < gs[j].Tag })
	var buf bytes.Buffer
	err = docsTemplate.Execute(&buf, map[string]any{"Doc": doc, "Groups": gs})
	return buf.Bytes(), err
}

var docsTemplate = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{{.Doc.Info.Title}} {{.Doc.Info.Version}}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h2{border-bottom:1px solid #ccc;margin-top:2rem}
.op{margin:.8rem 0;padding:.5rem .8rem;border-left:4px solid #888;background:#f7f7f7}
.m{font:bold 13px monospace;display:inline-block;width:4.5rem}
.GET{border-color:#2b7} .POST{border-color:#27c} .PUT{border-color:#c82} .PATCH{border-color:#a5c} .DELETE{border-color:#c33}
code{font-size:13px} .codes{color:#555;font-size:13px} p{margin:.3rem 0;white-space:pre-line}
</style></head><body>
<h1>{{.Doc.Info.Title}} <small>{{.Doc.Info.Version}}</small></h1>
<p>{{.Doc.Info.Description}}</p>
<p>Machine-readable contract: <a href="/openapi.yaml">/openapi.yaml</a></p>
{{range .Groups}}<h2>{{.Tag}}</h2>
{{range .Ops}}<div class="op {{.Method}}"><span class="m">{{.Method}}</span><code>{{.Path}}</code> — {{.Summary}}
{{if .Description}}<p>{{.Description}}</p>{{end}}
<div class="codes">{{range .Codes}}{{.}} {{end}}</div></div>
{{end}}{{end}}
</body></html>
`))
