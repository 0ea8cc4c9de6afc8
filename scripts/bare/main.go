// Command bare is the yardstick of scripts/download.sh: Gin with no
// middleware and one handler on the version download's route, answering
// with the bytes and headers a running tenken answered with, replayed from
// memory. Only Date is the server's own (net/http writes it); the
// X-Request-Id is tenken's first one, replayed, so the responses are the
// same size.
//
//	go run ./scripts/bare -from http://127.0.0.1:8080/v1/checklists/default/versions/1 \
//	    -token "$TOKEN" -addr 127.0.0.1:8081
//
// The http.Server has serve's timeouts, which set per-connection deadlines
// on every request: the comparison is of what happens inside the handler
// chain, not of the server's settings.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
)

func main() {
	from := flag.String("from", "", "the version download URL on a running tenken")
	token := flag.String("token", os.Getenv("TOKEN"), "an access token for it (env TOKEN)")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile (pprof) until SIGTERM or SIGINT to this file")
	flag.Parse()
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		// download.sh ends bare with SIGTERM: stop the profile then.
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		go func() {
			<-sig
			stop()
			os.Exit(0)
		}()
	}
	if err := run(*from, *token, *addr); err != nil {
		log.Fatal(err)
	}
}

func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// response is one captured answer: its headers and body as sent.
type response struct {
	header http.Header
	body   []byte
}

func fetch(url, token, encoding string) (response, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept-Encoding", encoding)
	// DisableCompression: the body is kept as sent, not inflated.
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, err
	}
	if res.StatusCode != http.StatusOK {
		return response{}, fmt.Errorf("GET %s (%s): %s: %s", url, encoding, res.Status, body)
	}
	res.Header.Del("Date")
	return response{res.Header, body}, nil
}

func run(from, token, addr string) error {
	plain, err := fetch(from, token, "identity")
	if err != nil {
		return err
	}
	gz, err := fetch(from, token, "gzip")
	if err != nil {
		return err
	}
	if gz.header.Get("Content-Encoding") != "gzip" {
		return fmt.Errorf("%s does not gzip: nothing to compare the gzip side with", from)
	}
	etag := plain.header.Get("ETag")

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/v1/checklists/:id/versions/:n", func(c *gin.Context) {
		res := plain
		if strings.Contains(c.GetHeader("Accept-Encoding"), "gzip") {
			res = gz
		}
		h := c.Writer.Header()
		for k, v := range res.header {
			h[k] = v
		}
		if c.GetHeader("If-None-Match") == etag {
			delete(h, "Content-Length")
			delete(h, "Content-Type")
			delete(h, "Content-Encoding")
			c.Status(http.StatusNotModified)
			return
		}
		c.Status(http.StatusOK)
		_, _ = c.Writer.Write(res.body)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("bare listening on http://%s\n", ln.Addr())
	srv := &http.Server{ // serve's settings (cmd/tenken/serve.go)
		Handler:           r,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	return srv.Serve(ln)
}
