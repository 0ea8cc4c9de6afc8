package handlers

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
)

// Checklists (admin): versions, a readable diff between two versions (and
// between the latest version and the draft), YAML export and import of
// the draft, and publishing once the draft's validation problems are
// seen and solved. The store and domain calls are the API's.

type checklistsView struct {
	Checklists []checklist.ChecklistRecord
}

func (s *Server) consoleChecklists(c *gin.Context) {
	list, err := s.store.ListChecklists(c.Request.Context())
	if err != nil {
		s.consoleError(c, err)
		return
	}
	s.render(c, http.StatusOK, "admin_checklists.html", "cl.title", checklistsView{Checklists: list})
}

// diffLine is one section or item of a diff, with its text.
type diffLine struct {
	Key        string
	Text       checklist.Text
	Properties []string
}

type diffView struct {
	From, To   string // "v1", "draft"
	Properties []string
	Added      []diffLine
	Removed    []diffLine
	Changed    []diffLine
	Reordered  bool
	Empty      bool
}

// newDiffView names the items of checklist.Diff(a, b) by their texts.
func newDiffView(from, to string, a, b checklist.Content) *diffView {
	d := checklist.Diff(a, b)
	text := func(c checklist.Content, key string) checklist.Text {
		if it, ok := c.Item(key); ok {
			return it.Text
		}
		return checklist.Text{}
	}
	v := &diffView{From: from, To: to, Properties: d.Properties, Reordered: d.Items.Reordered || d.Sections.Reordered, Empty: d.Empty()}
	for _, k := range d.Items.Added {
		v.Added = append(v.Added, diffLine{Key: k, Text: text(b, k)})
	}
	for _, k := range d.Items.Removed {
		v.Removed = append(v.Removed, diffLine{Key: k, Text: text(a, k)})
	}
	for _, ch := range d.Items.Changed {
		v.Changed = append(v.Changed, diffLine{Key: ch.Key, Text: text(b, ch.Key), Properties: ch.Properties})
	}
	for _, k := range d.Sections.Added {
		v.Added = append(v.Added, diffLine{Key: k + " (section)"})
	}
	for _, k := range d.Sections.Removed {
		v.Removed = append(v.Removed, diffLine{Key: k + " (section)"})
	}
	for _, ch := range d.Sections.Changed {
		v.Changed = append(v.Changed, diffLine{Key: ch.Key + " (section)", Properties: ch.Properties})
	}
	return v
}

type checklistView struct {
	R        checklist.ChecklistRecord
	Versions []checklist.Version
	Problems checklist.Problems // of the draft; publish waits for none
	Items    int
	Draft    *diffView // latest version → draft
	Diff     *diffView // the versions asked for
	From, To int
	Problem  string
	Done     string
}

func (s *Server) checklistView(c *gin.Context) (*checklistView, error) {
	ctx := c.Request.Context()
	r, err := s.store.FindChecklist(ctx, c.Param("id"))
	if err != nil {
		return nil, err
	}
	vs, err := s.store.ListVersions(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	v := &checklistView{R: r, Versions: vs, Items: len(r.Draft.Items())}
	var e *checklist.Error
	if err := r.Draft.Validate(); errors.As(err, &e) {
		v.Problems = e.Fields
		if len(v.Problems) == 0 {
			v.Problems = checklist.Problems{{Message: e.Message}}
		}
	}
	// The list holds no contents: read the versions compared, through
	// the same cache as the API's version downloads.
	content := func(n int) (*checklist.Content, error) {
		ver, err := s.versions.get(ctx, r.ID, n)
		if err != nil {
			return nil, err
		}
		return &ver.version.Content, nil
	}
	if r.LatestVersion > 0 {
		latest, err := content(r.LatestVersion)
		if err != nil {
			return nil, err
		}
		v.Draft = newDiffView("v"+strconv.Itoa(r.LatestVersion), "draft", *latest, r.Draft)
	}
	v.From, _ = strconv.Atoi(c.Query("from"))
	v.To, _ = strconv.Atoi(c.Query("to"))
	if v.From > 0 && v.To > 0 {
		a, err := content(v.From)
		if err != nil {
			return nil, err
		}
		b, err := content(v.To)
		if err != nil {
			return nil, err
		}
		v.Diff = newDiffView("v"+strconv.Itoa(v.From), "v"+strconv.Itoa(v.To), *a, *b)
	}
	return v, nil
}

func (s *Server) consoleChecklist(c *gin.Context) {
	v, err := s.checklistView(c)
	if err != nil {
		s.consoleError(c, err)
		return
	}
	v.Done = doneOf(c, "import", "publish")
	s.render(c, http.StatusOK, "admin_checklist.html", "cl.one", v)
}

// consoleChecklistYAML exports the draft, or version ?v=N, as a checklist file.
func (s *Server) consoleChecklistYAML(c *gin.Context) {
	ctx := c.Request.Context()
	r, err := s.store.FindChecklist(ctx, c.Param("id"))
	if err != nil {
		s.consoleError(c, err)
		return
	}
	if n, err := strconv.Atoi(c.Query("v")); err == nil {
		ver, err := s.store.ChecklistVersion(ctx, r.ID, n)
		if err != nil {
			s.consoleError(c, err)
			return
		}
		respondYAML(c, ver.Content, r.ID+"-v"+strconv.Itoa(n)+".yaml")
		return
	}
	respondYAML(c, r.Draft, r.ID+"-draft.yaml")
}

// consoleChecklistWrite runs the checklist page's forms: import a YAML
// file as the draft (rule problems are kept and shown, a file that is not
// a checklist is refused), or publish the draft at the shown revision.
func (s *Server) consoleChecklistWrite(c *gin.Context) {
	ctx := c.Request.Context()
	id, what := c.Param("id"), c.Param("what")
	rev, err := strconv.Atoi(c.PostForm("revision"))
	if err != nil || rev < 1 {
		s.consoleError(c, checklist.Errorf(checklist.EBadRequest, "the form names no revision"))
		return
	}
	switch what {
	case "import":
		err = func() error {
			fh, err := c.FormFile("file")
			if err != nil {
				return checklist.Errorf(checklist.EInvalid, "choose a YAML checklist file")
			}
			if fh.Size > maxChecklistBody {
				return checklist.Errorf(checklist.ETooLarge, "the file is larger than %d bytes", maxChecklistBody)
			}
			f, err := fh.Open()
			if err != nil {
				return err
			}
			defer f.Close()
			var buf bytes.Buffer
			if _, err := buf.ReadFrom(f); err != nil {
				return err
			}
			content, err := checklistfile.DecodeDraft(&buf)
			if err != nil {
				return err
			}
			_, err = s.store.ReplaceDraft(ctx, id, rev, content, actorOf(c))
			return err
		}()
	case "publish":
		_, err = s.store.Publish(ctx, id, rev, 0, actorOf(c))
	default:
		err = checklist.Errorf(checklist.ENotFound, "no such form %s", what)
	}
	if err != nil {
		code := checklist.ErrorCode(err)
		if code != checklist.EInvalid && code != checklist.EConflict && code != checklist.ERevision &&
			code != checklist.EBadRequest && code != checklist.ETooLarge && code != checklist.EPrecondition {
			s.consoleError(c, err)
			return
		}
		v, lerr := s.checklistView(c)
		if lerr != nil {
			s.consoleError(c, lerr)
			return
		}
		v.Problem = problemText(err)
		s.render(c, statusOf[code], "admin_checklist.html", "cl.one", v)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/admin/checklists/"+id+"?done="+what)
}
