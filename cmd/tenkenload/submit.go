package main

// The submit mode: full submissions (create, one save of the whole
// checklist, submit) back to back; see the package comment.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
	"tenken/checklist/demodata"

	"tenken/internal/procstat"
)

type submitConfig struct {
	tabletFlags
	minimal bool
	// createAnswers sends the answers that name no photo with the
	// create, and only the rest (named photos exist after the upload)
	// in the save.
	createAnswers bool
}

func runSubmit(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("tenkenload -mode submit", flag.ContinueOnError)
	var c submitConfig
	c.bind(fs, getenv)
	fs.IntVar(&c.tablets, "tablets", 20, "simulated tablets, each submitting one inspection after another (connections)")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "how long tablets submit")
	fs.IntVar(&c.pid, "pid", 0, "the server's process id: prints its CPU time per submission and its peak memory")
	fs.BoolVar(&c.minimal, "minimal", false, "ask for small replies (Prefer: return=minimal)")
	// Off by default: with a photo required (the default checklist), the
	// same four writes remain and the photo's then rewrites the answers
	// too, which costs more (docs/performance.md).
	fs.BoolVar(&c.createAnswers, "create-answers", false, "send the answers that name no photo with the create, the rest in the save after the upload")
	fs.DurationVar(&c.maxP99, "max-p99", 0, "fail when any step's p99 is above this (0: no bound)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	return submitTest(ctx, c, stdout)
}

// submitted is one inspection a tablet created and saved.
type submitted struct {
	cl        *client
	id        string
	answers   map[string]checklist.Answer
	submitted bool
}

type submitStats struct {
	mu       sync.Mutex
	steps    map[string][]time.Duration
	errors   int
	errorLog []string
	done     []submitted
	full     int // submissions acknowledged
}

func (s *submitStats) record(step string, d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps[step] = append(s.steps[step], d)
	if err != nil {
		s.errors++
		if len(s.errorLog) < 10 {
			s.errorLog = append(s.errorLog, step+": "+err.Error())
		}
	}
}

func submitTest(ctx context.Context, c submitConfig, stdout io.Writer) error {
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: c.tablets * 2}}
	type account struct {
		cl         *client
		facilities []string
	}
	var accounts []account
	var facilities []string
	for _, u := range c.users {
		cl, facs, err := login(ctx, c.url, strings.TrimSpace(u), c.password, hc)
		if err != nil {
			return err
		}
		accounts = append(accounts, account{cl, facs})
		facilities = append(facilities, facs...)
	}
	// Whole, valid answer sets of the default checklist (some items
	// failed with their comments and photo ids), made in advance.
	content := checklistfile.Default()
	g := demodata.New(demodata.Options{ChecklistID: c.checklist, Version: c.version, Content: &content,
		Facilities: facilities, Seed: 7})
	today := checklist.DateOf(time.Now())
	var sets []answerSet
	for i := range 32 {
		in, err := g.Inspection(facilities[i%len(facilities)], today, checklist.StatusDraft)
		if err != nil {
			return err
		}
		m := map[string]checklist.Answer{}
		for k, r := range in.Answers {
			a := r.Answer
			a.Item = ""
			if len(a.Photos) > 0 {
				a.Photos = []string{photoSHA}
			}
			if it, ok := content.Item(k); ok && it.Type == checklist.TypePhoto {
				a.Value = checklist.ListValue(photoSHA)
			}
			m[k] = a
		}
		plain, withPhotos := splitByPhotos(&content, m)
		sets = append(sets, answerSet{all: m, plain: plain, withPhotos: withPhotos})
	}

	st := &submitStats{steps: map[string][]time.Duration{}}
	how := "a photo, then %d answers in one save"
	if c.createAnswers {
		how = "%d answers with the create and the save after the photo"
	}
	fmt.Fprintf(stdout, "%d tablets submitting whole inspections ("+how+") for %v against %s\n",
		c.tablets, len(sets[0].all), c.duration, c.url)
	cpu0, cpuErr := procstat.CPU(c.pid)
	runCtx, cancel := context.WithTimeout(ctx, c.duration)
	defer cancel()
	started := time.Now()
	var wg sync.WaitGroup
	for i := range c.tablets {
		acc := accounts[i%len(accounts)]
		facility := acc.facilities[(i/len(accounts))%len(acc.facilities)]
		wg.Go(func() {
			for n := 0; runCtx.Err() == nil; n++ {
				submitOne(runCtx, c, st, acc.cl, facility, today.String(), sets[(i+n)%len(sets)])
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(started)
	cpu1, _ := procstat.CPU(c.pid)

	// Every acknowledged answer and submission must be what the server
	// holds now.
	lost := readBack(ctx, st, c.tablets)

	fmt.Fprintf(stdout, "submissions: %d (%.1f/s), errors: %d\n", st.full, float64(st.full)/elapsed.Seconds(), st.errors)
	worst := time.Duration(0)
	for _, step := range []string{"create", "photo", "save", "submit"} {
		l := st.steps[step]
		slices.Sort(l)
		p99 := pctOf(l, 0.99)
		worst = max(worst, p99)
		fmt.Fprintf(stdout, "%-7s %6d  p50 %v  p99 %v  max %v\n", step+":", len(l),
			pctOf(l, 0.5).Round(100*time.Microsecond), p99.Round(100*time.Microsecond), pctOf(l, 1).Round(100*time.Microsecond))
	}
	acked := 0
	for _, d := range st.done {
		acked += len(d.answers)
	}
	fmt.Fprintf(stdout, "answers acknowledged: %d in %d inspections, lost: %d\n", acked, len(st.done), len(lost))
	if c.pid > 0 && cpuErr == nil && st.full > 0 {
		cpu := cpu1 - cpu0
		fmt.Fprintf(stdout, "server CPU: %.2f s, %.2f ms per submission\n", cpu.Seconds(), float64(cpu.Microseconds())/1000/float64(st.full))
	}
	if c.pid > 0 {
		if rss, peak, err := procstat.Memory(c.pid); err == nil {
			fmt.Fprintf(stdout, "server memory: RSS %d MB, peak %d MB\n", rss>>10, peak>>10)
		}
	}
	for _, l := range append(st.errorLog, lost...) {
		fmt.Fprintln(stdout, "  ", l)
	}
	switch {
	case len(lost) > 0:
		return fmt.Errorf("%d acknowledged answers or submissions lost", len(lost))
	case st.errors > 0:
		return fmt.Errorf("%d requests failed", st.errors)
	case c.maxP99 > 0 && worst > c.maxP99:
		return fmt.Errorf("p99 %v is over %v", worst, c.maxP99)
	}
	return nil
}

// submitOne creates, saves and submits one inspection. A failed step
// ends it: the next starts afresh.
func submitOne(ctx context.Context, c submitConfig, st *submitStats, cl *client, facility, date string, set answerSet) {
	id := uuid.NewString()
	var prefer []string
	if c.minimal {
		prefer = []string{"Prefer", "return=minimal"}
	}
	step := func(name, method, path string, body any, want int) (reply, bool) {
		start := time.Now()
		r, err := cl.do(context.Background(), method, path, body, prefer...)
		d := time.Since(start)
		if err == nil && r.status != want {
			err = fmt.Errorf("%s %s: %d %.200s", method, path, r.status, r.body)
		}
		if ctx.Err() != nil && err != nil {
			return r, false // the run ended mid-step
		}
		st.record(name, d, err)
		return r, err == nil
	}
	var r reply
	create := map[string]any{"facility_id": facility, "checklist_id": c.checklist, "version": c.version, "inspection_date": date}
	saved := set.all
	if c.createAnswers {
		create["answers"], saved = set.plain, set.withPhotos
	}
	_, ok := step("create", "PUT", "/v1/inspections/"+id, create, http.StatusCreated)
	if !ok {
		return
	}
	// One photo, as a tablet attaches: the default checklist requires
	// one, and failed items of some kinds need one.
	r, ok = uploadStep(ctx, st, cl, id)
	if !ok {
		return
	}
	rev := revisionOf(r)
	r, ok = step("save", "PATCH", "/v1/inspections/"+id,
		map[string]any{"base_revision": rev, "save_id": uuid.NewString(), "answers": saved}, http.StatusOK)
	if !ok {
		return
	}
	s := submitted{cl: cl, id: id, answers: set.all}
	_, ok = step("submit", "POST", "/v1/inspections/"+id+"/submit", map[string]any{"revision": revisionOf(r)}, http.StatusOK)
	st.mu.Lock()
	defer st.mu.Unlock()
	if ok {
		s.submitted = true
		st.full++
	}
	st.done = append(st.done, s)
}

// answerSet is a whole answer set, and its parts for a create that
// carries answers (see splitByPhotos).
type answerSet struct {
	all, plain, withPhotos map[string]checklist.Answer
}

// splitByPhotos parts answers into those that name no photo and those
// that do (which can be saved only after the photo's upload), with the
// items shown only by an answer of the second kind (show-if).
func splitByPhotos(c *checklist.Content, answers map[string]checklist.Answer) (plain, withPhotos map[string]checklist.Answer) {
	plain, withPhotos = map[string]checklist.Answer{}, map[string]checklist.Answer{}
	for k, a := range answers {
		if len(a.Photos) > 0 || slices.Contains(a.Value.List, photoSHA) {
			withPhotos[k] = a
		} else {
			plain[k] = a
		}
	}
	for moved := true; moved; {
		moved = false
		visible := c.Visible(plain)
		for k, a := range plain {
			if !visible[k] {
				withPhotos[k] = a
				delete(plain, k)
				moved = true
			}
		}
	}
	return plain, withPhotos
}

// photoPNG is a 1×1 PNG; answers name it by photoSHA.
var photoPNG, photoSHA = func() ([]byte, string) {
	var b bytes.Buffer
	_ = png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1)))
	sum := sha256.Sum256(b.Bytes())
	return b.Bytes(), hex.EncodeToString(sum[:])
}()

// uploadStep uploads photoPNG to inspection id.
func uploadStep(ctx context.Context, st *submitStats, cl *client, id string) (reply, bool) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, _ := w.CreateFormFile("file", "photo.png")
	_, _ = part.Write(photoPNG)
	_ = w.Close()
	req, err := http.NewRequestWithContext(context.Background(), "POST", cl.base+"/v1/inspections/"+id+"/photos?item="+photoItem, &body)
	if err != nil {
		return reply{}, false
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+cl.token)
	start := time.Now()
	res, err := cl.http.Do(req)
	var r reply
	if err == nil {
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		r = reply{res.StatusCode, data, res.Header.Get("ETag")}
		if r.status != http.StatusCreated && r.status != http.StatusOK {
			err = fmt.Errorf("upload photo: %d %.200s", r.status, r.body)
		}
	}
	if ctx.Err() != nil && err != nil {
		return r, false
	}
	st.record("photo", time.Since(start), err)
	return r, err == nil
}

// photoItem is the default checklist's required photo item.
const photoItem = "flyers.rack_photo"

// revisionOf reads the revision from a reply's ETag ("3"), which
// inspection writes send whatever their body, else from the body.
func revisionOf(r reply) int64 {
	if n, err := strconv.ParseInt(strings.Trim(r.etag, `W/"`), 10, 64); err == nil {
		return n
	}
	var v struct {
		Revision int64 `json:"revision"`
	}
	_ = json.Unmarshal(r.body, &v)
	return v.Revision
}

// readBack reads every inspection a save was acknowledged for, by
// workers goroutines, and describes each lost answer or submission.
func readBack(ctx context.Context, st *submitStats, workers int) []string {
	var mu sync.Mutex
	var lost []string
	note := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lost = append(lost, fmt.Sprintf(format, args...))
	}
	work := make(chan submitted)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for s := range work {
				r, err := s.cl.do(ctx, "GET", "/v1/inspections/"+s.id, nil)
				if err != nil || r.status != http.StatusOK {
					note("read back %s: %v %d", s.id, err, r.status)
					continue
				}
				var v struct {
					Status  string `json:"status"`
					Answers map[string]struct {
						Value any `json:"value"`
					} `json:"answers"`
				}
				if err := json.Unmarshal(r.body, &v); err != nil {
					note("read back %s: %v", s.id, err)
					continue
				}
				if s.submitted && v.Status != string(checklist.StatusSubmitted) {
					note("%s: submission acknowledged, status %s", s.id, v.Status)
				}
				for k, a := range s.answers {
					want, _ := json.Marshal(a.Value)
					got, _ := json.Marshal(v.Answers[k].Value)
					if string(want) != string(got) {
						note("%s %s: acknowledged %s, stored %s", s.id, k, want, got)
					}
				}
			}
		})
	}
	for _, s := range st.done {
		work <- s
	}
	close(work)
	wg.Wait()
	return lost
}

func pctOf(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}
