package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"tenken/checklist"
	"tenken/checklist/demodata"
)

// consoleEnv is the inspection test API plus what the console shows: a
// facility whose name is markup, last fiscal year's approved inspections,
// and this year's inspection of the own facility submitted through the
// API by its inspector, with a failed item, a comment and a photo.
type consoleEnv struct {
	*inspectionEnv
	reviewerUser checklist.User
	scriptFac    string // facility id named <script>…
	flow         string // the submitted inspection's id
}

const scriptName = `<script>alert("xss")</script>`

func newConsoleEnv(t *testing.T) *consoleEnv {
	t.Helper()
	e := &consoleEnv{inspectionEnv: newInspectionEnv(t)}
	ctx := context.Background()
	f, err := e.db.CreateFacility(ctx, checklist.Facility{Code: "XSS-1", Kind: checklist.KindPublicHall, Active: true,
		Department: "<b>部</b>", Name: checklist.FacilityName{JA: scriptName, EN: scriptName}}, checklist.SystemActor)
	if err != nil {
		t.Fatal(err)
	}
	e.scriptFac = f.ID
	e.reviewerUser = e.newUser(checklist.RoleReviewer)

	// Two earlier fiscal years and this one for more facilities, so the
	// dashboard has trends, persistent problems and a queue to show.
	content := testChecklistContent()
	fy := checklist.FiscalYear(e.clk.Now())
	facs := []string{e.own, e.other, e.scriptFac}
	for i, name := range [][2]string{{"城南職業能力開発センター", "Jonan Vocational Skills Development Center"},
		{"多摩職業能力開発センター", "Tama Vocational Skills Development Center"}, {"労働相談情報センター", "Labour Consultation Center"},
		{"産業技術研究センター", "Industrial Technology Research Institute"}, {"産業貿易センター 浜松町館", "Industry and Trade Center"}} {
		f, err := e.db.CreateFacility(ctx, checklist.Facility{Code: fmt.Sprintf("DEMO-%d", i+1), Kind: checklist.KindPublicHall, Active: true,
			Department: []string{"雇用就業部", "商工部"}[i%2], Name: checklist.FacilityName{JA: name[0], EN: name[1]}}, checklist.SystemActor)
		if err != nil {
			t.Fatal(err)
		}
		facs = append(facs, f.ID)
	}
	g := demodata.New(demodata.Options{ChecklistID: testChecklistID, Version: 1, Content: &content,
		Facilities: facs, FirstYear: fy - 2, Years: 3, Seed: 7})
	var ins []*checklist.Inspection
	today := checklist.DateOf(e.clk.Now())
	for y := fy - 2; y <= fy; y++ {
		for i, fac := range facs {
			if y == fy && (fac == e.own || i%3 == 2) {
				continue // this year: the flow's own inspection below; some not yet
			}
			date := checklist.DateOf(checklist.FiscalYearStart(y).AddDate(0, 1+i, 0))
			if date.String() > today.String() {
				date = today
			}
			status := checklist.StatusApproved
			if y == fy && i%2 == 1 {
				status = checklist.StatusSubmitted
			}
			in, err := g.Inspection(fac, date, status)
			if err != nil {
				t.Fatal(err)
			}
			ins = append(ins, in)
		}
	}
	if err := e.db.InsertInspections(ctx, ins); err != nil {
		t.Fatal(err)
	}

	// This year's, through the API as the tablet would.
	e.flow = uuid.NewString()
	body := e.createBody(e.own)
	body["inspection_date"] = checklist.DateOf(e.clk.Now()).String()
	e.request("PUT", "/v1/inspections/"+e.flow, body, e.inspector).wantStatus(t, http.StatusCreated)
	r := e.upload(e.inspector, e.flow, "signage.entrance", pngBytes(t, 3), "image/png").wantStatus(t, http.StatusCreated)
	var up struct {
		SHA256   string `json:"sha256"`
		Revision int64  `json:"revision"`
	}
	r.decode(t, &up)
	e.save(e.inspector, e.flow, up.Revision, map[string]any{
		"signage.entrance": map[string]any{"value": "no", "comment": "入口の案内板が色あせている", "photos": []string{up.SHA256}},
		"flyers.rack":      map[string]any{"value": "yes"},
		"flyers.layout":    map[string]any{"value": "none", "comment": "未整理"},
		"signage.clarity":  map[string]any{"value": 4},
	}).wantStatus(t, http.StatusOK)
	e.act(e.inspector, e.flow, "submit", nil).wantStatus(t, http.StatusOK)
	return e
}

// browserClient is an HTTP client with its own cookies that does not
// follow redirects, to see them.
func (e *consoleEnv) browserClient(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// get fetches path and returns the status, the Location and the body.
func get(t *testing.T, c *http.Client, u string) (int, string, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (int, string, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// signIn signs c in as username through the form and returns the CSRF
// token of the new session (read from a page).
func (e *consoleEnv) signIn(t *testing.T, c *http.Client, username string) string {
	t.Helper()
	_, _, page := get(t, c, e.srv.URL+"/console/login")
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the sign-in form has no CSRF token")
	}
	st, loc, _ := post(t, c, e.srv.URL+"/console/login", url.Values{"_csrf": {m[1]}, "username": {username}, "password": {testPassword}, "next": {"/console/queue"}})
	if st != http.StatusSeeOther || loc != "/console/queue" {
		t.Fatalf("sign in as %s: %d → %q", username, st, loc)
	}
	st, _, page = get(t, c, e.srv.URL+"/console/queue")
	m = csrfInput.FindStringSubmatch(page)
	if st != http.StatusOK || m == nil {
		t.Fatalf("queue after sign-in: %d", st)
	}
	return m[1]
}

func (e *consoleEnv) status(t *testing.T) checklist.Status {
	t.Helper()
	return e.stored(t, e.flow).Status
}

// A state-changing form is refused without the session's CSRF token and
// with another session's, and changes nothing; with its own it works.
func TestConsoleCSRF(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	a, b := e.browserClient(t), e.browserClient(t)
	tokA := e.signIn(t, a, e.reviewerUser.Username)
	tokB := e.signIn(t, b, e.reviewerUser.Username)
	if tokA == tokB {
		t.Fatal("two sessions share a CSRF token")
	}
	rev := e.stored(t, e.flow).Revision
	approve := e.srv.URL + "/console/inspections/" + e.flow + "/approve"
	for name, form := range map[string]url.Values{
		"ErrNoToken":           {"revision": {itoa64(rev)}},
		"ErrOtherSessionToken": {"revision": {itoa64(rev)}, "_csrf": {tokB}},
		"ErrGarbage":           {"revision": {itoa64(rev)}, "_csrf": {"x"}},
	} {
		t.Run(name, func(t *testing.T) {
			st, _, body := post(t, a, approve, form)
			if st != http.StatusForbidden || !strings.Contains(body, "フォーム") {
				t.Errorf("approve: %d, want 403 with the CSRF message", st)
			}
			if s := e.status(t); s != checklist.StatusSubmitted {
				t.Errorf("status %s after a refused form", s)
			}
		})
	}
	t.Run("ErrLogoutWithoutToken", func(t *testing.T) {
		if st, _, _ := post(t, a, e.srv.URL+"/console/logout", nil); st != http.StatusForbidden {
			t.Errorf("logout without token: %d, want 403", st)
		}
		if st, _, _ := get(t, a, e.srv.URL+"/console/queue"); st != http.StatusOK {
			t.Errorf("session ended by a forged logout: %d", st)
		}
	})
	t.Run("ErrSignInWithoutToken", func(t *testing.T) {
		c := e.browserClient(t)
		st, _, _ := post(t, c, e.srv.URL+"/console/login", url.Values{"username": {e.reviewerUser.Username}, "password": {testPassword}})
		if st != http.StatusForbidden {
			t.Errorf("sign-in without token: %d, want 403", st)
		}
	})
	t.Run("OK", func(t *testing.T) {
		st, loc, _ := post(t, a, approve, url.Values{"revision": {itoa64(rev)}, "_csrf": {tokA}})
		if st != http.StatusSeeOther || !strings.HasSuffix(loc, "?done=approve") {
			t.Fatalf("approve: %d → %q", st, loc)
		}
		if s := e.status(t); s != checklist.StatusApproved {
			t.Errorf("status %s, want approved", s)
		}
	})
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func strconvI(n int64) string { return strconv.FormatInt(n, 10) }

// Sessions end: logout, disabling the user, a role change, a password
// reset; an ended session stays ended; the cookie is no refresh token.
func TestConsoleSessionEnds(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	queue := e.srv.URL + "/console/queue"
	wantSignedOut := func(t *testing.T, c *http.Client) {
		t.Helper()
		st, loc, _ := get(t, c, queue)
		if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/login") {
			t.Errorf("after the session ended: %d → %q, want the sign-in form", st, loc)
		}
	}
	t.Run("Logout", func(t *testing.T) {
		c := e.browserClient(t)
		tok := e.signIn(t, c, e.reviewerUser.Username)
		if st, loc, _ := post(t, c, e.srv.URL+"/console/logout", url.Values{"_csrf": {tok}}); st != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/login") {
			t.Fatalf("logout: %d → %q", st, loc)
		}
		wantSignedOut(t, c)
	})
	t.Run("Disabled", func(t *testing.T) {
		u := e.newUser(checklist.RoleReviewer)
		c := e.browserClient(t)
		e.signIn(t, c, u.Username)
		disable(t, e.testAPI, u)
		st, loc, _ := get(t, c, queue)
		if st != http.StatusSeeOther || !strings.Contains(loc, "why=ended") {
			t.Errorf("disabled user's next page: %d → %q", st, loc)
		}
	})
	t.Run("PasswordReset", func(t *testing.T) {
		u := e.newUser(checklist.RoleReviewer)
		c := e.browserClient(t)
		e.signIn(t, c, u.Username)
		e.request("POST", "/v1/users/"+u.ID+"/password", map[string]string{"password": "another long passphrase 42"}, e.admin).wantStatus(t, http.StatusNoContent)
		wantSignedOut(t, c)
	})
	t.Run("RoleChange", func(t *testing.T) {
		u := e.newUser(checklist.RoleReviewer)
		c := e.browserClient(t)
		e.signIn(t, c, u.Username)
		cur, _ := e.db.FindUser(context.Background(), u.ID)
		admin := checklist.RoleAdmin
		if _, err := e.db.UpdateUser(context.Background(), u.ID, cur.Revision, checklist.SystemActor, func(u checklist.User) (checklist.User, error) {
			return checklist.UserChange{Role: &admin}.Apply(u, "", time.Now())
		}); err != nil {
			t.Fatal(err)
		}
		wantSignedOut(t, c)
	})
	t.Run("ErrCookieAsRefreshToken", func(t *testing.T) {
		c := e.browserClient(t)
		e.signIn(t, c, e.reviewerUser.Username)
		u, _ := url.Parse(e.srv.URL + "/console/")
		var cookie string
		for _, ck := range c.Jar.Cookies(u) {
			if ck.Name == "tenken_session" {
				cookie = ck.Value
			}
		}
		if cookie == "" {
			t.Fatal("no session cookie")
		}
		e.request("POST", "/v1/auth/refresh", map[string]string{"refresh_token": cookie}).wantStatus(t, http.StatusUnauthorized)
	})
	t.Run("Expired", func(t *testing.T) {
		c := e.browserClient(t)
		e.signIn(t, c, e.reviewerUser.Username)
		e.clk.Advance(checklist.BrowserSessionTTL + time.Minute)
		wantSignedOut(t, c)
	})
}

// The session cookie's attributes.
func TestConsoleCookie(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	c := e.browserClient(t)
	_, _, page := get(t, c, e.srv.URL+"/console/login")
	tok := csrfInput.FindStringSubmatch(page)[1]
	resp, err := c.PostForm(e.srv.URL+"/console/login", url.Values{"_csrf": {tok}, "username": {e.reviewerUser.Username}, "password": {testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var found bool
	for _, ck := range resp.Cookies() {
		if ck.Name != "tenken_session" {
			continue
		}
		found = true
		if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console/" {
			t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/console/", ck)
		}
	}
	if !found {
		t.Fatal("no session cookie set")
	}
	if csp := resp.Header.Get("Content-Security-Policy"); csp == "" {
		t.Error("no CSP")
	}
	st, _, _ := post(t, e.browserClient(t), e.srv.URL+"/console/login", url.Values{"_csrf": {tok}, "username": {"x"}, "password": {"y"}})
	if st != http.StatusForbidden {
		t.Errorf("a sign-in form token used without its pre-session cookie: %d, want 403", st)
	}
}

// An inspector's session reaches no console page: each answers with the
// pointer to the tablet app.
func TestConsoleInspectorSeesOnlyTabletPointer(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	insp := e.newUser(checklist.RoleInspector, e.own)
	c := e.browserClient(t)
	_, _, page := get(t, c, e.srv.URL+"/console/login")
	tok := csrfInput.FindStringSubmatch(page)[1]
	post(t, c, e.srv.URL+"/console/login", url.Values{"_csrf": {tok}, "username": {insp.Username}, "password": {testPassword}})
	in := e.stored(t, e.flow)
	for _, p := range []string{"/console/", "/console/queue", "/console/inspections/" + e.flow, "/console/inspections/" + e.flow + "/print",
		"/console/facilities", "/console/facilities/" + e.own, "/console/photos/" + in.Photos[0].SHA256} {
		st, _, body := get(t, c, e.srv.URL+p)
		if st != http.StatusForbidden || !strings.Contains(body, `href="/app/"`) || strings.Contains(body, "入口の案内板") {
			t.Errorf("inspector at %s: %d, want 403 with the tablet app link and nothing else", p, st)
		}
	}
	st, _, _ := post(t, c, e.srv.URL+"/console/inspections/"+e.flow+"/approve", url.Values{"revision": {itoa64(in.Revision)}})
	if st != http.StatusForbidden || e.status(t) != checklist.StatusSubmitted {
		t.Errorf("inspector approve: %d, status %s", st, e.status(t))
	}
}

// A wrong password and an unknown user get the same answer; the form
// keeps the throttle of the API.
func TestConsoleSignInFailures(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	c := e.browserClient(t)
	_, _, page := get(t, c, e.srv.URL+"/console/login")
	tok := csrfInput.FindStringSubmatch(page)[1]
	var last int
	for i := range 12 {
		st, _, body := post(t, c, e.srv.URL+"/console/login", url.Values{"_csrf": {tok}, "username": {e.reviewerUser.Username}, "password": {"wrong password " + strconvI(int64(i))}})
		if st == http.StatusOK || strings.Contains(body, "tenken_session") {
			t.Fatalf("wrong password accepted: %d", st)
		}
		last = st
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("12 failed sign-ins: last %d, want 429", last)
	}
	st, loc, _ := post(t, c, e.srv.URL+"/console/login", url.Values{"_csrf": {tok}, "username": {e.reviewerUser.Username}, "password": {testPassword}})
	if st != http.StatusTooManyRequests {
		t.Errorf("right password while throttled: %d → %q, want 429", st, loc)
	}
}

// Someone else acted first: the second reviewer's form does nothing and
// the page says so, showing the current state.
func TestConsoleConflictShown(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	a, b := e.browserClient(t), e.browserClient(t)
	tokA := e.signIn(t, a, e.reviewerUser.Username)
	tokB := e.signIn(t, b, e.newUser(checklist.RoleReviewer).Username)
	rev := itoa64(e.stored(t, e.flow).Revision)
	base := e.srv.URL + "/console/inspections/" + e.flow
	if st, _, _ := post(t, a, base+"/approve", url.Values{"_csrf": {tokA}, "revision": {rev}}); st != http.StatusSeeOther {
		t.Fatalf("first approve: %d", st)
	}
	st, _, body := post(t, b, base+"/return", url.Values{"_csrf": {tokB}, "revision": {rev}, "comment": {"直してください"}})
	if st != http.StatusConflict || !strings.Contains(body, "他の人が先に操作したため") || !strings.Contains(body, "承認済み") {
		t.Errorf("second reviewer's return: %d, want 409 saying someone acted first and showing approved", st)
	}
	if s := e.status(t); s != checklist.StatusApproved {
		t.Errorf("status %s, want approved", s)
	}
	// A return without its required comment is refused with the reason.
	st, _, body = post(t, a, base+"/reopen", url.Values{"_csrf": {tokA}, "revision": {itoa64(e.stored(t, e.flow).Revision)}})
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, "この操作はできませんでした") {
		t.Errorf("reopen without a reason: %d, want 422 with the reason", st)
	}
}

// Reopening an approved inspection with a reason unlocks it: it goes
// back to the facility as returned, the reason becomes the reviewer's
// comment, and the page says so.
func TestConsoleReopenWithReason(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	c := e.browserClient(t)
	tok := e.signIn(t, c, e.reviewerUser.Username)
	base := e.srv.URL + "/console/inspections/" + e.flow
	if st, _, _ := post(t, c, base+"/approve", url.Values{"_csrf": {tok}, "revision": {itoa64(e.stored(t, e.flow).Revision)}}); st != http.StatusSeeOther {
		t.Fatalf("approve: %d", st)
	}
	const reason = "写真の日付が違うため再確認してください"
	st, loc, _ := post(t, c, base+"/reopen", url.Values{"_csrf": {tok}, "revision": {itoa64(e.stored(t, e.flow).Revision)}, "reason": {"  " + reason + " "}})
	if st != http.StatusSeeOther || loc != "/console/inspections/"+e.flow+"?done=reopen" {
		t.Fatalf("reopen: %d → %q", st, loc)
	}
	in := e.stored(t, e.flow)
	if in.Status != checklist.StatusReturned || in.Review.Comment != reason || in.Review.By != e.reviewerUser.ID {
		t.Fatalf("after reopen: %s, %+v", in.Status, in.Review)
	}
	if _, _, page := get(t, c, e.srv.URL+loc); !strings.Contains(page, "再開しました") || !strings.Contains(page, reason) {
		t.Error("the page after reopening lacks the notice or the reason")
	}
	// The tablet can correct it again.
	e.act(e.inspector, e.flow, "resubmit", nil).wantStatus(t, http.StatusOK)
}

// The final (December) progress report of an action is kept apart from
// the interim one; a report of no known kind changes nothing.
func TestConsoleActionFinalProgress(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	e.act(e.reviewer, e.flow, "approve", nil).wantStatus(t, http.StatusOK)
	fy := checklist.FiscalYear(e.clk.Now())
	var a struct {
		ID       string `json:"id"`
		Revision int64  `json:"revision"`
	}
	e.request("POST", "/v1/actions", map[string]any{"title": "案内板を更新する", "facility_id": e.own, "item_key": "signage.entrance",
		"target_fiscal_year": fy, "source_inspection_id": e.flow}, e.reviewer).wantStatus(t, http.StatusCreated).decode(t, &a)
	c := e.browserClient(t)
	tok := e.signIn(t, c, e.reviewerUser.Username)
	base := e.srv.URL + "/console/actions/" + a.ID
	date := strconv.Itoa(fy) + "-12-15"

	st, _, _ := post(t, c, base+"/progress", url.Values{"_csrf": {tok}, "revision": {itoa64(a.Revision)}, "kind": {"yearly"}, "date": {date}, "text": {"x"}})
	if st != http.StatusUnprocessableEntity {
		t.Errorf("a report of kind yearly: %d, want 422", st)
	}
	st, loc, _ := post(t, c, base+"/progress", url.Values{"_csrf": {tok}, "revision": {itoa64(a.Revision)}, "kind": {"final"}, "date": {date}, "text": {"新しい案内板を設置した"}})
	if st != http.StatusSeeOther || loc != "/console/actions/"+a.ID+"?done=progress" {
		t.Fatalf("final report: %d → %q", st, loc)
	}
	got, err := e.db.FindAction(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Final == nil || got.Final.Text != "新しい案内板を設置した" || got.Final.Date.String() != date || got.Interim != nil || got.Status != checklist.ActionInProgress {
		t.Fatalf("after the final report: final %+v, interim %+v, status %s", got.Final, got.Interim, got.Status)
	}
	_, _, page := get(t, c, e.srv.URL+loc)
	if !strings.Contains(page, "進捗報告を保存しました") || !strings.Contains(page, date+" — 新しい案内板を設置した") {
		t.Error("the action page lacks the notice or the final report")
	}
}

var inspectionLink = regexp.MustCompile(`href="/console/inspections/([0-9a-f-]{36})"`)

// queueIDs returns the inspections the queue at query links to.
func queueIDs(t *testing.T, e *consoleEnv, c *http.Client, query string) map[string]bool {
	t.Helper()
	st, _, page := get(t, c, e.srv.URL+"/console/queue"+query)
	if st != http.StatusOK {
		t.Fatalf("queue%s: %d", query, st)
	}
	ids := map[string]bool{}
	for _, m := range inspectionLink.FindAllStringSubmatch(page, -1) {
		ids[m[1]] = true
	}
	return ids
}

// The queue filtered by facility shows that facility's submissions only,
// and filtered by department those of the department's facilities.
func TestConsoleQueueFilters(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	c := e.browserClient(t)
	e.signIn(t, c, e.reviewerUser.Username)
	all := queueIDs(t, e, c, "")
	if len(all) < 3 || !all[e.flow] {
		t.Fatalf("the unfiltered queue: %v, want the flow and others", all)
	}
	byDept := map[string]map[string]bool{}
	for id := range all {
		in := e.stored(t, id)
		f, err := e.db.FindFacility(context.Background(), in.FacilityID)
		if err != nil {
			t.Fatal(err)
		}
		if byDept[f.Department] == nil {
			byDept[f.Department] = map[string]bool{}
		}
		byDept[f.Department][id] = true
	}
	t.Run("Facility", func(t *testing.T) {
		if got := queueIDs(t, e, c, "?facility="+e.own); len(got) != 1 || !got[e.flow] {
			t.Errorf("queue of the own facility: %v, want only %s", got, e.flow)
		}
		if got := queueIDs(t, e, c, "?facility="+e.scriptFac); len(got) != 0 {
			t.Errorf("queue of a facility with nothing submitted: %v", got)
		}
	})
	t.Run("Department", func(t *testing.T) {
		delete(byDept, "") // facilities without a department: "" is no filter
		if len(byDept) == 0 {
			t.Fatal("no submission in the queue belongs to a department")
		}
		for dept, want := range byDept {
			if len(want) == len(all) {
				t.Fatalf("department %q holds the whole queue; the filter would prove nothing", dept)
			}
			got := queueIDs(t, e, c, "?department="+url.QueryEscape(dept))
			if len(got) != len(want) {
				t.Errorf("department %q: %v, want %v", dept, got, want)
			}
			for id := range want {
				if !got[id] {
					t.Errorf("department %q lacks %s", dept, id)
				}
			}
		}
		if got := queueIDs(t, e, c, "?department="+url.QueryEscape("存在しない部")); len(got) != 0 {
			t.Errorf("an unknown department: %v", got)
		}
	})
}
