package checklist

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// BrowserSession is a signed-in browser of the bureau console. It is a
// session like a refresh-token family (the same collection keeps it, so
// logout, password reset and the revocation of a user's sessions end it),
// reached by a cookie instead of a rotating token.
type BrowserSession struct {
	ID        string // the session (family) id
	UserID    string
	Role      Role // the role at sign-in: a change of role ends the session
	CreatedAt time.Time
	ExpiresAt time.Time
	Revoked   bool
	// PreviousVisit is when the user's previous console session started
	// (zero for a first visit): the dashboard's "changed since" point.
	PreviousVisit time.Time
}

// BrowserSessionTTL is how long a console session lasts without a new
// sign-in: a working day.
const BrowserSessionTTL = 12 * time.Hour

// CheckBrowserSession decides whether session s of user u may still be
// used at now: not revoked, not expired, the user enabled and still in
// the role the session was started with. It is the one rule for console
// requests; the caller ends the session when it says no.
func CheckBrowserSession(s BrowserSession, u User, now time.Time) error {
	switch {
	case s.Revoked:
		return Errorf(EUnauthorized, "the session has ended; sign in again")
	case !now.Before(s.ExpiresAt):
		return Errorf(EUnauthorized, "the session has expired; sign in again")
	case u.ID != s.UserID || u.Disabled:
		return Errorf(EUnauthorized, "the account is disabled")
	case u.Role != s.Role:
		return Errorf(EUnauthorized, "the account's role changed; sign in again")
	}
	return nil
}

// ReviewItem is one item of an inspection as a reviewer reads it.
type ReviewItem struct {
	Item    Item
	Record  AnswerRecord
	Has     bool   // answered at all
	Comment string // the reviewer's comment on the item, from the latest return
}

// ReviewSection is a section's items, failed ones first.
type ReviewSection struct {
	Section Section
	Items   []ReviewItem
	Failed  int
	Points  float64
	Max     float64
	Percent float64
}

// ReviewSections lays out inspection in against its pinned content for
// review: sections in content order, in each the failed items first (in
// content order), then the others. Items the inspection did not answer
// are kept, so a reviewer sees what is missing.
func ReviewSections(in *Inspection, c *Content) []ReviewSection {
	if c == nil {
		return nil
	}
	out := make([]ReviewSection, 0, len(c.Sections))
	for _, s := range c.Sections {
		rs := ReviewSection{Section: s}
		var failed, rest []ReviewItem
		for _, it := range s.Items {
			rec, ok := in.Answers[it.Key]
			ri := ReviewItem{Item: it, Record: rec, Has: ok, Comment: in.Review.Items[it.Key]}
			rs.Points += rec.Outcome.Points
			rs.Max += rec.Outcome.MaxPoints
			if ok && rec.Outcome.Failed {
				rs.Failed++
				failed = append(failed, ri)
			} else {
				rest = append(rest, ri)
			}
		}
		rs.Percent = Percent(rs.Points, rs.Max)
		rs.Items = append(failed, rest...)
		out = append(out, rs)
	}
	return out
}

// FailedItems lists the failed items of in in content order, for the
// printed report.
func FailedItems(in *Inspection, c *Content) []ReviewItem {
	var out []ReviewItem
	for _, s := range ReviewSections(in, c) {
		for _, ri := range s.Items {
			if ri.Has && ri.Record.Outcome.Failed {
				out = append(out, ri)
			}
		}
	}
	return out
}

// AnswerText renders answer a to item it in language lang ("ja" or
// "en"): option labels and scale words rather than keys.
func AnswerText(it Item, a Answer, lang string) string {
	v := a.Value
	pick := func(t Text) string {
		if lang == "en" && t.En != "" {
			return t.En
		}
		return t.Ja
	}
	switch v.Kind {
	case KindNone:
		return ""
	case KindBool:
		if v.Bool {
			return "yes"
		}
		return "no"
	case KindNumber:
		s := strconv.FormatFloat(v.Num, 'f', -1, 64)
		if it.Number != nil && !it.Number.Unit.IsZero() {
			s += " " + pick(it.Number.Unit)
		}
		if it.Type == TypeRating && int(v.Num) >= 1 && int(v.Num) <= len(it.Scale) {
			s += " (" + pick(it.Scale[int(v.Num)-1]) + ")"
		}
		return s
	case KindString:
		if o, ok := it.option(v.Str); ok {
			return pick(o.Label)
		}
		return v.Str
	case KindList:
		if it.Type == TypePhoto {
			return strconv.Itoa(len(v.List))
		}
		var parts []string
		for _, k := range v.List {
			if o, ok := it.option(k); ok {
				parts = append(parts, pick(o.Label))
			} else {
				parts = append(parts, k)
			}
		}
		return strings.Join(parts, ", ")
	}
	return ""
}

// ScoreBuckets counts percents into ten bands of ten points (the last
// band includes 100), for the score distribution.
func ScoreBuckets(percents []float64) [10]int {
	var b [10]int
	for _, p := range percents {
		i := int(p / 10)
		i = max(0, min(i, 9))
		b[i]++
	}
	return b
}

// InReview reports whether in waits for a reviewer, and whether it came
// back after a return (a resubmission).
func (in *Inspection) InReview() (waiting, resubmitted bool) {
	if in.Status != StatusSubmitted {
		return false, false
	}
	return true, slices.ContainsFunc(in.History, func(t Transition) bool { return t.From == StatusReturned && t.To == StatusSubmitted })
}

// SubmittedAt is when in last entered review (its latest move to
// submitted), zero when it never did.
func (in *Inspection) SubmittedAt() time.Time {
	for i := len(in.History) - 1; i >= 0; i-- {
		if in.History[i].To == StatusSubmitted {
			return in.History[i].At
		}
	}
	return time.Time{}
}
