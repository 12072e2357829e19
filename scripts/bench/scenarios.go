package main

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardeum/distributor/protocol"
	"github.com/shardeum/distributor/scripts/internal/collector"
	"github.com/shardeum/distributor/scripts/internal/harness"
)

// scenario is one load shape: Subscribers clients receive Count receipts appended at Rate per
// second (0 = as fast as the generator can), rotating files every MaxEntries.
type scenario struct {
	Name        string
	Title       string // set by title()
	Subscribers int
	Rate        int
	Duration    time.Duration // Count = Rate*Duration when Count is 0
	Count       int
	MaxEntries  int
	// VerifyEvery: each subscriber verifies every Nth frame's signature (0: 100). D's thousand
	// subscribers share the distributor's two cores; one verification is worth ~25 frames of
	// everything else a subscriber does, so they verify every 1,000th (200 signatures a second).
	VerifyEvery int
	Env         harness.Options
	// Edges > 0 serves the subscribers from that many edges reading Redis streams that one
	// ingress fills (the scale scenario) instead of from one distributor.
	Edges int
	Goal  goal
}

// goal is what a scenario must meet; zero fields are not checked.
type goal struct {
	P50, P99    time.Duration
	Drain       time.Duration
	PeakRSS     int64
	FirstFrameP time.Duration // E: p50 connect -> first frame
	Text        string
}

func (s scenario) count() int {
	if s.Count > 0 {
		return s.Count
	}
	return int(float64(s.Rate) * s.Duration.Seconds())
}

// scenarios are the defined runs; quick shortens them for a smoke test of the harness.
func scenarios(quick bool) map[string]scenario {
	d := func(full, short time.Duration) time.Duration {
		if quick {
			return short
		}
		return full
	}
	n := func(full, short int) int {
		if quick {
			return short
		}
		return full
	}
	all := map[string]scenario{
		"A": {Name: "A", Subscribers: 10, Rate: 1000,
			Duration: d(30*time.Second, 5*time.Second), MaxEntries: 10000,
			Goal: goal{P50: 5 * time.Millisecond, P99: 25 * time.Millisecond, Text: "p50 <= 5 ms, p99 <= 25 ms, nothing lost"}},
		"B": {Name: "B", Subscribers: 10, Rate: 5000,
			Duration: d(30*time.Second, 5*time.Second), MaxEntries: 10000,
			Goal: goal{P99: 100 * time.Millisecond, Text: "nothing lost, p99 <= 100 ms"}},
		"C": {Name: "C", Subscribers: 10, Count: n(20000, 5000), MaxEntries: 1000,
			Goal: goal{Drain: 3 * time.Second, Text: "all to each, in order, drained <= 3 s"}},
		"D": {Name: "D", Subscribers: n(1000, 200), Rate: 200,
			Duration: d(60*time.Second, 5*time.Second), MaxEntries: 10000, VerifyEvery: 1000, Env: harness.Options{MaxClientsPerChild: 50},
			Goal: goal{P99: 100 * time.Millisecond, PeakRSS: 600 << 20, Text: "all receive all, RSS <= 600 MB, p99 <= 100 ms"}},
		"E": {Name: "E", Subscribers: n(20, 5), Rate: 100, MaxEntries: 10000,
			Goal: goal{FirstFrameP: 100 * time.Millisecond, Text: "connect->first frame p50 <= 100 ms"}},
	}
	return all
}

// title describes the scenario as it will run (after overrides).
func (s scenario) title() string {
	switch {
	case s.Name == "E":
		return fmt.Sprintf("connect -> first frame with a new child, %d times, %d receipts/s flowing", s.Subscribers, s.Rate)
	case s.Rate == 0:
		return fmt.Sprintf("%d-receipt burst, rotation every %d, %d subscribers", s.count(), s.MaxEntries, s.Subscribers)
	}
	t := fmt.Sprintf("%d receipts/s x %d subscribers, %v", s.Rate, s.Subscribers, s.Duration)
	if s.Env.MaxClientsPerChild > 0 {
		t += fmt.Sprintf(", %d per child", s.Env.MaxClientsPerChild)
	}
	if s.Edges > 0 {
		t += fmt.Sprintf(", %d edges + 1 ingress + redis-server", s.Edges)
	}
	return t
}

// result is one run of one scenario.
type result struct {
	Scenario   string
	Delivered  int64 // valid receipt frames over all clients
	Expected   int64
	Gaps       int64
	Missing    int64
	Duplicates int64
	OutOfOrder int64
	Invalid    int64
	Abnormal   int
	P50, P99   time.Duration
	Max        time.Duration
	Throughput float64       // frames/s delivered over all clients, first append -> last receive
	Drain      time.Duration // first append -> last receive
	PeakRSS    int64
	PeakPSS    int64
	CPU        time.Duration
	PeakKids   int
	HarnessCPU time.Duration // the in-process subscribers' CPU (user+sys of this process)
	// E only: connect -> first frame, and dial -> upgrade done.
	FirstFrame []time.Duration
	Connect    []time.Duration
	Problems   []string
	Profile    string // perf summary, with -perf
	// medianPer10k is set on a median of runs: the median of the runs' CPU per 10,000 frames
	// (the runs' CPU and frame counts are not divided across runs).
	medianPer10k time.Duration
}

func (r result) cpuPer10k() time.Duration {
	if r.medianPer10k != 0 {
		return r.medianPer10k
	}
	if r.Delivered == 0 {
		return 0
	}
	return time.Duration(float64(r.CPU) / float64(r.Delivered) * 10000)
}

// verifyEveryFor is how often sc's subscribers verify a signature: -verify-every when given,
// else the scenario's own choice, else every 100th frame.
func (rn *runner) verifyEveryFor(sc scenario) int {
	switch {
	case rn.verifyEvery > 0:
		return rn.verifyEvery
	case sc.VerifyEvery > 0:
		return sc.VerifyEvery
	}
	return 100
}

// runner holds what every scenario run shares.
type runner struct {
	bin, root, base string
	verifyEvery     int
	perfDir         string // when set, perf-record the distributor during each load phase
	log             *slog.Logger
	keys            []protocol.KeyPair // generated once, reused across runs
	hashKey         protocol.HashKey
}

func (rn *runner) signers(n int) ([]protocol.Signer, error) {
	for len(rn.keys) < n {
		kp, err := protocol.GenerateKeyPair()
		if err != nil {
			return nil, err
		}
		rn.keys = append(rn.keys, kp)
	}
	s := make([]protocol.Signer, n)
	for i := range s {
		s[i] = protocol.Signer{HashKey: rn.hashKey, Keys: rn.keys[i]}
	}
	return s, nil
}

// runStream runs A, B, C or D: subscribe every client, then append Count receipts, and wait
// until every client has them all (or a deadline well past the expected end).
func (rn *runner) runStream(ctx context.Context, sc scenario) (res result, err error) {
	res = result{Scenario: sc.Name}
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
	signers, err := rn.signers(sc.Subscribers)
	if err != nil {
		return res, err
	}
	hc := collector.HTTPClient()
	clients := make([]*collector.Client, sc.Subscribers)
	results := make([]collector.Result, sc.Subscribers)
	var connected sync.WaitGroup
	connected.Add(sc.Subscribers)
	for i := range clients {
		clients[i] = collector.New(collector.Options{
			Addr: d.Addr, Signer: signers[i], ExpectOwner: collector.DistributorPublicKey,
			VerifyEvery: rn.verifyEveryFor(sc), MaxFiles: 10, MaxEntries: sc.MaxEntries, ExpectStream: "receipt", ExpectFrames: int64(count),
			HTTPClient: hc, Logger: rn.log, OnConnect: connected.Done,
		})
	}
	// Deadline: the load's own length plus generous drain time.
	limit := sc.Duration + 30*time.Second + time.Duration(count/1000)*time.Second
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	wg, err := connectAll(cctx, clients, results, &connected)
	if err != nil {
		cancel()
		wg.Wait()
		return res, err
	}
	if err := d.WaitReady(cctx, sc.Subscribers, 60*time.Second); err != nil {
		cancel()
		wg.Wait()
		return res, err
	}
	var prof *perfRecording
	if rn.perfDir != "" {
		name := fmt.Sprintf("%s-%d", sc.Name, time.Now().Unix())
		if prof, err = startPerf(rn.perfDir, name, append([]int{d.Pid()}, d.Children()...)); err != nil {
			res.Problems = append(res.Problems, err.Error())
		}
	}
	// The connect storm left the harness garbage (a thousand handshakes); collected now, it is
	// not collected during the load's first second, which made that second's frames late.
	runtime.GC()
	smp := harness.StartSampler(d.Pid(), 100*time.Millisecond)
	cpu0 := selfCPU()
	rp, err := harness.StartReplay(rn.bin, harness.ReplayArgs(d.DataLog, count, sc.Rate, sc.MaxEntries, 10))
	if err != nil {
		cancel()
		wg.Wait()
		smp.Stop()
		return res, err
	}
	// Once the load is written, stop waiting when nothing has arrived for a while: a client that
	// lost frames would otherwise wait for the deadline.
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()
	go stopWhenIdle(rp.Exited(), allDone, clients, 10*time.Second, time.Time{}, cancel)
	<-allDone
	res.use(smp.Stop())
	if prof != nil {
		res.Profile = prof.stop()
	}
	res.HarnessCPU = selfCPU() - cpu0
	rp.Stop()
	if rp.Err() != nil {
		res.Problems = append(res.Problems, fmt.Sprintf("replay: %v: %s", rp.Err(), lastLines(rp.Output(), 5)))
	}
	sum := collector.Summarize(clients, results, time.Since(rp.Started))
	res.fill(sum, int64(count)*int64(sc.Subscribers))
	return res, nil
}

// connectAll runs every client until ctx ends, each Run's result into results, and returns once
// each has connected (its OnConnect called connected.Done) or failed to. wg ends with the runs.
// The error says how many could not connect, and the first reason; the caller then cancels ctx
// and waits for wg.
func connectAll(ctx context.Context, clients []*collector.Client, results []collector.Result, connected *sync.WaitGroup) (wg *sync.WaitGroup, err error) {
	wg = new(sync.WaitGroup)
	var dialFailed atomic.Int32
	var firstDialErr atomic.Value
	for i, c := range clients {
		wg.Go(func() {
			r := c.Run(ctx)
			results[i] = r
			if r.Connected.IsZero() { // never connected: OnConnect was not called
				dialFailed.Add(1)
				firstDialErr.CompareAndSwap(nil, fmt.Sprintf("%s: %v", r.End, r.Err))
				connected.Done()
			}
		})
	}
	connected.Wait()
	if n := dialFailed.Load(); n > 0 {
		return wg, fmt.Errorf("%d of %d subscribers could not connect; first: %v", n, len(clients), firstDialErr.Load())
	}
	return wg, nil
}

func (res *result) use(u harness.Usage) {
	res.PeakRSS, res.PeakPSS, res.CPU, res.PeakKids = u.PeakRSS, u.PeakPSS, u.CPU, u.PeakKids
}

func (res *result) fill(sum collector.Summary, expected int64) {
	rc := sum.Streams["receipt"]
	res.Delivered, res.Expected = rc.Frames, expected
	res.Gaps, res.Missing, res.Duplicates, res.OutOfOrder = rc.Gaps, rc.Missing, rc.Duplicates, rc.OutOfOrder
	res.Invalid, res.Abnormal = sum.Invalid, sum.Abnormal
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	res.P50, res.P99, res.Max = ms(rc.Latency.P50ms), ms(rc.Latency.P99ms), ms(rc.Latency.MaxMs)
	if !sum.FirstAppend.IsZero() && sum.LastReceive.After(sum.FirstAppend) {
		res.Drain = sum.LastReceive.Sub(sum.FirstAppend)
		res.Throughput = float64(res.Delivered) / res.Drain.Seconds()
	}
	for _, c := range sum.Closes {
		if c.End != collector.EndExpected {
			res.Problems = append(res.Problems, fmt.Sprintf("%d client(s) ended %s (code %d %q)", c.Count, c.End, c.Code, c.Reason))
		}
	}
	res.Problems = append(res.Problems, sum.Problems...)
}

// runFirstFrame is E: with receipts flowing at sc.Rate and no child running, connect one client
// and time dial -> first frame; disconnect, wait for the child to exit, repeat.
func (rn *runner) runFirstFrame(ctx context.Context, sc scenario) (result, error) {
	res := result{Scenario: sc.Name}
	d, err := harness.Start(ctx, rn.bin, rn.root, rn.base, sc.Env)
	if err != nil {
		return res, err
	}
	defer d.Stop()
	rp, err := harness.StartReplay(rn.bin, harness.ReplayArgs(d.DataLog, sc.Rate*3600, sc.Rate, sc.MaxEntries, 10))
	if err != nil {
		return res, err
	}
	defer rp.Stop()
	signers, err := rn.signers(1)
	if err != nil {
		return res, err
	}
	smp := harness.StartSampler(d.Pid(), 100*time.Millisecond)
	hc := collector.HTTPClient()
	for i := 0; i < sc.Subscribers; i++ {
		if err := waitNoChildren(ctx, d, 10*time.Second); err != nil {
			res.Problems = append(res.Problems, err.Error())
			break
		}
		c := collector.New(collector.Options{Addr: d.Addr, Signer: signers[0], ExpectOwner: collector.DistributorPublicKey,
			ExpectStream: "receipt", ExpectFrames: 1, HTTPClient: hc, Logger: rn.log})
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		r := c.Run(cctx)
		cancel()
		if r.FirstFrame.IsZero() {
			res.Problems = append(res.Problems, fmt.Sprintf("attempt %d: no frame: %s %v", i+1, r.End, r.Err))
			continue
		}
		res.FirstFrame = append(res.FirstFrame, r.FirstFrame.Sub(r.DialStart))
		res.Connect = append(res.Connect, r.Connected.Sub(r.DialStart))
		res.Delivered++
	}
	res.Expected = int64(sc.Subscribers)
	res.use(smp.Stop())
	res.P50, res.P99, res.Max = quantiles(res.FirstFrame)
	return res, nil
}

// stopWhenIdle calls stop when, after written is closed, no client received a receipt for idle,
// counting from notBefore at the earliest (when stalled clients start reading).
func stopWhenIdle(written <-chan struct{}, done <-chan struct{}, clients []*collector.Client, idle time.Duration, notBefore time.Time, stop func()) {
	select {
	case <-written:
	case <-done:
		return
	}
	total := func() (n int64) {
		for _, c := range clients {
			n += c.Counters("receipt").Frames.Load()
		}
		return n
	}
	last, since := total(), time.Now()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if n := total(); n != last || time.Now().Before(notBefore) {
				last, since = n, time.Now()
			} else if time.Since(since) >= idle {
				stop()
				return
			}
		}
	}
}

// waitNoChildren waits until the parent has no child process (the last one exits when its last
// client leaves).
func waitNoChildren(ctx context.Context, d *harness.Distributor, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for len(d.Children()) > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("child %v still running %v after its last client left", d.Children(), limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

func quantiles(ds []time.Duration) (p50, p99, max time.Duration) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(q float64) time.Duration {
		i := int(q*float64(len(s))+0.5) - 1
		if i < 0 {
			i = 0
		}
		if i >= len(s) {
			i = len(s) - 1
		}
		return s[i]
	}
	return at(0.5), at(0.99), s[len(s)-1]
}
