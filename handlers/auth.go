package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"tenken/auth"
	"tenken/checklist"
)

// SessionStore keeps refresh tokens and their sessions (token families).
type SessionStore interface {
	StartSession(ctx context.Context, first checklist.RefreshToken) error
	// ConsumeRefreshToken uses up use.Token and records use as what it
	// issued; replayed is true when the token had been used up less than
	// checklist.RefreshReuseGrace before by a use whose successor is still
	// unused: the returned use is that earlier one, to answer again.
	ConsumeRefreshToken(ctx context.Context, use checklist.RefreshUse) (issued checklist.RefreshUse, replayed bool, err error)
	FindRefreshToken(ctx context.Context, hash string) (checklist.RefreshToken, error)
	RevokeSession(ctx context.Context, family string) error
}

// authenticate requires a valid bearer access token and keeps the
// caller's auth.Principal in the request's state. The token carries the
// role and facilities; auth.Credentials refuses it once the account has
// changed since it was issued, or is disabled.
func (s *Server) authenticate(c *gin.Context) {
	scheme, token, _ := strings.Cut(c.GetHeader("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		c.Header("WWW-Authenticate", `Bearer realm="tenken"`)
		respondError(c, checklist.Errorf(checklist.EUnauthorized, "send an access token: Authorization: Bearer <token>"))
		return
	}
	p, err := s.tokens.Verify(strings.TrimSpace(token))
	if err != nil {
		logger(c).Info("access token refused", slog.String("reason", err.Error()))
		c.Header("WWW-Authenticate", `Bearer realm="tenken", error="invalid_token"`)
		respondError(c, checklist.Errorf(checklist.EUnauthorized, "the access token is not valid or has expired"))
		return
	}
	if err := s.credentials.Check(c.Request.Context(), p.UserID, p.IssuedAt); err != nil {
		if checklist.ErrorCode(err) == checklist.EUnauthorized {
			logger(c).Info("access token refused", slog.String("user", p.UserID), slog.String("reason", err.Error()))
			c.Header("WWW-Authenticate", `Bearer realm="tenken", error="invalid_token"`)
		}
		respondError(c, err)
		return
	}
	st := stateOf(c)
	st.principal, st.userID = p, p.UserID
	c.Next()
}

// requireRole lets the request through only for the given roles.
func requireRole(roles ...checklist.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !slices.Contains(roles, principalOf(c).Role) {
			respondError(c, checklist.Errorf(checklist.EForbidden, "this needs the role %v", roles))
			return
		}
		c.Next()
	}
}

// principalOf returns the request's authenticated caller.
func principalOf(c *gin.Context) auth.Principal {
	return stateOf(c).principal
}

// tokenResponse is an OAuth2 token response (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

// maxAuthBody bounds login, refresh and logout bodies.
const maxAuthBody = 8 << 10

func errBadLogin() error {
	return checklist.Errorf(checklist.EUnauthorized, "wrong username or password")
}

// login exchanges a username and password for tokens and starts a session.
func (s *Server) login(c *gin.Context) {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decodeJSONLimit(c, &req, maxAuthBody); err != nil {
		respondError(c, err)
		return
	}
	var p checklist.Problems
	if strings.TrimSpace(req.Username) == "" {
		p.Add("username", "required", "username is required")
	}
	if req.Password == "" {
		p.Add("password", "required", "password is required")
	}
	if err := p.Err("username and password are required"); err != nil {
		respondError(c, err)
		return
	}
	u, wait, err := s.passwordLogin(c, req.Username, req.Password)
	switch {
	case wait > 0:
		respondTooMany(c, wait, "too many failed logins; try again later")
	case errors.Is(err, context.Canceled):
		// The client hung up while its hash waited: nothing was hashed,
		// and there is nobody to answer. 499 is nginx's "client closed
		// request": logged at info level, never as a server error.
		c.AbortWithStatus(499)
	case err != nil:
		respondError(c, err)
	default:
		s.respondTokens(c, u)
	}
}

// passwordLogin checks a sign-in as the API and the console both do: the
// attempt is taken from the account's and the client's throttle buckets
// before the password is hashed, so that concurrent guesses cannot all pass
// before the first failure counts; only failures stay counted. wait > 0
// means throttled (nothing hashed). It logs the outcome.
func (s *Server) passwordLogin(c *gin.Context, username, password string) (checklist.User, time.Duration, error) {
	account, client, now := checklist.NormalizeUsername(username), c.ClientIP(), s.now()
	attempt, wait := s.throttle.take(now, account, client)
	if wait > 0 {
		logger(c).Warn("login throttled", slog.String("username", account), slog.String("client", client))
		return checklist.User{}, wait, nil
	}
	u, err := s.checkCredentials(c.Request.Context(), account, password)
	if err != nil {
		if checklist.ErrorCode(err) == checklist.EUnauthorized {
			attempt.failed()
			logger(c).Info("login failed", slog.String("username", account), slog.String("client", client))
		} else {
			attempt.undone(s.now())
		}
		if errors.Is(err, context.Canceled) {
			logger(c).Info("login dropped: the client closed the connection", slog.String("username", account))
		}
		return checklist.User{}, 0, err
	}
	attempt.succeeded(s.now())
	setUser(c, u.ID)
	return u, 0, nil
}

// checkCredentials returns the enabled user with username and password.
// Every failure is the same EUnauthorized and costs one password hash.
func (s *Server) checkCredentials(ctx context.Context, username, password string) (checklist.User, error) {
	u, hash, err := s.store.FindCredentials(ctx, username)
	switch checklist.ErrorCode(err) {
	case "":
	case checklist.ENotFound:
		hash = "" // checked against a dummy: as slow as a wrong password
	default:
		return checklist.User{}, err
	}
	var ok bool
	var hashErr error
	if err := s.throttle.hashes.do(ctx, func() { ok, hashErr = auth.CheckPassword(hash, password) }); err != nil {
		return checklist.User{}, err
	}
	if hashErr != nil {
		return checklist.User{}, fmt.Errorf("user %s: %w", u.ID, hashErr)
	}
	if !ok || u.Disabled {
		return checklist.User{}, errBadLogin()
	}
	return u, nil
}

// refresh rotates a refresh token: the presented one is used up and a new
// pair is issued with the user's current role and facilities.
//
// A token used up less than checklist.RefreshReuseGrace ago, whose
// successor has not been used yet, gets the pair its first use issued: the
// client is retrying because that answer was lost (a tablet on a poor
// network). The pair is the same one, not a new one, so a retry mints
// nothing and leaves one live successor in the family. Every other reuse
// revokes the session (ConsumeRefreshToken).
func (s *Server) refresh(c *gin.Context) {
	token, ok := s.decodeRefreshToken(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	t, err := s.store.FindRefreshToken(ctx, auth.HashRefreshToken(token))
	if err != nil {
		respondError(c, err)
		return
	}
	now := s.now()
	if t.Expired(now) {
		respondError(c, checklist.Errorf(checklist.EUnauthorized, "the refresh token has expired; log in again"))
		return
	}
	// Checked before the token is used up, because a recorded use means a
	// pair was issued (a retry would get it). A refused refresh ends the
	// session: a disabled account stays signed out when it is enabled again.
	u, err := s.store.FindUser(ctx, t.UserID)
	if checklist.ErrorCode(err) == checklist.ENotFound || err == nil && u.Disabled {
		if err := s.store.RevokeSession(ctx, t.Family); err != nil {
			respondError(c, err)
			return
		}
		err = checklist.Errorf(checklist.EUnauthorized, "the account is disabled")
	}
	if err != nil {
		respondError(c, err)
		return
	}
	grant, err := auth.NewRefreshGrant()
	if err != nil {
		respondError(c, err)
		return
	}
	next, nextHash := auth.DeriveRefreshToken(token, grant)
	use, replayed, err := s.store.ConsumeRefreshToken(ctx, checklist.RefreshUse{
		Token: t, UsedAt: now, Grant: grant, AccessID: uuid.NewString(),
		Next: checklist.RefreshToken{Hash: nextHash, Family: t.Family, UserID: t.UserID, IssuedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL)},
	})
	if err != nil {
		if checklist.ErrorCode(err) == checklist.EUnauthorized {
			logger(c).Warn("refresh refused", slog.String("family", t.Family), slog.String("reason", err.Error()))
		}
		respondError(c, err)
		return
	}
	setUser(c, u.ID)
	if replayed {
		next, nextHash = auth.DeriveRefreshToken(token, use.Grant)
		if nextHash != use.Next.Hash {
			respondError(c, fmt.Errorf("refresh replay in family %s: the derived successor does not match the recorded one", t.Family))
			return
		}
		logger(c).Info("refresh token presented again within the grace period; its pair is returned again",
			slog.String("family", t.Family), slog.Duration("since_use", now.Sub(use.UsedAt)))
	}
	// The access token is minted from what the use recorded, so a replay
	// returns the same one (same iat, jti, key and claims) unless the
	// user's role or facilities changed in between.
	access, exp, err := s.tokens.IssueAt(u, u.CredentialIssuedAt(use.UsedAt), use.AccessID)
	if err != nil {
		respondError(c, err)
		return
	}
	// A replay late in the grace period may return an access token that
	// has expired (when the access lifetime is shorter than the grace
	// period): it says 0, never a negative count.
	writeTokens(c, access, next, max(0, int(exp.Sub(now.Truncate(time.Second))/time.Second)))
}

// logout ends the session of the presented refresh token. An unknown
// token is answered the same way: there is nothing left to end.
func (s *Server) logout(c *gin.Context) {
	token, ok := s.decodeRefreshToken(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	t, err := s.store.FindRefreshToken(ctx, auth.HashRefreshToken(token))
	switch checklist.ErrorCode(err) {
	case "":
		if err := s.store.RevokeSession(ctx, t.Family); err != nil {
			respondError(c, err)
			return
		}
		setUser(c, t.UserID)
	case checklist.EUnauthorized:
	default:
		respondError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) decodeRefreshToken(c *gin.Context) (string, bool) {
	var req struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := decodeJSONLimit(c, &req, maxAuthBody); err != nil {
		respondError(c, err)
		return "", false
	}
	if req.RefreshToken == "" {
		var p checklist.Problems
		p.Add("refresh_token", "required", "refresh_token is required")
		respondError(c, p.Err("refresh_token is required"))
		return "", false
	}
	return req.RefreshToken, true
}

// respondTokens starts a session for u with a fresh refresh token and
// writes the token response.
func (s *Server) respondTokens(c *gin.Context, u checklist.User) {
	ctx := c.Request.Context()
	refresh, hash, err := auth.NewRefreshToken()
	if err != nil {
		respondError(c, err)
		return
	}
	now := s.now()
	t := checklist.RefreshToken{Hash: hash, Family: uuid.NewString(), UserID: u.ID, IssuedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL)}
	if err := s.store.StartSession(ctx, t); err != nil {
		respondError(c, err)
		return
	}
	access, exp, err := s.tokens.IssueAt(u, u.CredentialIssuedAt(now), uuid.NewString())
	if err != nil {
		respondError(c, err)
		return
	}
	writeTokens(c, access, refresh, int(exp.Sub(now.Truncate(time.Second))/time.Second))
}

// writeTokens writes a token response.
func writeTokens(c *gin.Context, access, refresh string, expiresIn int) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	respondJSON(c, http.StatusOK, tokenResponse{
		AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", ExpiresIn: expiresIn,
	})
}

// me answers who the caller is, read fresh from the database.
func (s *Server) me(c *gin.Context) {
	u, err := s.store.FindUser(c.Request.Context(), principalOf(c).UserID)
	if checklist.ErrorCode(err) == checklist.ENotFound || err == nil && u.Disabled {
		respondError(c, checklist.Errorf(checklist.EUnauthorized, "the account no longer exists or is disabled"))
		return
	}
	if err != nil {
		respondError(c, err)
		return
	}
	respondJSON(c, http.StatusOK, newUserJSON(u))
}

// respondTooMany answers 429 with Retry-After in whole seconds.
func respondTooMany(c *gin.Context, wait time.Duration, msg string) {
	c.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	respondError(c, checklist.Errorf(checklist.ETooManyRequests, "%s", msg))
}
