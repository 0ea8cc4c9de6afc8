package handlers

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// TestStateWriter: behind the requestID middleware a handler finds the
// request's state, and http.ResponseController still reaches the
// server's writer through the writer that carries the state.
func TestStateWriter(t *testing.T) {
	t.Parallel()
	s := &Server{log: slog.New(slog.DiscardHandler)}
	r := gin.New()
	r.Use(s.requestID)
	var deadlineErr error
	var id string
	r.GET("/", func(c *gin.Context) {
		deadlineErr = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(time.Minute))
		setUser(c, "u-1")
		id = requestIDOf(c)
		if got := stateOf(c).userID; got != "u-1" {
			t.Errorf("state's user = %q", got)
		}
		c.Status(http.StatusNoContent)
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("X-Request-ID", "client-chosen-1")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if deadlineErr != nil {
		t.Errorf("SetWriteDeadline through the state writer: %v", deadlineErr)
	}
	if id != "client-chosen-1" || res.Header.Get("X-Request-Id") != id {
		t.Errorf("request id %q, header %q; want the client's", id, res.Header.Get("X-Request-Id"))
	}
}
