// Command tracestages reads a Go execution trace of the REST server under load, as printed by
// `go tool trace -d=parsed`, and splits each request's time on the server into the scheduler's
// stages. It answers "where does a request wait?", which a CPU profile cannot: a profile shows
// work, and the tail of a saturated server is made of waiting.
//
//	scripts/restserver -pprof 127.0.0.1:6061 &     # and wrk against it (BENCHMARKS.md)
//	curl -o trace.out 'http://127.0.0.1:6061/debug/pprof/trace?seconds=2'
//	go tool trace -d=parsed trace.out | go run ./scripts/tracestages
//
// A request's goroutine is one of net/http's connection goroutines, recognised by the gate's
// yield (runtime.Gosched) before each reply. One request is the stretch between two of its
// blocks on the network (waiting for the next request), cut at these transitions:
//
//	net wait      blocked reading the connection, until the poller hands the goroutine over
//	              (includes the client's own time and any delay before the runtime polls)
//	runq          runnable after the poller readied it, until it runs
//	cpu           reading, parsing, verifying, answering, until the yield
//	yield wait    runnable after the yield, until it runs again
//	write         the reply's write and net/http's end of request, until it waits for the
//	              background reader net/http starts for every request
//	reader wait   waiting for that reader to stop (sync.Cond)
//	rest          from there to the next block on the network
//	server        everything but the net wait
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
)

// transition is one goroutine state change of the parsed trace.
type transition struct {
	t        int64 // ns
	from, to string
	reason   string
}

var transitionLine = regexp.MustCompile(`StateTransition Time=(\d+) GoID=(\d+) (\S+)->(\S+) Reason="([^"]*)"`)

// readTransitions groups the goroutine state transitions of a parsed trace by goroutine.
func readTransitions(r io.Reader) (map[int64][]transition, error) {
	byG := map[int64][]transition{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := transitionLine.FindSubmatch(sc.Bytes())
		if m == nil {
			continue
		}
		t, _ := strconv.ParseInt(string(m[1]), 10, 64)
		g, _ := strconv.ParseInt(string(m[2]), 10, 64)
		byG[g] = append(byG[g], transition{t: t, from: string(m[3]), to: string(m[4]), reason: string(m[5])})
	}
	return byG, sc.Err()
}

// stageNames are the columns of a request's timeline: stage i lasts from mark i to mark i+1.
var stageNames = []string{"net wait", "runq", "cpu", "yield wait", "write", "reader wait", "rest"}

// marks are the 8 instants that bound a request's 7 stages.
type marks [8]int64

// requests cuts a connection goroutine's transitions into requests. A stretch that does not
// show every stage (the trace's first and last, a request answered with an error) is skipped.
func requests(ts []transition) []marks {
	var out []marks
	start := -1
	for i, tr := range ts {
		if tr.from != "Running" || tr.to != "Waiting" || tr.reason != "network" {
			continue
		}
		if start >= 0 {
			if m, ok := cut(ts[start : i+1]); ok {
				out = append(out, m)
			}
		}
		start = i
	}
	return out
}

// cut finds the marks in ts, which starts and ends with a block on the network.
func cut(ts []transition) (m marks, ok bool) {
	m[0], m[7] = ts[0].t, ts[len(ts)-1].t
	steps := []func(transition) bool{
		func(tr transition) bool { return tr.from == "Waiting" && tr.to == "Runnable" },
		func(tr transition) bool { return tr.to == "Running" },
		func(tr transition) bool { return tr.reason == "runtime.Gosched" },
		func(tr transition) bool { return tr.to == "Running" },
		func(tr transition) bool { return tr.to == "Waiting" && tr.reason == "sync.(*Cond).Wait" },
		func(tr transition) bool { return tr.from == "Waiting" && tr.to == "Runnable" },
	}
	j := 1
	for _, tr := range ts[1 : len(ts)-1] {
		if j <= len(steps) && steps[j-1](tr) {
			m[j] = tr.t
			j++
		}
	}
	return m, j == len(steps)+1
}

// stats are a stage's mean and percentiles, in milliseconds.
type stats struct{ mean, p50, p90, p99 float64 }

func summarize(ns []int64) stats {
	sort.Slice(ns, func(i, j int) bool { return ns[i] < ns[j] })
	var sum int64
	for _, v := range ns {
		sum += v
	}
	at := func(q float64) float64 { return float64(ns[min(len(ns)-1, int(q*float64(len(ns))))]) / 1e6 }
	return stats{mean: float64(sum) / float64(len(ns)) / 1e6, p50: at(0.5), p90: at(0.9), p99: at(0.99)}
}

// table summarizes every stage over all requests, and the server's share (all but the net wait).
func table(all []marks) (names []string, rows []stats) {
	for s, name := range stageNames {
		ns := make([]int64, len(all))
		for i, m := range all {
			ns[i] = m[s+1] - m[s]
		}
		names, rows = append(names, name), append(rows, summarize(ns))
	}
	ns := make([]int64, len(all))
	for i, m := range all {
		ns[i] = m[7] - m[1]
	}
	return append(names, "server"), append(rows, summarize(ns))
}

func run(in io.Reader, out io.Writer) error {
	byG, err := readTransitions(in)
	if err != nil {
		return fmt.Errorf("reading the parsed trace: %w", err)
	}
	var all []marks
	for _, ts := range byG {
		all = append(all, requests(ts)...)
	}
	if len(all) == 0 {
		return fmt.Errorf("no request found: want the output of `go tool trace -d=parsed` for a trace of the REST server under load")
	}
	names, rows := table(all)
	fmt.Fprintf(out, "%d requests\n%-12s %8s %8s %8s %8s  (ms)\n", len(all), "stage", "mean", "p50", "p90", "p99")
	for i, s := range rows {
		fmt.Fprintf(out, "%-12s %8.3f %8.3f %8.3f %8.3f\n", names[i], s.mean, s.p50, s.p90, s.p99)
	}
	return nil
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tracestages:", err)
		os.Exit(1)
	}
}
