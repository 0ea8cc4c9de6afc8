package main

// The save mode (the default): tablets in pairs save a few answers every
// second; see the package comment.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"tenken/checklist"
	"tenken/checklist/checklistfile"

	"tenken/internal/procstat"
)

// tabletFlags are what the save and submit modes share: the server, the
// tablets and their accounts, the checklist they pin, the server's
// process and the latency bound.
type tabletFlags struct {
	url       string
	tablets   int
	duration  time.Duration
	users     []string
	password  string
	checklist string
	version   int
	pid       int
	maxP99    time.Duration
	userList  string // -users before it is split into users
}

// bind defines the flags whose meaning is the same in both modes; each
// mode defines -tablets, -duration, -pid and -max-p99 with its own default
// and help.
func (c *tabletFlags) bind(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&c.url, "url", "http://127.0.0.1:8080", "base URL of a running tenken")
	fs.StringVar(&c.userList, "users", "inspector1,inspector2", "inspector accounts the tablets log in as")
	fs.StringVar(&c.password, "password", getenv("TENKEN_DEMO_PASSWORD"), "their password (default TENKEN_DEMO_PASSWORD)")
	fs.StringVar(&c.checklist, "checklist", "default", "checklist id the inspections pin")
	fs.IntVar(&c.version, "version", 1, "checklist version they pin (its content must be the bundled default)")
}

// parse parses args into fs's flags and checks the shared ones.
func (c *tabletFlags) parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	c.users = strings.Split(c.userList, ",")
	if c.password == "" {
		return errors.New("no password: set TENKEN_DEMO_PASSWORD or -password")
	}
	if c.tablets < 1 {
		return errors.New("-tablets must be at least 1")
	}
	return nil
}

type config struct {
	tabletFlags
	interval time.Duration
	date     string
}

func runSave(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("tenkenload -mode save", flag.ContinueOnError)
	var c config
	c.bind(fs, getenv)
	fs.IntVar(&c.tablets, "tablets", 20, "simulated tablets (two per inspection)")
	fs.DurationVar(&c.duration, "duration", 60*time.Second, "how long tablets save")
	fs.DurationVar(&c.interval, "interval", time.Second, "time between one tablet's saves")
	fs.StringVar(&c.date, "date", checklist.DateOf(time.Now()).String(), "inspection date")
	fs.DurationVar(&c.maxP99, "max-p99", 50*time.Millisecond, "fail when the p99 save latency is above this")
	fs.IntVar(&c.pid, "pid", 0, "the server's process id: prints its CPU time per save and its peak memory")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	return loadTest(ctx, c, stdout)
}

// client is an HTTP client for one user.
type client struct {
	base  string
	token string
	http  *http.Client
}

type reply struct {
	status int
	body   []byte
	etag   string
}

func (cl *client) do(ctx context.Context, method, path string, body any, headers ...string) (reply, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, cl.base+path, rd)
	if err != nil {
		return reply{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.token != "" {
		req.Header.Set("Authorization", "Bearer "+cl.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := cl.http.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return reply{res.StatusCode, data, res.Header.Get("ETag")}, err
}

// login returns a client for username and the facilities it may inspect.
func login(ctx context.Context, base, username, password string, hc *http.Client) (*client, []string, error) {
	cl := &client{base: base, http: hc}
	r, err := cl.do(ctx, "POST", "/v1/auth/login", map[string]string{"username": username, "password": password})
	if err != nil {
		return nil, nil, err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &tok) != nil {
		return nil, nil, fmt.Errorf("log in as %s: %d %s", username, r.status, r.body)
	}
	cl.token = tok.AccessToken
	r, err = cl.do(ctx, "GET", "/v1/me", nil)
	if err != nil {
		return nil, nil, err
	}
	var me struct {
		FacilityIDs []string `json:"facility_ids"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &me) != nil || len(me.FacilityIDs) == 0 {
		return nil, nil, fmt.Errorf("%s has no facilities: %d %s", username, r.status, r.body)
	}
	return cl, me.FacilityIDs, nil
}

// ack is a save the server acknowledged for one item.
type ack struct {
	revision int64
	value    any
}

// stats are the results of all tablets.
type stats struct {
	mu        sync.Mutex
	latencies []time.Duration
	errors    int
	conflicts int
	retries   int
	errorLog  []string
	acks      map[string]map[string]ack // inspection → item → last acknowledged
}

func (s *stats) record(d time.Duration, failed bool, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latencies = append(s.latencies, d)
	if failed {
		s.errors++
		if len(s.errorLog) < 10 {
			s.errorLog = append(s.errorLog, msg)
		}
	}
}

func (s *stats) acknowledge(inspection string, revision int64, answers map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.acks[inspection]
	if m == nil {
		m = map[string]ack{}
		s.acks[inspection] = m
	}
	for item, a := range answers {
		if prev, ok := m[item]; !ok || revision > prev.revision {
			m[item] = ack{revision, a.(map[string]any)["value"]}
		}
	}
}

func loadTest(ctx context.Context, c config, stdout io.Writer) error {
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: c.tablets * 2}}
	type account struct {
		cl         *client
		facilities []string
	}
	var accounts []account
	for _, u := range c.users {
		cl, facs, err := login(ctx, c.url, strings.TrimSpace(u), c.password, hc)
		if err != nil {
			return err
		}
		accounts = append(accounts, account{cl, facs})
	}
	content := checklistfile.Default()
	items := loadItems(content)
	if len(items) < 2 {
		return errors.New("the checklist has too few items to share between two tablets")
	}

	// Pair tablets on inspections; each pair creates its inspection (the
	// second create of a pair is an idempotent retry).
	type tablet struct {
		cl         *client
		inspection string
		items      []checklist.Item
	}
	var tablets []tablet
	pairIDs := map[int]string{}
	for i := range c.tablets {
		pair := i / 2
		acc := accounts[pair%len(accounts)]
		facility := acc.facilities[(pair/len(accounts))%len(acc.facilities)]
		id := pairIDs[pair]
		if id == "" {
			id = uuid.NewString()
			pairIDs[pair] = id
		}
		body := map[string]any{"facility_id": facility, "checklist_id": c.checklist, "version": c.version, "inspection_date": c.date}
		r, err := acc.cl.do(ctx, "PUT", "/v1/inspections/"+id, body)
		if err != nil {
			return err
		}
		if r.status != 201 && r.status != 200 {
			return fmt.Errorf("create inspection: %d %s", r.status, r.body)
		}
		var own []checklist.Item
		for j, it := range items {
			if j%2 == i%2 {
				own = append(own, it)
			}
		}
		tablets = append(tablets, tablet{acc.cl, id, own})
	}

	st := &stats{acks: map[string]map[string]ack{}}
	fmt.Fprintf(stdout, "%d tablets on %d inspections, saving every %v for %v against %s\n",
		len(tablets), (len(tablets)+1)/2, c.interval, c.duration, c.url)
	cpu0, cpuErr := procstat.CPU(c.pid)
	runCtx, cancel := context.WithTimeout(ctx, c.duration)
	defer cancel()
	var wg sync.WaitGroup
	for i, t := range tablets {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			base := int64(1)
			var pending map[string]any // a save to retry with its key
			var pendingKey string
			// Spread the tablets over the interval.
			select {
			case <-time.After(time.Duration(rng.Int64N(int64(c.interval)))):
			case <-runCtx.Done():
				return
			}
			tick := time.NewTicker(c.interval)
			defer tick.Stop()
			for {
				answers, key := pending, pendingKey
				if answers == nil {
					answers, key = map[string]any{}, uuid.NewString()
					for range 1 + rng.IntN(3) {
						it := t.items[rng.IntN(len(t.items))]
						answers[it.Key] = map[string]any{"value": randomValue(it, rng)}
					}
				} else {
					st.mu.Lock()
					st.retries++
					st.mu.Unlock()
				}
				body := map[string]any{"base_revision": base, "answers": answers}
				start := time.Now()
				r, err := t.cl.do(context.Background(), "PATCH", "/v1/inspections/"+t.inspection, body, "Idempotency-Key", key)
				d := time.Since(start)
				switch {
				case err != nil:
					st.record(d, true, err.Error())
					pending, pendingKey = answers, key
				case r.status == 200:
					st.record(d, false, "")
					var v struct {
						Revision int64 `json:"revision"`
					}
					_ = json.Unmarshal(r.body, &v)
					st.acknowledge(t.inspection, v.Revision, answers)
					base, pending = v.Revision, nil
				case r.status == 409:
					st.record(d, false, "")
					st.mu.Lock()
					st.conflicts++
					st.mu.Unlock()
					var p struct {
						Current struct {
							Revision int64 `json:"revision"`
						} `json:"current"`
					}
					_ = json.Unmarshal(r.body, &p)
					base, pending = p.Current.Revision, nil
				default:
					st.record(d, true, fmt.Sprintf("%d %s", r.status, r.body))
					pending, pendingKey = answers, key
				}
				select {
				case <-tick.C:
				case <-runCtx.Done():
					return
				}
			}
		})
	}
	wg.Wait()
	cpu1, _ := procstat.CPU(c.pid)

	// Every acknowledged answer must be what the server holds now.
	lost := 0
	var lostLog []string
	for id, items := range st.acks {
		cl := tablets[0].cl
		for _, t := range tablets {
			if t.inspection == id {
				cl = t.cl
			}
		}
		r, err := cl.do(ctx, "GET", "/v1/inspections/"+id, nil)
		if err != nil || r.status != 200 {
			return fmt.Errorf("read back %s: %v %d", id, err, r.status)
		}
		var v struct {
			Answers map[string]struct {
				Value    any   `json:"value"`
				Revision int64 `json:"revision"`
			} `json:"answers"`
		}
		if err := json.Unmarshal(r.body, &v); err != nil {
			return err
		}
		for item, a := range items {
			got, ok := v.Answers[item]
			// Values, not revisions: a later save of the same value is no
			// change and keeps the earlier revision.
			if !ok || fmt.Sprint(got.Value) != fmt.Sprint(a.value) {
				lost++
				if len(lostLog) < 10 {
					lostLog = append(lostLog, fmt.Sprintf("%s %s: acknowledged %v at revision %d, stored %v at %d", id, item, a.value, a.revision, got.Value, got.Revision))
				}
			}
		}
	}

	slices.Sort(st.latencies)
	pct := func(p float64) time.Duration {
		if len(st.latencies) == 0 {
			return 0
		}
		return st.latencies[min(len(st.latencies)-1, int(p*float64(len(st.latencies))))]
	}
	acked := 0
	for _, m := range st.acks {
		acked += len(m)
	}
	p99 := pct(0.99)
	fmt.Fprintf(stdout, "saves: %d (%.1f/s), errors: %d, retried: %d, conflicts: %d\n",
		len(st.latencies), float64(len(st.latencies))/c.duration.Seconds(), st.errors, st.retries, st.conflicts)
	fmt.Fprintf(stdout, "latency: p50 %v  p90 %v  p99 %v  max %v\n",
		pct(0.50).Round(100*time.Microsecond), pct(0.90).Round(100*time.Microsecond), p99.Round(100*time.Microsecond), pct(1).Round(100*time.Microsecond))
	fmt.Fprintf(stdout, "answers acknowledged: %d items, lost: %d\n", acked, lost)
	if c.pid > 0 && cpuErr == nil && len(st.latencies) > 0 {
		cpu := cpu1 - cpu0
		fmt.Fprintf(stdout, "server CPU: %.2f s, %.2f ms per save\n", cpu.Seconds(), float64(cpu.Microseconds())/1000/float64(len(st.latencies)))
	}
	if c.pid > 0 {
		if rss, peak, err := procstat.Memory(c.pid); err == nil {
			fmt.Fprintf(stdout, "server memory: RSS %d MB, peak %d MB\n", rss>>10, peak>>10)
		}
	}
	for _, l := range append(st.errorLog, lostLog...) {
		fmt.Fprintln(stdout, "  ", l)
	}
	switch {
	case lost > 0:
		return fmt.Errorf("%d acknowledged answers lost", lost)
	case st.errors > 0:
		return fmt.Errorf("%d requests failed", st.errors)
	case p99 > c.maxP99:
		return fmt.Errorf("p99 %v is over %v", p99, c.maxP99)
	}
	return nil
}

// loadItems returns the items tablets may change at will: the ones no
// show-if depends on and that depend on none, of the types that take a
// generated value.
func loadItems(c checklist.Content) []checklist.Item {
	targets := map[string]bool{}
	for _, it := range c.Items() {
		if it.ShowIf != nil {
			targets[it.ShowIf.Item] = true
		}
	}
	var out []checklist.Item
	for _, it := range c.Items() {
		if it.ShowIf != nil || targets[it.Key] || it.Type == checklist.TypePhoto {
			continue
		}
		out = append(out, it)
	}
	return out
}

// randomValue is a valid answer value for it.
func randomValue(it checklist.Item, rng *rand.Rand) any {
	switch it.Type {
	case checklist.TypeYesNo:
		if it.AllowNA && rng.IntN(10) == 0 {
			return "na"
		}
		return []string{"yes", "no"}[rng.IntN(2)]
	case checklist.TypeRating:
		return 1 + rng.IntN(len(it.Scale))
	case checklist.TypeSingleChoice:
		return it.Options[rng.IntN(len(it.Options))].Key
	case checklist.TypeMultiChoice:
		var keys []string
		for _, o := range it.Options {
			if !o.Exclusive && rng.IntN(2) == 0 {
				keys = append(keys, o.Key)
			}
		}
		if len(keys) == 0 {
			keys = []string{it.Options[0].Key}
		}
		return keys
	case checklist.TypeNumber:
		lo, hi := 0.0, 100.0
		if n := it.Number; n != nil {
			if n.Min != nil {
				lo = *n.Min
			}
			if n.Max != nil {
				hi = *n.Max
			}
		}
		return int(lo) + rng.IntN(int(hi-lo)+1)
	}
	return fmt.Sprintf("メモ %d", rng.IntN(1000))
}
