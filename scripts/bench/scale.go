package main

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shardeum/distributor/scripts/internal/collector"
	"github.com/shardeum/distributor/scripts/internal/harness"
)

// The scale-out scenario (issue 17): D's load on one machine, served by one `distributor
// ingress` (which follows the data logs and signs each line once into Redis streams), one
// redis-server, and Edges `distributor start` with FIREHOSE_SOURCE=redis; the subscribers are
// split evenly between the edges. Each part's CPU and RSS are sampled on its own process tree.

// scaleScenario is D's shape (subscribers, rate, duration, 50 per child, verification) with two
// edges; quick shortens it as it shortens D.
func scaleScenario(quick bool) scenario {
	sc := scenarios(quick)["D"]
	sc.Name, sc.Edges = "scale", 2
	sc.Goal = goal{P99: 100 * time.Millisecond, Text: "all receive all, 0 gaps / dup, p99 <= 100 ms; every receipt once in the stream"}
	return sc
}

// scaleRun is one run (or the median of runs) of the scale scenario.
type scaleRun struct {
	// Total is every subscriber's deliveries and latencies, with the CPU and RSS of every part
	// (edges, ingress, redis-server) together.
	Total result
	// Edges: each edge's subscribers, and its parent and children.
	Edges []result
	// Ingress and Redis: one process each; Delivered is every edge's, so that CPU per 10,000
	// frames delivered adds up to the total's.
	Ingress, Redis result
	Written        int              // receipts the load wrote
	Published      int64            // receipts the ingress appended (its /status)
	Entries        map[string]int64 // XLEN per stream key at the end
	RedisMem       harness.RedisMemory
	// Server: each edge's children's counts of clients moved to the stream (they fell behind
	// the live fan-out and read Redis at their own position), rejoined, lapped and stalled.
	Server []serverCounts
	runs   int
}

// runScale starts redis-server, the ingress and the edges, subscribes every client (the first
// half to the first edge, and so on), writes the load into the ingress's data-log directory and
// waits until every client has it all (or nothing arrived for a while after the load).
func (rn *runner) runScale(ctx context.Context, sc scenario) (res scaleRun, err error) {
	res.runs, res.Written = 1, sc.count()
	count := sc.count()
	problem := func(format string, args ...any) {
		res.Total.Problems = append(res.Total.Problems, fmt.Sprintf(format, args...))
	}
	rd, err := harness.StartRedis(ctx, rn.base)
	if err != nil {
		return res, err
	}
	defer func() {
		if err := rd.Stop(); err != nil {
			problem("redis-server stop: %v", err)
		}
	}()
	ing, err := harness.StartIngress(ctx, rn.bin, rn.root, rn.base, harness.Options{RedisURL: rd.URL(), Verbose: sc.Env.Verbose})
	if err != nil {
		return res, err
	}
	defer func() {
		if err := ing.Stop(); err != nil {
			problem("ingress stop: %v", err)
		}
	}()
	if err := ing.WaitActive(ctx, 30*time.Second); err != nil {
		return res, err
	}
	edges := make([]*harness.Distributor, 0, sc.Edges)
	defer func() {
		for i, e := range edges {
			if err := e.Stop(); err != nil {
				problem("edge %d stop: %v", i+1, err)
			}
		}
	}()
	for range sc.Edges {
		o := sc.Env
		o.FirehoseSource, o.RedisURL = "redis", rd.URL()
		e, err := harness.Start(ctx, rn.bin, rn.root, rn.base, o)
		if err != nil {
			return res, fmt.Errorf("edge %d: %w", len(edges)+1, err)
		}
		edges = append(edges, e)
	}

	signers, err := rn.signers(sc.Subscribers)
	if err != nil {
		return res, err
	}
	hc := collector.HTTPClient()
	clients := make([]*collector.Client, sc.Subscribers)
	results := make([]collector.Result, sc.Subscribers)
	edgeOf := func(i int) int { return i * len(edges) / sc.Subscribers }
	perEdge := make([]int, len(edges))
	var connected sync.WaitGroup
	connected.Add(sc.Subscribers)
	for i := range clients {
		perEdge[edgeOf(i)]++
		clients[i] = collector.New(collector.Options{
			Addr: edges[edgeOf(i)].Addr, Signer: signers[i], ExpectOwner: collector.DistributorPublicKey,
			VerifyEvery: rn.verifyEveryFor(sc), MaxFiles: 10, MaxEntries: sc.MaxEntries, ExpectStream: "receipt", ExpectFrames: int64(count),
			HTTPClient: hc, Logger: rn.log, OnConnect: connected.Done,
		})
	}
	limit := sc.Duration + 30*time.Second + time.Duration(count/1000)*time.Second
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	wg, err := connectAll(cctx, clients, results, &connected)
	if err != nil {
		cancel()
		wg.Wait()
		return res, err
	}
	for i, e := range edges {
		if err := e.WaitReady(cctx, perEdge[i], 60*time.Second); err != nil {
			cancel()
			wg.Wait()
			return res, fmt.Errorf("edge %d: %w", i+1, err)
		}
	}
	roots := make([]int, 0, len(edges)+2)
	for _, e := range edges {
		roots = append(roots, e.Pid())
	}
	roots = append(roots, ing.Pid(), rd.Pid())
	var prof *perfRecording
	if rn.perfDir != "" {
		pids := append([]int(nil), roots...)
		for _, e := range edges {
			pids = append(pids, e.Children()...)
		}
		if prof, err = startPerf(rn.perfDir, fmt.Sprintf("%s-%d", sc.Name, time.Now().Unix()), pids); err != nil {
			problem("%v", err)
		}
	}
	// /status every second: the children's slow-client counts (the children exit with their
	// last client, so they are read during the run).
	watches := make([]*statusWatch, len(edges))
	for i, e := range edges {
		watches[i] = watchStatus(e, time.Second)
	}
	runtime.GC() // as in runStream: the connect storm's garbage is not collected during the load
	smp := harness.StartTreeSampler(100*time.Millisecond, roots...)
	cpu0 := selfCPU()
	rp, err := harness.StartReplay(rn.bin, harness.ReplayArgs(ing.DataLog, count, sc.Rate, sc.MaxEntries, 10))
	if err != nil {
		cancel()
		wg.Wait()
		smp.Stop()
		for _, w := range watches {
			w.stop()
		}
		return res, err
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()
	go stopWhenIdle(rp.Exited(), allDone, clients, 10*time.Second, time.Time{}, cancel)
	<-allDone
	each, all := smp.StopEach()
	if prof != nil {
		res.Total.Profile = prof.stop()
	}
	harnessCPU := selfCPU() - cpu0
	for i, w := range watches {
		w.stop()
		if w.errs > 0 {
			problem("edge %d /status failed %d times; last: %v", i+1, w.errs, w.lastErr)
		}
		res.Server = append(res.Server, w.total())
	}
	rp.Stop()
	if rp.Err() != nil {
		problem("replay: %v: %s", rp.Err(), lastLines(rp.Output(), 5))
	}
	elapsed := time.Since(rp.Started)

	res.Total.Scenario = sc.Name
	res.Total.fill(collector.Summarize(clients, results, elapsed), int64(count)*int64(sc.Subscribers))
	res.Total.use(all)
	res.Total.HarnessCPU = harnessCPU
	for i := range edges {
		var ec []*collector.Client
		var er []collector.Result
		for j := range clients {
			if edgeOf(j) == i {
				ec, er = append(ec, clients[j]), append(er, results[j])
			}
		}
		r := result{Scenario: fmt.Sprintf("edge %d", i+1)}
		r.fill(collector.Summarize(ec, er, elapsed), int64(count)*int64(len(ec)))
		r.use(each[i])
		res.Edges = append(res.Edges, r)
	}
	part := func(name string, u harness.Usage) result {
		r := result{Scenario: name, Delivered: res.Total.Delivered, Expected: res.Total.Expected}
		r.use(u)
		return r
	}
	res.Ingress = part("ingress", each[len(edges)])
	res.Redis = part("redis-server", each[len(edges)+1])

	qctx, qcancel := context.WithTimeout(ctx, 10*time.Second)
	defer qcancel()
	st, err := ing.IngressStatus(qctx)
	if err != nil {
		problem("ingress /status: %v", err)
	}
	res.Published = st.Published("receipt")
	var keys []string
	receiptKey := ""
	for _, s := range st.Streams {
		keys = append(keys, s.Key)
		if s.Stream == "receipt" {
			receiptKey = s.Key
		}
	}
	if res.Entries, err = rd.StreamLengths(qctx, keys...); err != nil {
		problem("%v", err)
	}
	if res.RedisMem, err = rd.Memory(qctx); err != nil {
		problem("%v", err)
	}
	if res.Published != int64(count) {
		problem("the ingress published %d receipts, %d were written", res.Published, count)
	}
	if receiptKey == "" || res.Entries[receiptKey] != int64(count) {
		problem("stream %q holds %d entries, %d receipts were written", receiptKey, res.Entries[receiptKey], count)
	}
	return res, nil
}

// medianScale combines runs: each part as median does (deliveries the worst run's, timings and
// resources the median), Redis's memory and the stream counts the largest seen.
func medianScale(runs []scaleRun) scaleRun {
	if len(runs) == 1 {
		return runs[0]
	}
	pick := func(get func(r scaleRun) result) result {
		rs := make([]result, len(runs))
		for i, r := range runs {
			rs[i] = get(r)
		}
		return median(rs)
	}
	m := scaleRun{runs: len(runs), Written: runs[0].Written, Entries: map[string]int64{}}
	m.Total = pick(func(r scaleRun) result { return r.Total })
	m.Ingress = pick(func(r scaleRun) result { return r.Ingress })
	m.Redis = pick(func(r scaleRun) result { return r.Redis })
	for i := range runs[0].Edges {
		m.Edges = append(m.Edges, pick(func(r scaleRun) result { return r.Edges[i] }))
	}
	m.Published = runs[0].Published
	m.Server = make([]serverCounts, len(runs[0].Server))
	for _, r := range runs {
		for i, c := range r.Server {
			if i < len(m.Server) {
				p := m.Server[i]
				m.Server[i] = serverCounts{MovedToLog: max(p.MovedToLog, c.MovedToLog), Rejoined: max(p.Rejoined, c.Rejoined),
					Lapped: max(p.Lapped, c.Lapped), Stalled: max(p.Stalled, c.Stalled)}
			}
		}
		if d, w := r.Published-int64(r.Written), m.Published-int64(m.Written); d*d > w*w {
			m.Published = r.Published
		}
		for k, v := range r.Entries {
			m.Entries[k] = max(m.Entries[k], v)
		}
		m.RedisMem = harness.RedisMemory{Used: max(m.RedisMem.Used, r.RedisMem.Used), Peak: max(m.RedisMem.Peak, r.RedisMem.Peak),
			RSS: max(m.RedisMem.RSS, r.RedisMem.RSS), Dataset: max(m.RedisMem.Dataset, r.RedisMem.Dataset)}
	}
	return m
}

// scaleVerdict is the total's verdict against the goal, with the stream's own count checked.
func scaleVerdict(sc scenario, r scaleRun) string {
	v := verdict(sc, r.Total)
	var miss []string
	if r.Published != int64(r.Written) {
		miss = append(miss, fmt.Sprintf("ingress published %d of %d", r.Published, r.Written))
	}
	for k, n := range r.Entries {
		if strings.HasSuffix(k, "receipt") && n != int64(r.Written) {
			miss = append(miss, fmt.Sprintf("%s holds %d of %d", k, n, r.Written))
		}
	}
	if len(miss) == 0 {
		return v
	}
	if v == "met" {
		return "MISSED: " + strings.Join(miss, "; ")
	}
	return v + "; " + strings.Join(miss, "; ")
}

const scaleTableHeader = `| Run | Processes | Delivered / expected | Gaps / dup / ooo / invalid | p50 | p99 | max | Peak RSS (PSS) | CPU s | CPU per 10,000 frames delivered | Result |
|---|---|---|---|---|---|---|---|---|---|---|`

// scaleTable is the scale-out table: D (when it ran in this invocation) next to the total of the
// scale run and each of its parts, then Redis's memory and the streams.
func scaleTable(d *scenario, dr *result, dRuns int, sc scenario, r scaleRun) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nScale-out (issue 17): D's load served by 1 `distributor ingress` (follows the data logs, signs each line once, XADDs it), 1 redis-server (--save \"\" --appendonly no) and %d edges (`distributor start`, FIREHOSE_SOURCE=redis), every process on this machine. The subscribers are split evenly between the edges. CPU and RSS are sampled per process tree; the parts' CPU per 10,000 frames is over every frame delivered (all edges) for the ingress and Redis, over the edge's own for an edge, so the parts add up to the total.\n\n%s\n", len(r.Edges), scaleTableHeader)
	lat := func(x result) string {
		return fmt.Sprintf("%s | %s | %s", ms(x.P50), ms(x.P99), ms(x.Max))
	}
	errs := func(x result) string {
		return fmt.Sprintf("%d / %d / %d / %d", x.Gaps+x.Missing, x.Duplicates, x.OutOfOrder, x.Invalid)
	}
	res := func(x result) string {
		return fmt.Sprintf("%s (%s) | %.2f | %s", mb(x.PeakRSS), mb(x.PeakPSS), x.CPU.Seconds(), ms(x.cpuPer10k()))
	}
	worst := ""
	if r.runs > 1 {
		worst = " (worst run)"
	}
	if d != nil && dr != nil {
		name := "D: " + d.Title + ", single node"
		if dRuns > 1 {
			name += fmt.Sprintf(" (median of %d)", dRuns)
		}
		fmt.Fprintf(&b, "| %s | parent + %d children | %d / %d | %s | %s | %s | %s |\n", name, dr.PeakKids, dr.Delivered, dr.Expected,
			errs(*dr), lat(*dr), res(*dr), verdict(*d, *dr))
	}
	name := "scale: " + sc.Title + ", all parts"
	if r.runs > 1 {
		name += fmt.Sprintf(" (median of %d)", r.runs)
	}
	fmt.Fprintf(&b, "| %s | %d edges (%d children) + ingress + redis-server | %d / %d%s | %s | %s | %s | %s |\n", name, len(r.Edges),
		r.Total.PeakKids, r.Total.Delivered, r.Total.Expected, worst, errs(r.Total), lat(r.Total), res(r.Total), scaleVerdict(sc, r))
	for i, e := range r.Edges {
		fmt.Fprintf(&b, "| scale: edge %d (%d subscribers) | parent + %d children | %d / %d%s | %s | %s | %s | – |\n", i+1,
			e.Expected/int64(max(r.Written, 1)), e.PeakKids, e.Delivered, e.Expected, worst, errs(e), lat(e), res(e))
	}
	fmt.Fprintf(&b, "| scale: ingress | 1 process | published %d of %d receipts | – | – | – | – | %s | – |\n", r.Published, r.Written, res(r.Ingress))
	fmt.Fprintf(&b, "| scale: redis-server | 1 process | – | – | – | – | – | %s | – |\n", res(r.Redis))
	keys := make([]string, 0, len(r.Entries))
	for k := range r.Entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var entries []string
	var total int64
	for _, k := range keys {
		entries = append(entries, fmt.Sprintf("%s %d", k, r.Entries[k]))
		total += r.Entries[k]
	}
	per1k := func(x result) string {
		if r.Published == 0 {
			return "–"
		}
		return ms(time.Duration(float64(x.CPU) / float64(r.Published) * 1000))
	}
	fmt.Fprintf(&b, "\nRedis at the end of the scale run: used_memory %s (peak %s, RSS by its own account %s, dataset %s); stream entries: %s (XLEN). Per 1,000 receipts published: ingress CPU %s, redis-server CPU %s (with %d edge children reading, 3 streams each).\n",
		mb1(r.RedisMem.Used), mb1(r.RedisMem.Peak), mb1(r.RedisMem.RSS), mb1(r.RedisMem.Dataset), strings.Join(entries, ", "),
		per1k(r.Ingress), per1k(r.Redis), r.Total.PeakKids)
	if len(r.Server) > 0 {
		var counts []string
		for i, c := range r.Server {
			counts = append(counts, fmt.Sprintf("edge %d: %d / %d / %d / %d", i+1, c.MovedToLog, c.Rejoined, c.Lapped, c.Stalled))
		}
		most := ""
		if r.runs > 1 {
			most = " (the most in any run)"
		}
		fmt.Fprintf(&b, "Clients the edges' children moved to the stream (behind the live fan-out, reading Redis at their own position) / rejoined / lapped / stalled%s: %s.\n", most, strings.Join(counts, "; "))
	}
	if total > 0 && r.RedisMem.Dataset > 0 {
		fmt.Fprintf(&b, "Redis dataset per stream entry: %.0f bytes.\n", float64(r.RedisMem.Dataset)/float64(total))
	}
	return b.String()
}

// mb1 is bytes in MB with one decimal (Redis's memory is a few MB).
func mb1(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }
