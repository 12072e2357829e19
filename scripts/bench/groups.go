package main

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shardeum/distributor/config"
	"github.com/shardeum/distributor/scripts/internal/collector"
	"github.com/shardeum/distributor/scripts/internal/harness"
)

// The slow-subscriber scenarios (burst, mixed, lapped): subscribers in groups that read at
// different speeds, as real collectors do, each group with its own expectation.

// want is what every subscriber of a group must end with.
type want int

const (
	// wantAll: every receipt, in order, exactly once; the client then closes (EndExpected).
	wantAll want = iota
	// wantStallClosed: the server closes it (1008, or just the end of the connection: a socket
	// that takes nothing cannot take the close frame either), and not before the stall timeout.
	wantStallClosed
	// wantLapped: closed with 4404 and a reason containing "lapped".
	wantLapped
)

// subGroup is one group of identical subscribers.
type subGroup struct {
	Name        string // fast, throttled, stalled
	Subscribers int
	MaxRate     int           // frames/s each reads at most; 0 = as fast as it can
	StallFor    time.Duration // reads nothing this long after connecting
	VerifyEvery int           // 0: -verify-every, else every 100th
	Want        want
}

func (g subGroup) describe() string {
	s := fmt.Sprintf("%d %s", g.Subscribers, g.Name)
	var d []string
	if g.MaxRate > 0 {
		d = append(d, fmt.Sprintf("%s frames/s", thousands(g.MaxRate)))
	}
	if g.StallFor > 0 {
		d = append(d, fmt.Sprintf("read nothing for %v", g.StallFor))
	}
	if g.VerifyEvery == 1 {
		d = append(d, "verifying every frame")
	}
	if len(d) > 0 {
		s += " (" + strings.Join(d, ", ") + ")"
	}
	return s
}

// groupScenario is a load with subscriber groups: Count receipts (or Rate per second for
// Duration; Rate 0 = as fast as replay can), rotating every MaxEntries over MaxFiles files.
type groupScenario struct {
	Name       string
	Title      string
	Groups     []subGroup
	Rate       int
	Duration   time.Duration
	Count      int
	MaxEntries int
	MaxFiles   int
	Env        harness.Options
	Goal       groupGoal
}

// groupGoal: the delivery and end goals come from the groups' want; these are the numbers.
type groupGoal struct {
	FastP99 time.Duration // p99 append -> receive of the "fast" group
	PeakRSS int64
	Text    string
}

func (s groupScenario) count() int {
	if s.Count > 0 {
		return s.Count
	}
	return int(float64(s.Rate) * s.Duration.Seconds())
}

func (s groupScenario) stallTimeout() time.Duration {
	ms := s.Env.ClientStallTimeoutMS
	if ms <= 0 {
		ms = config.DefaultClientStallTimeoutMS
	}
	return time.Duration(ms) * time.Millisecond
}

func (s groupScenario) title() string {
	var load string
	if s.Rate == 0 {
		load = fmt.Sprintf("%s receipts at once", thousands(s.count()))
	} else {
		load = fmt.Sprintf("%s receipts/s for %v", thousands(s.Rate), s.Duration)
	}
	var groups []string
	for _, g := range s.Groups {
		groups = append(groups, g.describe())
	}
	stall := fmt.Sprintf("CLIENT_STALL_TIMEOUT_MS %d", s.Env.ClientStallTimeoutMS)
	if s.Env.ClientStallTimeoutMS <= 0 {
		stall = fmt.Sprintf("stall timeout %v (default)", s.stallTimeout())
	}
	if s.Env.ClientQueueFrames > 0 {
		stall += fmt.Sprintf(", CLIENT_QUEUE_FRAMES %d", s.Env.ClientQueueFrames)
	}
	return fmt.Sprintf("%s, rotation every %s, %d files; %s; %s", load, thousands(s.MaxEntries), s.MaxFiles,
		strings.Join(groups, " + "), stall)
}

// groupScenarios are burst, mixed and lapped; quick shortens them for a smoke test.
func groupScenarios(quick bool) map[string]groupScenario {
	n := func(full, short int) int {
		if quick {
			return short
		}
		return full
	}
	d := func(full, short time.Duration) time.Duration {
		if quick {
			return short
		}
		return full
	}
	const mb = 1 << 20
	stallMS := n(10000, 3000)
	// Longer than the stall timeout and then some, so the server has closed them well before
	// they read: what they read then tells whether it did.
	stallFor := time.Duration(stallMS)*time.Millisecond + d(15*time.Second, 5*time.Second)
	all := map[string]groupScenario{
		"burst": {Name: "burst", Count: n(50000, 10000), MaxEntries: n(10000, 2000), MaxFiles: 10,
			Groups: []subGroup{{Name: "throttled", Subscribers: n(10, 4), MaxRate: 2000, VerifyEvery: 1}},
			Goal:   groupGoal{PeakRSS: 200 * mb, Text: "each gets all, in order, 0 gaps, 0 duplicates; peak RSS <= 200 MB"}},
		"mixed": {Name: "mixed", Count: n(30000, 6000), MaxEntries: n(10000, 2000), MaxFiles: 10,
			Env: harness.Options{ClientStallTimeoutMS: stallMS},
			Groups: []subGroup{
				{Name: "fast", Subscribers: n(20, 4)},
				{Name: "stalled", Subscribers: n(5, 2), StallFor: stallFor, Want: wantStallClosed},
				// Throttled to 2,000 frames/s, the pace of a collector that verifies every frame;
				// they do not verify every frame here, since their verifications would run on the
				// distributor's own two cores (burst measures that load).
				{Name: "throttled", Subscribers: n(5, 2), MaxRate: 2000},
			},
			Goal: groupGoal{FastP99: 2 * time.Second, PeakRSS: 200 * mb,
				Text: "fast: all, p99 <= 2 s; throttled: all; stalled: closed by the server, not before the stall timeout; peak RSS <= 200 MB"}},
		// The writer deletes a file about 5 files (2.5 s) after it is written, but a stalled client
		// first fills its socket buffers (~2,700 frames of 1.7 KB) and its queue of
		// CLIENT_QUEUE_FRAMES (16,384 by default), then the stream's history of what was published
		// since (16 MiB, ~9,800 of these frames): it reaches the data log ~14.5 s into the load,
		// and its position there is gone ~2.5 s later. Stalled 20 s, it is lapped with a margin
		// of ~3 s, with the default queue and stall timeout. -quick stalls 10 s of 14 with a queue
		// of 1,000 frames instead (the data log from ~7 s on).
		"lapped": {Name: "lapped", Rate: 2000, Duration: d(25*time.Second, 14*time.Second), MaxEntries: 1000, MaxFiles: 10,
			Env: harness.Options{ClientQueueFrames: n(0, 1000)},
			Groups: []subGroup{
				{Name: "fast", Subscribers: n(5, 2)},
				{Name: "stalled", Subscribers: 1, StallFor: d(20*time.Second, 10*time.Second), Want: wantLapped},
			},
			Goal: groupGoal{Text: `stalled: 4404, reason contains "lapped"; fast: all, 0 gaps`}},
	}
	for k, s := range all {
		s.Title = s.title()
		all[k] = s
	}
	return all
}

// groupResult is one group's outcome in one run (or the median of runs).
type groupResult struct {
	Name                                           string
	Want                                           want
	Clients                                        int
	Delivered, Expected                            int64 // Expected is 0 unless the group must get all
	Gaps, Missing, Duplicates, OutOfOrder, Invalid int64
	P50, P99, Max                                  time.Duration
	Drain                                          time.Duration // first append -> last receive
	Ends                                           map[string]int
	ClosedAfter                                    []time.Duration // connect -> gone from /status (stalled groups)
}

// serverCounts are the children's counts of clients moved to the log, rejoined, lapped, stalled.
type serverCounts struct{ MovedToLog, Rejoined, Lapped, Stalled uint64 }

// groupRun is one run (or the median of runs) of a group scenario.
type groupRun struct {
	Groups           []groupResult
	Server           serverCounts
	PeakRSS, PeakPSS int64
	CPU, HarnessCPU  time.Duration
	PeakKids         int
	StatusEvery      time.Duration
	Misses           []string // goals of delivery and ends missed, in any run
	Problems         []string
	runs             int
}

const statusEvery = 200 * time.Millisecond

// verifyFor is how often a subscriber of g verifies a signature: the group's own choice (the
// throttled ones verify every frame, as real collectors do), else -verify-every, else 100.
func (rn *runner) verifyFor(g subGroup) int {
	switch {
	case g.VerifyEvery > 0:
		return g.VerifyEvery
	case rn.verifyEvery > 0:
		return rn.verifyEvery
	}
	return 100
}

// runGroups runs a group scenario: subscribe every client, append the receipts, and wait until
// every client ended (those that must get everything with it, the stalled ones when the server
// closed them), or nothing arrived for a while after the load and the stalls.
func (rn *runner) runGroups(ctx context.Context, sc groupScenario) (groupRun, error) {
	res := groupRun{StatusEvery: statusEvery, runs: 1}
	count := sc.count()
	d, err := harness.Start(ctx, rn.bin, rn.root, rn.base, sc.Env)
	if err != nil {
		return res, err
	}
	defer func() {
		if err := d.Stop(); err != nil {
			res.Problems = append(res.Problems, "distributor stop: "+err.Error())
		}
	}()
	total, maxStall, minRate := 0, time.Duration(0), 0
	for _, g := range sc.Groups {
		total += g.Subscribers
		maxStall = max(maxStall, g.StallFor)
		if g.MaxRate > 0 && (minRate == 0 || g.MaxRate < minRate) {
			minRate = g.MaxRate
		}
	}
	signers, err := rn.signers(total)
	if err != nil {
		return res, err
	}
	hc := collector.HTTPClient()
	clients := make([]*collector.Client, 0, total)
	groupOf := make([]int, 0, total)
	var connected sync.WaitGroup
	connected.Add(total)
	for gi, g := range sc.Groups {
		for range g.Subscribers {
			o := collector.Options{Addr: d.Addr, Signer: signers[len(clients)], ExpectOwner: collector.DistributorPublicKey,
				VerifyEvery: rn.verifyFor(g), MaxFiles: sc.MaxFiles, MaxEntries: sc.MaxEntries, ExpectStream: "receipt",
				HTTPClient: hc, Logger: rn.log, OnConnect: connected.Done, MaxRate: g.MaxRate, StallFor: g.StallFor}
			if g.Want == wantAll {
				o.ExpectFrames = int64(count)
			}
			clients = append(clients, collector.New(o))
			groupOf = append(groupOf, gi)
		}
	}
	results := make([]collector.Result, total)
	// A deadline far past a run that works: the load, the stalls, and three times what the
	// throttled subscribers need.
	limit := 60*time.Second + sc.Duration + maxStall
	if minRate > 0 {
		limit += 3 * time.Duration(count/minRate) * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	wg, err := connectAll(cctx, clients, results, &connected)
	// Every client is connected: none stalls past this.
	stallsEnd := time.Now().Add(maxStall)
	if err != nil {
		cancel()
		wg.Wait()
		return res, err
	}
	if err := d.WaitReady(cctx, total, 60*time.Second); err != nil {
		cancel()
		wg.Wait()
		return res, err
	}
	watch := watchStatus(d, statusEvery)
	runtime.GC()
	smp := harness.StartSampler(d.Pid(), 100*time.Millisecond)
	cpu0 := selfCPU()
	rp, err := harness.StartReplay(rn.bin, harness.ReplayArgs(d.DataLog, count, sc.Rate, sc.MaxEntries, sc.MaxFiles))
	if err != nil {
		cancel()
		wg.Wait()
		smp.Stop()
		watch.stop()
		return res, err
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()
	go stopWhenIdle(rp.Exited(), allDone, clients, 10*time.Second, stallsEnd, cancel)
	<-allDone
	u := smp.Stop()
	res.PeakRSS, res.PeakPSS, res.CPU, res.PeakKids = u.PeakRSS, u.PeakPSS, u.CPU, u.PeakKids
	res.HarnessCPU = selfCPU() - cpu0
	st := watch.stop()
	rp.Stop()
	if rp.Err() != nil {
		res.Problems = append(res.Problems, fmt.Sprintf("replay: %v: %s", rp.Err(), lastLines(rp.Output(), 5)))
	}
	if st.errs > 0 {
		res.Problems = append(res.Problems, fmt.Sprintf("/status failed %d times; last: %v", st.errs, st.lastErr))
	}
	res.Server = st.total()
	elapsed := time.Since(rp.Started)
	var wantStalled uint64
	for gi, g := range sc.Groups {
		var gc []*collector.Client
		var gr []collector.Result
		for i := range clients {
			if groupOf[i] == gi {
				gc, gr = append(gc, clients[i]), append(gr, results[i])
			}
		}
		r := groupResult{Name: g.Name, Want: g.Want, Clients: len(gc), Ends: map[string]int{}}
		sum := collector.Summarize(gc, gr, elapsed)
		rc := sum.Streams["receipt"]
		r.Delivered = rc.Frames
		if g.Want == wantAll {
			r.Expected = int64(count) * int64(len(gc))
		}
		r.Gaps, r.Missing, r.Duplicates, r.OutOfOrder, r.Invalid = rc.Gaps, rc.Missing, rc.Duplicates, rc.OutOfOrder, sum.Invalid
		msd := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
		r.P50, r.P99, r.Max = msd(rc.Latency.P50ms), msd(rc.Latency.P99ms), msd(rc.Latency.MaxMs)
		if !sum.FirstAppend.IsZero() && sum.LastReceive.After(sum.FirstAppend) {
			r.Drain = sum.LastReceive.Sub(sum.FirstAppend)
		}
		miss := func(format string, args ...any) {
			res.Misses = append(res.Misses, g.Name+": "+fmt.Sprintf(format, args...))
		}
		for i, cr := range gr {
			r.Ends[endText(cr)]++
			switch g.Want {
			case wantAll:
				if cr.End != collector.EndExpected {
					miss("a subscriber ended %s", endText(cr))
				}
			case wantLapped:
				if cr.End != collector.EndClosed || cr.CloseCode != 4404 || !strings.Contains(cr.CloseReason, "lapped") {
					miss(`a subscriber ended %s, want 4404 "…lapped…"`, endText(cr))
				}
			case wantStallClosed:
				wantStalled++
				if !(cr.End == collector.EndClosed && cr.CloseCode == 1008) && cr.End != collector.EndError {
					miss("a subscriber ended %s, want closed by the server (1008, or the connection's end)", endText(cr))
				}
				gone, ok := st.goneAt[gc[i].Key()]
				if !ok {
					miss("a subscriber was still listed in /status when the run ended")
					continue
				}
				after := gone.Sub(cr.Connected)
				r.ClosedAfter = append(r.ClosedAfter, after)
				if after < sc.stallTimeout() {
					miss("a subscriber was closed %v after it connected, before the stall timeout %v", after.Round(time.Millisecond), sc.stallTimeout())
				}
			}
		}
		if r.Expected > 0 && r.Delivered != r.Expected {
			miss("delivered %d of %d", r.Delivered, r.Expected)
		}
		if n := r.Gaps + r.Missing + r.Duplicates + r.OutOfOrder + r.Invalid; n > 0 {
			miss("gaps %d, missing %d, duplicates %d, out of order %d, invalid %d", r.Gaps, r.Missing, r.Duplicates, r.OutOfOrder, r.Invalid)
		}
		for _, p := range sum.Problems {
			res.Problems = append(res.Problems, g.Name+": "+p)
		}
		res.Groups = append(res.Groups, r)
	}
	// A stalled client is counted when the server gives up on it, while it is still connected:
	// the count is how the run tells the stall timeout from any other end of its connection.
	if res.Server.Stalled != wantStalled {
		res.Misses = append(res.Misses, fmt.Sprintf("the children counted %d clients stalled, want %d", res.Server.Stalled, wantStalled))
	}
	// Not checked against the lapped count: the lapped client's 4404 says it, and the count may
	// not be seen at all when the last clients leave right after it (the child exits with them).
	return res, nil
}

var digits = regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)

// endText says how a subscription ended, with the numbers of its reason (lags, ports) as N so
// that alike ends count together.
func endText(r collector.Result) string {
	short := func(s string) string {
		s = digits.ReplaceAllString(s, "N")
		if len(s) > 90 {
			s = s[:87] + "..."
		}
		return s
	}
	switch r.End {
	case collector.EndExpected:
		return "got all"
	case collector.EndClosed:
		return fmt.Sprintf("%d %q", r.CloseCode, short(r.CloseReason))
	case collector.EndError:
		return fmt.Sprintf("no close frame (%s)", short(fmt.Sprint(r.Err)))
	case collector.EndCancelled:
		return "still connected at the harness's end"
	}
	return fmt.Sprintf("%s (%s)", r.End, short(fmt.Sprint(r.Err)))
}

// statusWatch polls the parent's /status during a run: when each client key was last listed and
// when it was first missing after that, and the children's slow-client counts.
type statusWatch struct {
	d        *harness.Distributor
	every    time.Duration
	quit     chan struct{}
	done     chan struct{}
	lastSeen map[string]time.Time
	goneAt   map[string]time.Time
	counts   map[int]serverCounts // per child pid, the highest seen (they only grow)
	errs     int
	lastErr  error
}

func watchStatus(d *harness.Distributor, every time.Duration) *statusWatch {
	w := &statusWatch{d: d, every: every, quit: make(chan struct{}), done: make(chan struct{}),
		lastSeen: map[string]time.Time{}, goneAt: map[string]time.Time{}, counts: map[int]serverCounts{}}
	go w.loop()
	return w
}

func (w *statusWatch) loop() {
	defer close(w.done)
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		w.poll()
		select {
		case <-w.quit:
			w.poll() // the last closes
			return
		case <-t.C:
		}
	}
}

func (w *statusWatch) poll() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	asked := time.Now()
	st, err := w.d.Status(ctx)
	if err != nil {
		w.errs++
		w.lastErr = err
		return
	}
	answered := time.Now()
	listed := map[string]bool{}
	for _, c := range st.Children {
		for _, cl := range c.Clients {
			listed[cl.Key] = true
			// The listing is of a moment after asked: a lower bound of when it was last there.
			w.lastSeen[cl.Key] = asked
		}
		prev := w.counts[c.Pid]
		w.counts[c.Pid] = serverCounts{MovedToLog: max(prev.MovedToLog, c.MovedToLog), Rejoined: max(prev.Rejoined, c.Rejoined),
			Lapped: max(prev.Lapped, c.Lapped), Stalled: max(prev.Stalled, c.Stalled)}
	}
	for k := range w.lastSeen {
		if _, gone := w.goneAt[k]; !gone && !listed[k] {
			// An upper bound of when it was closed: it was gone by the time the answer came.
			w.goneAt[k] = answered
		}
	}
}

// stop ends the polling (after one last poll) and returns the watch, safe to read.
func (w *statusWatch) stop() *statusWatch {
	close(w.quit)
	<-w.done
	return w
}

func (w *statusWatch) total() serverCounts {
	var s serverCounts
	for _, c := range w.counts {
		s.MovedToLog += c.MovedToLog
		s.Rejoined += c.Rejoined
		s.Lapped += c.Lapped
		s.Stalled += c.Stalled
	}
	return s
}

// medianGroups combines runs of one group scenario: deliveries and problem counts are the worst
// run's, timings and resources the median, ends counted over all runs, goals missed in any run kept.
func medianGroups(runs []groupRun) groupRun {
	if len(runs) == 1 {
		return runs[0]
	}
	med := func(get func(r groupRun) float64) float64 { return medianOf(runs, get) }
	dur := func(get func(r groupRun) time.Duration) time.Duration {
		return time.Duration(med(func(r groupRun) float64 { return float64(get(r)) }))
	}
	m := groupRun{StatusEvery: runs[0].StatusEvery, runs: len(runs)}
	m.PeakRSS = int64(med(func(r groupRun) float64 { return float64(r.PeakRSS) }))
	m.PeakPSS = int64(med(func(r groupRun) float64 { return float64(r.PeakPSS) }))
	m.CPU = dur(func(r groupRun) time.Duration { return r.CPU })
	m.HarnessCPU = dur(func(r groupRun) time.Duration { return r.HarnessCPU })
	for i, r := range runs {
		m.PeakKids = max(m.PeakKids, r.PeakKids)
		m.Server = serverCounts{MovedToLog: max(m.Server.MovedToLog, r.Server.MovedToLog), Rejoined: max(m.Server.Rejoined, r.Server.Rejoined),
			Lapped: max(m.Server.Lapped, r.Server.Lapped), Stalled: max(m.Server.Stalled, r.Server.Stalled)}
		for _, s := range r.Misses {
			m.Misses = append(m.Misses, fmt.Sprintf("run %d: %s", i+1, s))
		}
		m.Problems = append(m.Problems, r.Problems...)
	}
	for gi, g := range runs[0].Groups {
		mg := groupResult{Name: g.Name, Want: g.Want, Clients: g.Clients, Delivered: g.Delivered, Expected: g.Expected, Ends: map[string]int{}}
		at := func(r groupRun) groupResult { return r.Groups[gi] }
		gdur := func(get func(g groupResult) time.Duration) time.Duration {
			return dur(func(r groupRun) time.Duration { return get(at(r)) })
		}
		mg.P50 = gdur(func(g groupResult) time.Duration { return g.P50 })
		mg.P99 = gdur(func(g groupResult) time.Duration { return g.P99 })
		mg.Max = gdur(func(g groupResult) time.Duration { return g.Max })
		mg.Drain = gdur(func(g groupResult) time.Duration { return g.Drain })
		for _, r := range runs {
			x := at(r)
			if x.Expected-x.Delivered > mg.Expected-mg.Delivered || (x.Expected == 0 && x.Delivered < mg.Delivered) {
				mg.Delivered, mg.Expected = x.Delivered, x.Expected
			}
			mg.Gaps, mg.Missing = max(mg.Gaps, x.Gaps), max(mg.Missing, x.Missing)
			mg.Duplicates, mg.OutOfOrder, mg.Invalid = max(mg.Duplicates, x.Duplicates), max(mg.OutOfOrder, x.OutOfOrder), max(mg.Invalid, x.Invalid)
			for k, v := range x.Ends {
				mg.Ends[k] += v
			}
			mg.ClosedAfter = append(mg.ClosedAfter, x.ClosedAfter...)
		}
		m.Groups = append(m.Groups, mg)
	}
	return m
}

// groupVerdict is "met" or "NOT MET: " and what missed: the runs' delivery and end goals, then
// the (median) numbers against the scenario's goal.
func groupVerdict(sc groupScenario, r groupRun) string {
	miss := append([]string(nil), r.Misses...)
	for _, g := range r.Groups {
		if g.Name == "fast" && sc.Goal.FastP99 > 0 && g.P99 > sc.Goal.FastP99 {
			miss = append(miss, fmt.Sprintf("fast p99 %s > %s", ms(g.P99), ms(sc.Goal.FastP99)))
		}
	}
	if sc.Goal.PeakRSS > 0 && r.PeakRSS > sc.Goal.PeakRSS {
		miss = append(miss, fmt.Sprintf("RSS %s > %s (PSS %s)", mb(r.PeakRSS), mb(sc.Goal.PeakRSS), mb(r.PeakPSS)))
	}
	if len(miss) == 0 {
		return "met"
	}
	if len(miss) > 6 {
		miss = append(miss[:6], fmt.Sprintf("… %d more", len(miss)-6))
	}
	return "NOT MET: " + strings.Join(miss, "; ")
}

const groupTableHeader = `| Scenario | Delivered / expected | Gaps / dup / ooo / invalid | Latency p50 / p99 / max (append -> receive) | Drain | How subscribers ended | Children counted: moved to log / rejoined / lapped / stalled | Peak RSS (PSS), parent+children | Children | CPU s (distributor) | Goal | Result |
|---|---|---|---|---|---|---|---|---|---|---|---|`

// groupRow is one markdown row for a group scenario: one line per group in the group cells.
func groupRow(sc groupScenario, r groupRun) string {
	name := sc.Name + ": " + sc.Title
	if r.runs > 1 {
		name += fmt.Sprintf(" (median of %d; deliveries the worst run's, ends over all runs)", r.runs)
	}
	var deliv, errs, lat, drain, ends []string
	for _, g := range r.Groups {
		if g.Expected > 0 {
			deliv = append(deliv, fmt.Sprintf("%s: %d / %d", g.Name, g.Delivered, g.Expected))
		} else {
			deliv = append(deliv, fmt.Sprintf("%s: %d (before their end)", g.Name, g.Delivered))
		}
		errs = append(errs, fmt.Sprintf("%s: %d / %d / %d / %d", g.Name, g.Gaps+g.Missing, g.Duplicates, g.OutOfOrder, g.Invalid))
		lat = append(lat, fmt.Sprintf("%s: %s / %s / %s", g.Name, ms(g.P50), ms(g.P99), ms(g.Max)))
		drain = append(drain, fmt.Sprintf("%s: %.1f s", g.Name, g.Drain.Seconds()))
		var e []string
		keys := make([]string, 0, len(g.Ends))
		for k := range g.Ends {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			return g.Ends[keys[i]] > g.Ends[keys[j]] || (g.Ends[keys[i]] == g.Ends[keys[j]] && keys[i] < keys[j])
		})
		for _, k := range keys {
			e = append(e, fmt.Sprintf("%d× %s", g.Ends[k], k))
		}
		s := fmt.Sprintf("%s: %s", g.Name, strings.Join(e, ", "))
		if len(g.ClosedAfter) > 0 {
			lo, hi := slices.Min(g.ClosedAfter), slices.Max(g.ClosedAfter)
			s += fmt.Sprintf("; gone from /status %.1f–%.1f s after connecting (polled every %v)", lo.Seconds(), hi.Seconds(), r.StatusEvery)
		}
		ends = append(ends, s)
	}
	cell := func(v []string) string { return strings.ReplaceAll(strings.Join(v, "<br>"), "|", `\|`) }
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %d / %d / %d / %d | %s (%s) | %d | %.2f | %s | %s |",
		name, cell(deliv), cell(errs), cell(lat), cell(drain), cell(ends),
		r.Server.MovedToLog, r.Server.Rejoined, r.Server.Lapped, r.Server.Stalled,
		mb(r.PeakRSS), mb(r.PeakPSS), r.PeakKids, r.CPU.Seconds(), sc.Goal.Text, strings.ReplaceAll(groupVerdict(sc, r), "|", `\|`))
}

// thousands writes n with commas: 50,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
