package handlers

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"tenken/auth"
	"tenken/checklist"
	"tenken/web/console"
)

// The bureau console: server-rendered pages for reviewers and admins under
// /console/, signed in with a cookie bound to a server-side session. Pages
// call the same store and domain functions as the JSON API. See
// docs/console.md for how to add a page.

// ConsoleStore keeps console (browser) sessions, in the collection of
// refresh-token sessions so that revoking a user's sessions ends them too.
type ConsoleStore interface {
	StartBrowserSession(ctx context.Context, s checklist.BrowserSession, cookieHash string) (checklist.BrowserSession, error)
	FindBrowserSession(ctx context.Context, cookieHash string) (checklist.BrowserSession, error)
}

// Cookie names of the console.
const (
	sessionCookie    = "tenken_session"
	preSessionCookie = "tenken_pre" // binds the sign-in form's CSRF token
	langCookie       = "tenken_lang"
	csrfField        = "_csrf"
)

const consoleKey = "console"

// consoleCSP lets console pages load their own style sheet, script and
// images and nothing else; inline SVG needs no exception.
var consoleCSP = fullSlice("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")

// consoleHeaders replaces the API's CSP with the console's and adds the
// headers of a document.
func consoleHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h["Content-Security-Policy"] = consoleCSP
	documentHeaders(c)
	c.Next()
}

var consoleStatic = http.FileServerFS(console.Static())

func serveConsoleStatic(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=3600")
	c.Request.URL.Path = c.Param("file")
	consoleStatic.ServeHTTP(c.Writer, c.Request)
}

// consoleSession is what a signed-in console request carries.
type consoleSession struct {
	Session checklist.BrowserSession
	User    checklist.User
	CSRF    string
}

// cookieHash is how a session cookie is looked up. It differs from a
// refresh token's hash, so a cookie presented to /v1/auth/refresh finds
// nothing.
func cookieHash(cookie string) string {
	sum := sha256.Sum256([]byte("console-session\x00" + cookie))
	return hex.EncodeToString(sum[:])
}

// csrfToken is the synchronizer token of the session (or pre-session)
// whose cookie is secret: only a page of that session can know it.
func csrfToken(secret, purpose string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("csrf\x00" + purpose))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// setCookie writes an HttpOnly, SameSite=Strict cookie, Secure over TLS
// or when configured.
func (s *Server) setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: "/console/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.Request.TLS != nil || s.cfg.SecureCookies,
	})
}

// checkConsoleSession is the one check a console request passes: the
// session, the user behind it now, and the domain's rule. A session that
// fails it is revoked, so it stays ended.
func (s *Server) checkConsoleSession(ctx context.Context, cookie string) (checklist.BrowserSession, checklist.User, error) {
	sess, err := s.store.FindBrowserSession(ctx, cookieHash(cookie))
	if err != nil {
		return sess, checklist.User{}, err
	}
	u, err := s.store.FindUser(ctx, sess.UserID)
	if errors.Is(err, checklist.ENotFound) {
		u, err = checklist.User{}, nil
	}
	if err != nil {
		return sess, u, err
	}
	err = checklist.CheckBrowserSession(sess, u, s.now())
	if err == nil {
		// The same rule as access tokens: a session started before the
		// user's last disable, role or facility change is over.
		err = s.credentials.Check(ctx, u.ID, sess.CreatedAt)
	}
	if err != nil {
		if !sess.Revoked && errors.Is(err, checklist.EUnauthorized) {
			if rerr := s.store.RevokeSession(ctx, sess.ID); rerr != nil {
				return sess, u, rerr
			}
		}
		return sess, u, err
	}
	return sess, u, nil
}

// consoleAuth requires a live console session. Without one a page
// redirects to the sign-in form; an inspector sees only the pointer to
// the tablet app. On success the request carries the auth.Principal the API
// handlers read, so they can serve console routes too (photos).
func (s *Server) consoleAuth(c *gin.Context) {
	cookie, _ := c.Cookie(sessionCookie)
	if cookie == "" {
		s.toLogin(c, "")
		return
	}
	sess, u, err := s.checkConsoleSession(c.Request.Context(), cookie)
	if err != nil {
		if !errors.Is(err, checklist.EUnauthorized) {
			s.consoleError(c, err)
			return
		}
		logger(c).Info("console session refused", slog.String("reason", err.Error()))
		s.setCookie(c, sessionCookie, "", -1)
		s.toLogin(c, "ended")
		return
	}
	cs := &consoleSession{Session: sess, User: u, CSRF: csrfToken(cookie, "session")}
	c.Set(consoleKey, cs)
	st := stateOf(c)
	st.principal = auth.Principal{UserID: u.ID, Username: u.Username, Role: u.Role, Facilities: u.FacilityIDs}
	st.userID = u.ID
	if u.Role == checklist.RoleInspector {
		s.render(c, http.StatusForbidden, "inspector.html", "inspector.title", nil)
		c.Abort()
		return
	}
	if c.Request.Method == http.MethodPost && !sameToken(c.PostForm(csrfField), cs.CSRF) {
		logger(c).Warn("console form refused: CSRF token missing or wrong")
		s.render(c, http.StatusForbidden, "error.html", "error.title", consoleErrorView{Message: "error.csrf"})
		c.Abort()
		return
	}
	c.Next()
}

// toLogin redirects to the sign-in form, coming back to this page after.
func (s *Server) toLogin(c *gin.Context, why string) {
	q := url.Values{}
	if c.Request.Method == http.MethodGet {
		q.Set("next", c.Request.URL.RequestURI())
	}
	if why != "" {
		q.Set("why", why)
	}
	c.Redirect(http.StatusSeeOther, "/console/login?"+q.Encode())
	c.Abort()
}

// safeNext keeps a post-sign-in redirect on the console.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/console/") && !strings.HasPrefix(next, "/console//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return "/console/"
}

type loginView struct {
	Next     string
	Why      string
	Username string
	Error    string
}

// consoleLoginPage shows the sign-in form with a pre-session cookie whose
// token the form carries (login CSRF).
func (s *Server) consoleLoginPage(c *gin.Context) {
	s.showLogin(c, http.StatusOK, loginView{Next: safeNext(c.Query("next")), Why: c.Query("why")})
}

func (s *Server) showLogin(c *gin.Context, status int, v loginView) {
	pre, _ := c.Cookie(preSessionCookie)
	if pre == "" {
		var err error
		if pre, err = randomToken(); err != nil {
			s.consoleError(c, err)
			return
		}
		s.setCookie(c, preSessionCookie, pre, 3600)
	}
	c.Set(consoleKey, &consoleSession{CSRF: csrfToken(pre, "login")})
	s.render(c, status, "login.html", "login.title", v)
}

// consoleLogin checks the credentials exactly as the API's login does
// (same throttle, same answer for every failure) and starts a session.
func (s *Server) consoleLogin(c *gin.Context) {
	pre, _ := c.Cookie(preSessionCookie)
	v := loginView{Next: safeNext(c.PostForm("next")), Username: c.PostForm("username")}
	if pre == "" || !sameToken(c.PostForm(csrfField), csrfToken(pre, "login")) {
		v.Error = "error.csrf"
		s.showLogin(c, http.StatusForbidden, v)
		return
	}
	now := s.now()
	if checklist.NormalizeUsername(v.Username) == "" || c.PostForm("password") == "" {
		v.Error = "login.bad"
		s.showLogin(c, http.StatusUnauthorized, v)
		return
	}
	u, wait, err := s.passwordLogin(c, v.Username, c.PostForm("password"))
	switch {
	case wait > 0:
		v.Error = "login.throttled"
		s.showLogin(c, http.StatusTooManyRequests, v)
		return
	case errors.Is(err, context.Canceled):
		c.AbortWithStatus(499)
		return
	case errors.Is(err, checklist.EUnauthorized):
		v.Error = "login.bad"
		s.showLogin(c, http.StatusUnauthorized, v)
		return
	case err != nil:
		s.consoleError(c, err)
		return
	}
	cookie, err := randomToken()
	if err != nil {
		s.consoleError(c, err)
		return
	}
	sess := checklist.BrowserSession{ID: uuid.NewString(), UserID: u.ID, Role: u.Role,
		CreatedAt: u.CredentialIssuedAt(now), ExpiresAt: now.Add(checklist.BrowserSessionTTL)}
	if _, err := s.store.StartBrowserSession(c.Request.Context(), sess, cookieHash(cookie)); err != nil {
		s.consoleError(c, err)
		return
	}
	setUser(c, u.ID)
	s.setCookie(c, preSessionCookie, "", -1)
	s.setCookie(c, sessionCookie, cookie, int(checklist.BrowserSessionTTL/time.Second))
	c.Redirect(http.StatusSeeOther, v.Next)
}

// consoleLogout ends the session (its CSRF token required: a foreign page
// must not sign the user out) and clears the cookie.
func (s *Server) consoleLogout(c *gin.Context) {
	cookie, _ := c.Cookie(sessionCookie)
	if cookie != "" {
		if !sameToken(c.PostForm(csrfField), csrfToken(cookie, "session")) {
			s.render(c, http.StatusForbidden, "error.html", "error.title", consoleErrorView{Message: "error.csrf"})
			return
		}
		sess, err := s.store.FindBrowserSession(c.Request.Context(), cookieHash(cookie))
		if err == nil {
			if err := s.store.RevokeSession(c.Request.Context(), sess.ID); err != nil {
				s.consoleError(c, err)
				return
			}
		}
	}
	s.setCookie(c, sessionCookie, "", -1)
	c.Redirect(http.StatusSeeOther, "/console/login?why=out")
}

// consoleLang is the request's language: ?lang= (remembered in a cookie),
// else the cookie, else Japanese.
func (s *Server) consoleLang(c *gin.Context) string {
	if l := c.Query("lang"); l == "ja" || l == "en" {
		http.SetCookie(c.Writer, &http.Cookie{Name: langCookie, Value: l, Path: "/console/", MaxAge: 365 * 24 * 3600, HttpOnly: true,
			SameSite: http.SameSiteLaxMode, Secure: c.Request.TLS != nil || s.cfg.SecureCookies})
		return l
	}
	if l, _ := c.Cookie(langCookie); l == "en" {
		return "en"
	}
	return "ja"
}

// page is what every template gets: the frame's data and the page's own.
type page struct {
	Lang    string
	Title   string
	Nav     string
	User    *checklist.User
	Staff   bool // a reviewer or admin: the console's menu is shown
	CSRF    string
	Path    string // the page's path, for the language switch
	OtherQ  string // the query that switches language
	Data    any
	Now     time.Time
	Printed bool
}

// T translates a message key into the page's language.
func (p *page) T(key string) string { return message(p.Lang, key) }

// Tx picks the page's language of a bilingual text (Japanese when the
// English one is missing).
func (p *page) Tx(t checklist.Text) string {
	if p.Lang == "en" && t.En != "" {
		return t.En
	}
	return t.Ja
}

// Fac is a facility's name in the page's language.
func (p *page) Fac(f checklist.Facility) string {
	if p.Lang == "en" && f.Name.EN != "" {
		return f.Name.EN
	}
	if f.Name.JA != "" {
		return f.Name.JA
	}
	return f.Code
}

// Time formats t in Japan's time zone.
func (p *page) Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(checklist.Tokyo).Format("2006-01-02 15:04")
}

// Answer renders an answer in the page's language.
func (p *page) Answer(it checklist.Item, a checklist.Answer) string {
	s := checklist.AnswerText(it, a, p.Lang)
	if s == "yes" || s == "no" || s == "na" {
		return p.T("answer." + s)
	}
	return s
}

// FY labels a fiscal year.
func (p *page) FY(fy int) string {
	if p.Lang == "en" {
		return "FY" + itoa(fy)
	}
	return checklist.FiscalYearLabel(fy)
}

var consoleFuncs = template.FuncMap{
	"pct":  func(f float64) string { return fmtFloat(f, 1) + "%" },
	"num":  func(f float64) string { return fmtFloat(f, 1) },
	"rate": func(f float64) string { return fmtFloat(100*f, 0) + "%" },
	"signed": func(f float64) string {
		if f > 0 {
			return "+" + fmtFloat(f, 1)
		}
		return fmtFloat(f, 1)
	},
	"add":    func(a, b int) int { return a + b },
	"list":   func(s ...string) []string { return s },
	"has":    func(s []string, v string) bool { return slices.Contains(s, v) },
	"hasInt": func(s []int, v int) bool { return slices.Contains(s, v) },
	// pair hands a partial template the page and its own data.
	"pair": func(p *page, d any) struct {
		P *page
		D any
	} {
		return struct {
			P *page
			D any
		}{p, d}
	},
}

var (
	consoleTmplOnce sync.Once
	consoleTmpl     map[string]*template.Template
	consoleTmplErr  error
)

// consoleTemplates parses every page once: the layout plus the page.
func consoleTemplates() (map[string]*template.Template, error) {
	consoleTmplOnce.Do(func() {
		fsys := console.Templates()
		names, err := fs.Glob(fsys, "templates/*.html")
		if err != nil {
			consoleTmplErr = err
			return
		}
		layout, err := template.New("layout.html").Funcs(consoleFuncs).ParseFS(fsys, "templates/layout.html")
		if err != nil {
			consoleTmplErr = err
			return
		}
		consoleTmpl = map[string]*template.Template{}
		for _, n := range names {
			base := strings.TrimPrefix(n, "templates/")
			if base == "layout.html" {
				continue
			}
			t, err := template.Must(layout.Clone()).ParseFS(fsys, n)
			if err != nil {
				consoleTmplErr = err
				return
			}
			consoleTmpl[base] = t
		}
	})
	return consoleTmpl, consoleTmplErr
}

// render writes a console page: the layout around template name.
func (s *Server) render(c *gin.Context, status int, name, titleKey string, data any) {
	ts, err := consoleTemplates()
	if err != nil {
		respondError(c, err)
		return
	}
	t := ts[name]
	if t == nil {
		respondError(c, errors.New("no console template "+name))
		return
	}
	p := &page{Lang: s.consoleLang(c), Data: data, Path: c.Request.URL.Path, Now: s.now()}
	p.Title = p.T(titleKey)
	p.Nav = strings.TrimSuffix(name, ".html")
	q := c.Request.URL.Query()
	if p.Lang == "ja" {
		q.Set("lang", "en")
	} else {
		q.Set("lang", "ja")
	}
	p.OtherQ = q.Encode()
	if v, ok := c.Get(consoleKey); ok {
		cs := v.(*consoleSession)
		p.CSRF = cs.CSRF
		if cs.User.ID != "" {
			p.User = &cs.User
			p.Staff = cs.User.Role == checklist.RoleReviewer || cs.User.Role == checklist.RoleAdmin
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		respondError(c, err)
		return
	}
	c.Header("Cache-Control", "private, no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

type consoleErrorView struct {
	Message string // a message key
	Detail  string
}

// consoleError renders err as a page, with the status the API would give.
func (s *Server) consoleError(c *gin.Context, err error) {
	code := checklist.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok || code == checklist.EInternal {
		logger(c).Error("internal error", slog.String("error", err.Error()))
		s.render(c, http.StatusInternalServerError, "error.html", "error.title", consoleErrorView{Message: "error.internal"})
		c.Abort()
		return
	}
	v := consoleErrorView{Message: "error." + string(code)}
	var e *checklist.Error
	if errors.As(err, &e) {
		v.Detail = e.Message
	}
	s.render(c, status, "error.html", "error.title", v)
	c.Abort()
}

// consoleOf returns the request's console session.
func consoleOf(c *gin.Context) *consoleSession {
	v, _ := c.Get(consoleKey)
	cs, _ := v.(*consoleSession)
	return cs
}
