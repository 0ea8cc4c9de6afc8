package main

// The mixed mode (formerly tenkenmix): tablets and reviewers at once; see
// the package comment.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

type mixConfig struct {
	base        *url.URL
	user, pass  string
	tablets     int
	reviewers   int
	duration    time.Duration
	saveEvery   time.Duration
	maxRequests int64
	checklist   string   // "id:version" when the server has no manifest
	items       []string // item keys to answer when the content is not served
}

func parseMixedFlags(args []string, getenv func(string) string) (mixConfig, error) {
	fs := flag.NewFlagSet("tenkenload -mode mixed", flag.ContinueOnError)
	base := fs.String("base", "http://127.0.0.1:8080", "server base URL (loopback only)")
	fs.StringVar(base, "url", "http://127.0.0.1:8080", "the same as -base")
	var c mixConfig
	fs.StringVar(&c.user, "user", "admin", "admin username; its password comes from TENKEN_LOAD_PASSWORD or TENKEN_DEMO_PASSWORD")
	fs.IntVar(&c.tablets, "tablets", 20, "simulated tablets, each with its own inspector, facility and inspection (1..500)")
	fs.IntVar(&c.reviewers, "reviewers", 2, "simulated reviewers (0..50)")
	fs.DurationVar(&c.duration, "duration", 60*time.Second, "how long the workload runs (at most 10m)")
	fs.DurationVar(&c.saveEvery, "save-every", time.Second, "interval between a tablet's saves")
	fs.Int64Var(&c.maxRequests, "max-requests", 1_000_000, "stop after this many requests")
	fs.StringVar(&c.checklist, "checklist", "", "checklist id:version to inspect against when the server serves no manifest")
	items := fs.String("items", "", "comma-separated item keys to answer when the server does not serve the checklist content")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	c.pass = getenv("TENKEN_LOAD_PASSWORD")
	if c.pass == "" {
		c.pass = getenv("TENKEN_DEMO_PASSWORD")
	}
	if c.pass == "" {
		return c, errors.New("set TENKEN_LOAD_PASSWORD (or TENKEN_DEMO_PASSWORD) to the password of -user")
	}
	if *items != "" {
		c.items = strings.Split(*items, ",")
	}
	switch {
	case c.tablets < 1 || c.tablets > 500:
		return c, errors.New("-tablets must be 1..500")
	case c.reviewers < 0 || c.reviewers > 50:
		return c, errors.New("-reviewers must be 0..50")
	case c.duration <= 0 || c.duration > 10*time.Minute:
		return c, errors.New("-duration must be more than 0 and at most 10m")
	case c.saveEvery < 10*time.Millisecond:
		return c, errors.New("-save-every must be at least 10ms")
	case c.maxRequests < 1:
		return c, errors.New("-max-requests must be positive")
	}
	u, err := url.Parse(*base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("-base %q is not an http(s) URL", *base)
	}
	if err := loopbackOnly(u.Hostname()); err != nil {
		return c, err
	}
	c.base = u
	return c, nil
}

// loopbackOnly refuses any host that is not this machine: a load tool
// pointed at someone else's server is an attack.
func loopbackOnly(host string) error {
	ips, err := net.LookupIP(host)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", host, err)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("%s resolves to %s, which is not loopback; tenkenload only loads this machine", host, ip)
		}
	}
	return nil
}

func runMixed(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	c, err := parseMixedFlags(args, getenv)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()

	l := &loader{cfg: c, stats: map[string]*opStats{}, client: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: c.tablets + c.reviewers + 4},
	}}
	fmt.Fprintf(stdout, "tenkenload -mode mixed: %d tablets (a save every %s), %d reviewers, %s, against %s\n",
		c.tablets, c.saveEvery, c.reviewers, c.duration, c.base)

	setupStart := time.Now()
	plan, err := l.setup(ctx)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	fmt.Fprintf(stdout, "setup: %d facilities and users in %s; checklist %s\n", c.tablets, time.Since(setupStart).Round(time.Millisecond), plan.describe())
	l.resetStats() // setup is not the workload

	runCtx, cancel := context.WithTimeout(ctx, c.duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range c.tablets {
		wg.Go(func() { l.tablet(runCtx, plan, i) })
	}
	for i := range c.reviewers {
		wg.Go(func() { l.reviewer(runCtx, plan, i) })
	}
	wg.Wait()
	l.report(stdout, time.Since(start))
	if n := l.errors(); n > 0 {
		return fmt.Errorf("%d requests failed", n)
	}
	return nil
}

// loader sends requests and records their latency per operation.
type loader struct {
	cfg    mixConfig
	client *http.Client
	sent   atomic.Int64

	mu    sync.Mutex
	stats map[string]*opStats
}

type opStats struct {
	latencies []time.Duration
	errors    int
	lastError string
}

func (l *loader) resetStats() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stats = map[string]*opStats{}
}

func (l *loader) record(op string, d time.Duration, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats[op]
	if s == nil {
		s = &opStats{}
		l.stats[op] = s
	}
	s.latencies = append(s.latencies, d)
	if err != nil {
		s.errors++
		s.lastError = err.Error()
	}
}

func (l *loader) errors() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.stats {
		n += s.errors
	}
	return n
}

var errBudget = errors.New("request budget spent")

// call sends one request as op and decodes a JSON answer into out. A
// status other than want is an error. The status is returned.
func (l *loader) call(ctx context.Context, op, token, method, path string, body, out any, want ...int) (int, http.Header, error) {
	if l.sent.Add(1) > l.cfg.maxRequests {
		return 0, nil, errBudget
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, l.cfg.base.JoinPath(path).String(), rd)
	if err != nil {
		return 0, nil, err
	}
	if strings.Contains(path, "?") { // JoinPath escapes the query
		u := *l.cfg.base
		p, q, _ := strings.Cut(path, "?")
		u.Path, u.RawQuery = strings.TrimSuffix(u.Path, "/")+p, q
		req.URL = &u
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	res, err := l.client.Do(req)
	var data []byte
	if err == nil {
		data, err = io.ReadAll(res.Body)
		res.Body.Close()
	}
	if err != nil && ctx.Err() != nil {
		// The run ended mid-request, before or while the answer was
		// read: not a server error.
		return 0, nil, ctx.Err()
	}
	if res == nil {
		l.record(op, time.Since(start), err)
		return 0, nil, err
	}
	elapsed := time.Since(start)
	if err == nil && len(want) > 0 && !contains(want, res.StatusCode) {
		err = fmt.Errorf("%s %s: %d %.200s", method, path, res.StatusCode, data)
	}
	if err == nil && out != nil && res.StatusCode < 300 {
		if jerr := json.Unmarshal(data, out); jerr != nil {
			err = fmt.Errorf("%s %s: %w", method, path, jerr)
		}
	}
	l.record(op, elapsed, err)
	return res.StatusCode, res.Header, err
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// plan is what setup prepared: an inspector and a facility per tablet,
// a reviewer, and what to answer.
type plan struct {
	runID       string
	password    string
	inspectors  []string // usernames, one per tablet
	facilities  []string // ids, one per tablet
	reviewers   []string
	checklistID string
	version     int
	versionURL  string
	answers     []answerPlan // one is saved per tick, round robin
	inspections bool         // the server has the inspections API
}

type answerPlan struct {
	key   string
	value func(n int) any
}

func (p *plan) describe() string {
	switch {
	case !p.inspections:
		return p.checklistID + " downloaded, but this server has no inspections API: tablets log in, list and sync"
	case p.checklistID == "":
		return "none published: tablets log in, list and sync but create no inspections"
	case p.versionURL != "":
		return fmt.Sprintf("%s v%d from the manifest, %d answerable items", p.checklistID, p.version, len(p.answers))
	}
	return fmt.Sprintf("%s v%d (given), %d items answered with comments", p.checklistID, p.version, len(p.answers))
}

func (l *loader) setup(ctx context.Context) (*plan, error) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	p := &plan{runID: hex.EncodeToString(b), password: "load-" + hex.EncodeToString(b) + "-pass"}
	var tk struct {
		AccessToken string `json:"access_token"`
	}
	if _, _, err := l.call(ctx, "setup", "", "POST", "/v1/auth/login", map[string]string{"username": l.cfg.user, "password": l.cfg.pass}, &tk, 200); err != nil {
		return nil, err
	}
	admin := tk.AccessToken
	for i := range l.cfg.tablets {
		var f struct {
			ID string `json:"id"`
		}
		code := fmt.Sprintf("LOAD-%s-%03d", strings.ToUpper(p.runID), i)
		body := map[string]any{"code": code, "kind": "public_hall", "name": map[string]string{"ja": "負荷試験 " + code, "en": "Load " + code}}
		if _, _, err := l.call(ctx, "setup", admin, "POST", "/v1/facilities", body, &f, 201); err != nil {
			return nil, err
		}
		name := fmt.Sprintf("load-%s-t%03d", p.runID, i)
		user := map[string]any{"username": name, "role": "inspector", "password": p.password, "facility_ids": []string{f.ID}}
		if _, _, err := l.call(ctx, "setup", admin, "POST", "/v1/users", user, nil, 201); err != nil {
			return nil, err
		}
		p.facilities, p.inspectors = append(p.facilities, f.ID), append(p.inspectors, name)
	}
	for i := range max(l.cfg.reviewers, 0) {
		name := fmt.Sprintf("load-%s-r%02d", p.runID, i)
		if _, _, err := l.call(ctx, "setup", admin, "POST", "/v1/users", map[string]any{"username": name, "role": "reviewer", "password": p.password}, nil, 201); err != nil {
			return nil, err
		}
		p.reviewers = append(p.reviewers, name)
	}
	status, _, err := l.call(ctx, "setup", admin, "GET", "/v1/inspections?limit=1", nil, nil, 200, 404)
	if err != nil {
		return nil, err
	}
	p.inspections = status == 200
	return p, l.findChecklist(ctx, admin, p)
}

// findChecklist takes the default version from the manifest and its
// content from the version URL; without a manifest it uses -checklist and
// -items.
func (l *loader) findChecklist(ctx context.Context, admin string, p *plan) error {
	var m struct {
		Default *struct {
			ChecklistID string `json:"checklist_id"`
			Version     int    `json:"version"`
			URL         string `json:"url"`
		} `json:"default"`
	}
	status, _, err := l.call(ctx, "setup", admin, "GET", "/v1/checklists/manifest", nil, &m, 200, 404)
	if err != nil {
		return err
	}
	if status == 200 && m.Default != nil {
		p.checklistID, p.version, p.versionURL = m.Default.ChecklistID, m.Default.Version, m.Default.URL
		var v struct {
			Content content `json:"content"`
			content
		}
		if _, _, err := l.call(ctx, "setup", admin, "GET", p.versionURL, nil, &v, 200); err != nil {
			return err
		}
		c := v.Content
		if len(c.Sections) == 0 {
			c = v.content
		}
		p.answers = c.answerPlans()
		if len(p.answers) == 0 {
			return fmt.Errorf("checklist %s v%d has no item tenkenload can answer", p.checklistID, p.version)
		}
		return nil
	}
	if l.cfg.checklist == "" {
		return nil
	}
	id, n, ok := strings.Cut(l.cfg.checklist, ":")
	version, err := strconv.Atoi(n)
	if !ok || err != nil {
		return fmt.Errorf("-checklist %q is not id:version", l.cfg.checklist)
	}
	if len(l.cfg.items) == 0 {
		return errors.New("-checklist needs -items when the server serves no checklist content")
	}
	p.checklistID, p.version = id, version
	for _, key := range l.cfg.items {
		p.answers = append(p.answers, answerPlan{key: key, value: func(int) any { return nil }})
	}
	return nil
}

// content is the part of a checklist version the mixed mode reads.
type content struct {
	Sections []struct {
		Items []struct {
			Key     string `json:"key"`
			Type    string `json:"type"`
			AllowNA bool   `json:"allow_na"`
			Scale   []any  `json:"scale"`
			Options []struct {
				Key       string `json:"key"`
				Exclusive bool   `json:"exclusive"`
			} `json:"options"`
			Number *struct {
				Min *float64 `json:"min"`
			} `json:"number"`
			ShowIf any `json:"show_if"`
		} `json:"items"`
	} `json:"sections"`
}

// answerPlans gives a valid changing value for each item that is always
// shown: what an inspector working through the list would send.
func (c content) answerPlans() []answerPlan {
	var out []answerPlan
	for _, s := range c.Sections {
		for _, it := range s.Items {
			if it.ShowIf != nil {
				continue
			}
			var v func(n int) any
			switch it.Type {
			case "yes_no":
				v = func(n int) any { return []string{"yes", "no"}[n%2] }
			case "rating":
				k := len(it.Scale)
				v = func(n int) any { return 1 + n%max(k, 1) }
			case "single_choice":
				if len(it.Options) > 0 {
					key := it.Options[0].Key
					v = func(int) any { return key }
				}
			case "multi_choice":
				for _, o := range it.Options {
					if !o.Exclusive {
						key := o.Key
						v = func(int) any { return []string{key} }
						break
					}
				}
			case "number":
				base := 0.0
				if it.Number != nil && it.Number.Min != nil {
					base = *it.Number.Min
				}
				v = func(int) any { return base }
			case "text":
				v = func(n int) any { return fmt.Sprintf("点検メモ %d", n) }
			}
			if v != nil {
				out = append(out, answerPlan{key: it.Key, value: v})
			}
		}
	}
	return out
}

func (l *loader) login(ctx context.Context, op, user, pass string) (string, error) {
	var tk struct {
		AccessToken string `json:"access_token"`
	}
	_, _, err := l.call(ctx, op, "", "POST", "/v1/auth/login", map[string]string{"username": user, "password": pass}, &tk, 200)
	return tk.AccessToken, err
}

// tablet is one inspector's device.
func (l *loader) tablet(ctx context.Context, p *plan, i int) {
	token, err := l.login(ctx, "login", p.inspectors[i], p.password)
	if err != nil {
		return
	}
	etag := ""
	if p.versionURL != "" {
		_, _, _ = l.call(ctx, "manifest", token, "GET", "/v1/checklists/manifest", nil, nil, 200)
		_, h, _ := l.call(ctx, "checklist download", token, "GET", p.versionURL, nil, nil, 200)
		etag = h.Get("ETag")
		_ = etag
	}
	_, _, _ = l.call(ctx, "facilities list", token, "GET", "/v1/facilities", nil, nil, 200)
	if p.checklistID == "" || !p.inspections {
		l.idle(ctx, p, token)
		return
	}
	id := newUUID()
	var in struct {
		Revision int64 `json:"revision"`
	}
	body := map[string]any{"facility_id": p.facilities[i], "checklist_id": p.checklistID, "version": p.version, "inspection_date": time.Now().Format("2006-01-02")}
	if _, _, err := l.call(ctx, "inspection create", token, "PUT", "/v1/inspections/"+id, body, &in, 201); err != nil {
		return
	}
	// Tablets start spread over one interval, as real ones would.
	tick := time.NewTicker(l.cfg.saveEvery)
	defer tick.Stop()
	if !sleep(ctx, time.Duration(i)*l.cfg.saveEvery/time.Duration(l.cfg.tablets)) {
		return
	}
	for n := 0; ; n++ {
		a := p.answers[n%len(p.answers)]
		answer := map[string]any{"value": a.value(n), "comment": fmt.Sprintf("tablet %d save %d", i, n)}
		// Each save carries its own id, as a tablet's does so that a
		// retry after a lost answer is applied once.
		save := map[string]any{"base_revision": in.Revision, "save_id": newUUID(), "answers": map[string]any{a.key: answer}}
		_, _, err := l.call(ctx, "inspection save", token, "PATCH", "/v1/inspections/"+id, save, &in, 200)
		if errors.Is(err, errBudget) {
			return
		}
		if n%10 == 9 {
			_, _, _ = l.call(ctx, "sync", token, "GET", "/v1/sync", nil, nil, 200)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// idle keeps a tablet without inspections listing and syncing.
func (l *loader) idle(ctx context.Context, p *plan, token string) {
	for ctx.Err() == nil {
		op, path := "sync", "/v1/sync"
		if !p.inspections {
			op, path = "facilities list", "/v1/facilities"
		}
		_, _, err := l.call(ctx, op, token, "GET", path, nil, nil, 200)
		if errors.Is(err, errBudget) || !sleep(ctx, l.cfg.saveEvery) {
			return
		}
	}
}

// reviewer pages through inspections and facilities and opens single
// inspections, twice a second.
func (l *loader) reviewer(ctx context.Context, p *plan, i int) {
	token, err := l.login(ctx, "login", p.reviewers[i], p.password)
	if err != nil {
		return
	}
	for n := 0; ctx.Err() == nil; n++ {
		var list struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		if p.inspections {
			_, _, err := l.call(ctx, "review list", token, "GET", "/v1/inspections?limit=50", nil, &list, 200)
			if errors.Is(err, errBudget) {
				return
			}
		}
		if len(list.Items) > 0 {
			_, _, _ = l.call(ctx, "review read", token, "GET", "/v1/inspections/"+list.Items[n%len(list.Items)].ID, nil, nil, 200)
		}
		if n%5 == 0 || !p.inspections {
			_, _, _ = l.call(ctx, "facilities list", token, "GET", "/v1/facilities?limit=200", nil, nil, 200)
		}
		if !sleep(ctx, 500*time.Millisecond) {
			return
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// report prints one line per operation and a total.
func (l *loader) report(w io.Writer, elapsed time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ops := make([]string, 0, len(l.stats))
	for op := range l.stats {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\trequests\terrors\treq/s\tp50 ms\tp99 ms\tmax ms\t")
	var all []time.Duration
	errs := 0
	var lastErrs []string
	for _, op := range ops {
		s := l.stats[op]
		all = append(all, s.latencies...)
		errs += s.errors
		if s.lastError != "" {
			lastErrs = append(lastErrs, op+": "+s.lastError)
		}
		writeRow(tw, op, s.latencies, s.errors, elapsed)
	}
	writeRow(tw, "all", all, errs, elapsed)
	tw.Flush()
	fmt.Fprintf(w, "elapsed %s\n", elapsed.Round(time.Millisecond))
	for _, e := range lastErrs {
		fmt.Fprintf(w, "last error of %s\n", e)
	}
}

func writeRow(w io.Writer, op string, lat []time.Duration, errs int, elapsed time.Duration) {
	sorted := append([]time.Duration(nil), lat...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	fmt.Fprintf(w, "%s\t%d\t%d\t%.1f\t%s\t%s\t%s\t\n", op, len(sorted), errs,
		float64(len(sorted))/elapsed.Seconds(), ms(percentile(sorted, 50)), ms(percentile(sorted, 99)), ms(percentile(sorted, 100)))
}

// percentile is the nearest-rank percentile of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64)
}
