package handlers

import (
	"time"

	"tenken/checklist"
)

// inspectionJSON is an inspection on the wire: everything a tablet needs
// to continue offline (answers with their revisions) and a reviewer needs
// to decide (score, findings, photos, history).
type inspectionJSON struct {
	ID              string                `json:"id"`
	FacilityID      string                `json:"facility_id"`
	ChecklistID     string                `json:"checklist_id"`
	Version         int                   `json:"version"`
	InspectionDate  string                `json:"inspection_date"`
	FiscalYear      int                   `json:"fiscal_year"`
	FiscalYearLabel string                `json:"fiscal_year_label"`
	Status          checklist.Status      `json:"status"`
	Revision        int64                 `json:"revision"`
	Answers         map[string]answerJSON `json:"answers"`
	Cleared         map[string]stampJSON  `json:"cleared"`
	Photos          []photoJSON           `json:"photos"`
	Review          *reviewJSON           `json:"review"`
	History         []transitionJSON      `json:"history"`
	Totals          totalsJSON            `json:"totals"`
	Score           *checklist.Score      `json:"score,omitempty"`
	Findings        []findingJSON         `json:"findings,omitempty"`
	CreatedAt       time.Time             `json:"created_at"`
	CreatedBy       string                `json:"created_by"`
	UpdatedAt       time.Time             `json:"updated_at"`
	UpdatedBy       string                `json:"updated_by"`
}

type answerJSON struct {
	Value     checklist.Value `json:"value"`
	Comment   string          `json:"comment,omitempty"`
	Photos    []string        `json:"photos,omitempty"`
	Failed    bool            `json:"failed"`
	NA        bool            `json:"na"`
	Points    float64         `json:"points"`
	MaxPoints float64         `json:"max_points"`
	Revision  int64           `json:"revision"`
	UpdatedAt time.Time       `json:"updated_at"`
	UpdatedBy string          `json:"updated_by"`
}

type stampJSON struct {
	Revision  int64     `json:"revision"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

type photoJSON struct {
	SHA256      string    `json:"sha256"`
	Item        string    `json:"item,omitempty"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	URL         string    `json:"url"`
	UploadedAt  time.Time `json:"uploaded_at"`
	UploadedBy  string    `json:"uploaded_by"`
}

type reviewJSON struct {
	Comment      string            `json:"comment,omitempty"`
	ItemComments map[string]string `json:"item_comments,omitempty"`
	By           string            `json:"by"`
	At           time.Time         `json:"at"`
}

type transitionJSON struct {
	From         checklist.Status  `json:"from"`
	To           checklist.Status  `json:"to"`
	At           time.Time         `json:"at"`
	By           string            `json:"by"`
	ByName       string            `json:"by_name,omitempty"`
	Role         checklist.Role    `json:"role"`
	Reason       string            `json:"reason,omitempty"`
	ItemComments map[string]string `json:"item_comments,omitempty"`
	Revision     int64             `json:"revision"`
}

type totalsJSON struct {
	Points    float64  `json:"points"`
	MaxPoints float64  `json:"max_points"`
	Percent   *float64 `json:"percent"`
	Answered  int      `json:"answered"`
	Failed    int      `json:"failed"`
	NA        int      `json:"na"`
}

// findingJSON is a failed item as a reviewer reads it: what was asked,
// what was answered, the evidence and the reviewer's comment on it.
type findingJSON struct {
	Item          string          `json:"item"`
	Section       string          `json:"section"`
	Text          checklist.Text  `json:"text"`
	Value         checklist.Value `json:"value"`
	Comment       string          `json:"comment,omitempty"`
	Photos        []string        `json:"photos"`
	ReviewComment string          `json:"review_comment,omitempty"`
}

// inspectionSummaryJSON is an inspection in a list.
type inspectionSummaryJSON struct {
	ID              string           `json:"id"`
	FacilityID      string           `json:"facility_id"`
	ChecklistID     string           `json:"checklist_id"`
	Version         int              `json:"version"`
	InspectionDate  string           `json:"inspection_date"`
	FiscalYear      int              `json:"fiscal_year"`
	FiscalYearLabel string           `json:"fiscal_year_label"`
	Status          checklist.Status `json:"status"`
	Revision        int64            `json:"revision"`
	Totals          totalsJSON       `json:"totals"`
	Photos          int              `json:"photos"`
	CreatedAt       time.Time        `json:"created_at"`
	UpdatedAt       time.Time        `json:"updated_at"`
	UpdatedBy       string           `json:"updated_by"`
}

func newTotalsJSON(t checklist.Totals) totalsJSON {
	out := totalsJSON{Points: t.Points, MaxPoints: t.MaxPoints, Answered: t.Answered, Failed: t.Failed, NA: t.NA}
	if t.MaxPoints > 0 {
		p := t.Percent()
		out.Percent = &p
	}
	return out
}

func photoURL(sha string) string { return "/v1/photos/" + sha }

// newInspectionJSON renders in; with its pinned content c it adds the
// score by section and the findings.
func newInspectionJSON(in *checklist.Inspection, c *checklist.Content) inspectionJSON {
	out := inspectionJSON{
		ID: in.ID, FacilityID: in.FacilityID, ChecklistID: in.ChecklistID, Version: in.Version,
		InspectionDate: in.Date.String(), FiscalYear: in.FiscalYear, FiscalYearLabel: checklist.FiscalYearLabel(in.FiscalYear),
		Status: in.Status, Revision: in.Revision,
		Answers:   make(map[string]answerJSON, len(in.Answers)),
		Cleared:   make(map[string]stampJSON, len(in.Cleared)),
		Photos:    make([]photoJSON, 0, len(in.Photos)),
		History:   make([]transitionJSON, 0, len(in.History)),
		Totals:    newTotalsJSON(in.Totals),
		CreatedAt: in.Created.At, CreatedBy: in.Created.By,
		UpdatedAt: in.Updated.At, UpdatedBy: in.Updated.By,
	}
	for k, r := range in.Answers {
		out.Answers[k] = answerJSON{
			Value: r.Answer.Value, Comment: r.Answer.Comment, Photos: r.Answer.Photos,
			Failed: r.Outcome.Failed, NA: r.Outcome.NA, Points: r.Outcome.Points, MaxPoints: r.Outcome.MaxPoints,
			Revision: r.Revision, UpdatedAt: r.At, UpdatedBy: r.By,
		}
	}
	for k, st := range in.Cleared {
		out.Cleared[k] = stampJSON{Revision: st.Revision, UpdatedAt: st.At, UpdatedBy: st.By}
	}
	for _, p := range in.Photos {
		out.Photos = append(out.Photos, photoJSON{SHA256: p.SHA256, Item: p.ItemKey, ContentType: p.ContentType,
			Size: p.Size, URL: photoURL(p.SHA256), UploadedAt: p.At, UploadedBy: p.By})
	}
	if in.Review.Comment != "" || len(in.Review.Items) > 0 {
		out.Review = &reviewJSON{Comment: in.Review.Comment, ItemComments: in.Review.Items, By: in.Review.By, At: in.Review.At}
	}
	for _, t := range in.History {
		out.History = append(out.History, transitionJSON{From: t.From, To: t.To, At: t.At, By: t.By, ByName: t.ByName,
			Role: t.Role, Reason: t.Reason, ItemComments: t.Items, Revision: t.Revision})
	}
	if c != nil {
		score := c.Score(in.AnswerValues())
		out.Score = &score
		out.Findings = []findingJSON{}
		for _, s := range c.Sections {
			for _, it := range s.Items {
				r, ok := in.Answers[it.Key]
				if !ok || !r.Outcome.Failed {
					continue
				}
				photos := append([]string{}, r.Answer.Photos...)
				for _, p := range in.PhotosOf(it.Key) {
					if !contains(photos, p.SHA256) {
						photos = append(photos, p.SHA256)
					}
				}
				out.Findings = append(out.Findings, findingJSON{Item: it.Key, Section: s.Key, Text: it.Text,
					Value: r.Answer.Value, Comment: r.Answer.Comment, Photos: photos, ReviewComment: in.Review.Items[it.Key]})
			}
		}
	}
	return out
}

func newInspectionSummaryJSON(in *checklist.Inspection) inspectionSummaryJSON {
	return inspectionSummaryJSON{
		ID: in.ID, FacilityID: in.FacilityID, ChecklistID: in.ChecklistID, Version: in.Version,
		InspectionDate: in.Date.String(), FiscalYear: in.FiscalYear, FiscalYearLabel: checklist.FiscalYearLabel(in.FiscalYear),
		Status: in.Status, Revision: in.Revision, Totals: newTotalsJSON(in.Totals), Photos: len(in.Photos),
		CreatedAt: in.Created.At, UpdatedAt: in.Updated.At, UpdatedBy: in.Updated.By,
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// auditJSON is an audit entry on the wire.
type auditJSON struct {
	ID         string           `json:"id"`
	At         time.Time        `json:"at"`
	ActorID    string           `json:"actor_id"`
	ActorName  string           `json:"actor_name,omitempty"`
	Role       checklist.Role   `json:"role,omitempty"`
	Entity     string           `json:"entity"`
	EntityID   string           `json:"entity_id"`
	FacilityID string           `json:"facility_id,omitempty"`
	Action     string           `json:"action"`
	Revision   int64            `json:"revision,omitempty"`
	Items      []string         `json:"items,omitempty"`
	From       checklist.Status `json:"from,omitempty"`
	To         checklist.Status `json:"to,omitempty"`
	Reason     string           `json:"reason,omitempty"`
	RequestKey string           `json:"request_key,omitempty"`
	Summary    string           `json:"summary,omitempty"`
}

func newAuditJSON(e checklist.AuditEntry) auditJSON {
	return auditJSON{ID: e.ID, At: e.At, ActorID: e.ActorID, ActorName: e.ActorName, Role: e.Role,
		Entity: e.Entity, EntityID: e.EntityID, FacilityID: e.FacilityID, Action: e.Action, Revision: e.Revision,
		Items: e.Items, From: e.From, To: e.To, Reason: e.Reason, RequestKey: e.RequestKey, Summary: e.Summary}
}
