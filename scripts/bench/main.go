// Command bench measures the distributor end to end: it builds the binary, starts `distributor
// start` on a temporary config (its own data-log directory, the bundled testdata/archiver-db, a free
// port), drives load with `distributor replay --generate` as a subprocess, runs the subscribers
// in-process (the fake collector's code, verifying every Nth signature so the client is not the
// bottleneck), samples RSS and CPU of the parent and every child from /proc, and prints one
// markdown row per scenario for BENCHMARKS.md, with the command line and the machine.
//
//	go run ./scripts/bench                      # all scenarios once
//	go run ./scripts/bench -scenario A,C -runs 3
//	go run ./scripts/bench -quick               # short smoke run of the harness
//	go run ./scripts/bench -scenario burst,mixed,lapped -runs 3   # slow subscribers (issue 15)
//	go run ./scripts/bench -scenario D,scale -runs 3   # scale-out on Redis next to D (issue 17)
//
// burst, mixed and lapped run subscribers in groups (fast, throttled to a rate and verifying every
// frame, stalled) and report each group's deliveries, latencies and ends in a table of their own.
//
// scale is D's load served by one `distributor ingress`, one redis-server and two edges
// (FIREHOSE_SOURCE=redis), half the subscribers on each edge; its table reports every part's
// CPU and RSS on its own, next to D when D ran in the same invocation, and Redis's memory and
// stream entries.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/shardeum/distributor/protocol"
	"github.com/shardeum/distributor/scripts/internal/collector"
	"github.com/shardeum/distributor/scripts/internal/harness"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	scenarios   []string
	runs        int
	quick       bool
	verifyEvery int
	bin         string
	keep        bool
	out         string
	verbose     bool
	perfDir     string
	// overrides, for the smoke test: entries and subscribers of every selected scenario
	count, subscribers, rate int
	duration                 time.Duration
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sel := fs.String("scenario", "A,B,C,D,E,F", "comma-separated scenarios to run (A..F, burst, mixed, lapped, scale; any case)")
	fs.IntVar(&o.runs, "runs", 1, "repeat each scenario this many times and report medians")
	fs.BoolVar(&o.quick, "quick", false, "short durations and fewer subscribers: a smoke test of the harness")
	fs.IntVar(&o.verifyEvery, "verify-every", 0, "subscribers verify every Nth frame's signature (owner and order on every frame); default 100, in D 1000; the throttled subscribers of burst and mixed verify every frame regardless")
	fs.StringVar(&o.bin, "binary", "", "use this distributor binary instead of building one")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (configs, data logs, distributor logs)")
	fs.StringVar(&o.out, "out", "", "also append the report (markdown) to this file")
	fs.StringVar(&o.perfDir, "perf", "", "record a CPU profile of the distributor (perf record, parent and children) during each load phase into this `dir`")
	fs.BoolVar(&o.verbose, "v", false, "log the subscribers' warnings")
	// The overrides apply to A..E and scale only: burst, mixed and lapped are defined by the
	// issue's numbers (-quick shortens them).
	fs.IntVar(&o.count, "count", 0, "override: entries per scenario (A-D, scale)")
	fs.IntVar(&o.subscribers, "subscribers", 0, "override: subscribers per scenario (A-D, scale), connects for E")
	fs.IntVar(&o.rate, "rate", 0, "override: receipts per second (A, B, D, E, scale)")
	fs.DurationVar(&o.duration, "duration", 0, "override: load duration (A, B, D, scale)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	known, groups := scenarios(false), groupScenarios(false)
	for _, s := range strings.Split(*sel, ",") {
		s = strings.TrimSpace(s)
		if _, ok := groups[strings.ToLower(s)]; ok || strings.EqualFold(s, "scale") {
			o.scenarios = append(o.scenarios, strings.ToLower(s))
			continue
		}
		s = strings.ToUpper(s)
		if _, ok := known[s]; !ok && s != "F" {
			return o, fmt.Errorf("-scenario: unknown %q (want A, B, C, D, E, F, burst, mixed, lapped or scale)", s)
		}
		o.scenarios = append(o.scenarios, s)
	}
	if o.runs < 1 || o.verifyEvery < 0 {
		return o, fmt.Errorf("-runs must be at least 1 and -verify-every at least 0")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	report, err := bench(ctx, o, stderr)
	if report != "" {
		fmt.Fprint(stdout, report)
		if o.out != "" {
			f, ferr := os.OpenFile(o.out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
			if ferr == nil {
				fmt.Fprint(f, report)
				f.Close()
			} else {
				fmt.Fprintf(stderr, "bench: %v\n", ferr)
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}

// bench runs the selected scenarios and returns the markdown report.
func bench(ctx context.Context, o options, stderr io.Writer) (string, error) {
	raiseFileLimit(stderr)
	root, err := harness.RepoRoot()
	if err != nil {
		return "", err
	}
	base, err := os.MkdirTemp("", "distributor-bench-")
	if err != nil {
		return "", err
	}
	if o.keep {
		fmt.Fprintf(stderr, "bench: keeping %s\n", base)
	} else {
		defer os.RemoveAll(base)
	}
	bin := o.bin
	if bin == "" {
		fmt.Fprintln(stderr, "bench: building the distributor")
		if bin, err = harness.Build(root, base); err != nil {
			return "", err
		}
	}
	hk, err := protocol.ParseHashKey(collector.DefaultHashKey)
	if err != nil {
		return "", err
	}
	level := slog.LevelError
	if o.verbose {
		level = slog.LevelWarn
	}
	rn := &runner{bin: bin, root: root, base: base, verifyEvery: o.verifyEvery, hashKey: hk, perfDir: o.perfDir,
		log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))}

	defs := scenarios(o.quick)
	var order []string
	want := map[string]bool{}
	for _, s := range o.scenarios {
		want[s] = true
	}
	for _, s := range []string{"A", "B", "C", "D", "E"} {
		if want[s] || (want["F"] && (s == "A" || s == "B")) {
			order = append(order, s)
		}
	}
	var groupOrder []string
	for _, s := range []string{"burst", "mixed", "lapped"} {
		if want[s] {
			groupOrder = append(groupOrder, s)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nCommand: `go run ./scripts/bench %s`  \n", strings.Join(os.Args[1:], " "))
	fmt.Fprintf(&b, "Machine: %s; load average at start %s  \n", machine(), loadAvg())
	fmt.Fprintf(&b, "Date: %s. Subscribers run in the harness process and verify every %s signature (owner, order and gaps on every frame, by cursor); latency is append (writtenAt) -> receive; CPU and RSS are the distributor's parent + children from /proc.\n",
		time.Now().UTC().Format(time.RFC3339), verifyText(o.verifyEvery))
	if len(order) > 0 || want["F"] {
		fmt.Fprintf(&b, "\n%s\n", tableHeader)
	}
	done := map[string]result{}
	doneRuns := map[string]int{}
	ran := map[string]scenario{}
	var firstErr error
	for _, name := range order {
		sc := o.override(defs[name])
		ran[name] = sc
		var runs []result
		for i := 0; i < o.runs; i++ {
			fmt.Fprintf(stderr, "bench: %s (%s), run %d of %d, load average %s\n", name, sc.Title, i+1, o.runs, loadAvg())
			var r result
			var err error
			if name == "E" {
				r, err = rn.runFirstFrame(ctx, sc)
			} else {
				r, err = rn.runStream(ctx, sc)
			}
			if err != nil {
				fmt.Fprintf(stderr, "bench: %s run %d: %v\n", name, i+1, err)
				if firstErr == nil {
					firstErr = fmt.Errorf("%s: %w", name, err)
				}
				continue
			}
			fmt.Fprintf(stderr, "bench:   %s\n", row(sc, r, 1))
			for j, p := range r.Problems {
				if j == 8 {
					fmt.Fprintf(stderr, "bench:   … %d more problems\n", len(r.Problems)-j)
					break
				}
				fmt.Fprintf(stderr, "bench:   problem: %s\n", p)
			}
			fmt.Fprintf(stderr, "bench:   harness (subscribers) CPU %.2f s\n", r.HarnessCPU.Seconds())
			if r.Profile != "" {
				fmt.Fprintf(stderr, "bench:   %s\n", r.Profile)
			}
			runs = append(runs, r)
			if ctx.Err() != nil {
				return b.String(), ctx.Err()
			}
		}
		if len(runs) == 0 {
			fmt.Fprintf(&b, "| %s: %s | failed to run | | | | | | | | | | | %s | FAILED |\n", name, sc.Title, sc.Goal.Text)
			continue
		}
		m := median(runs)
		done[name], doneRuns[name] = m, len(runs)
		fmt.Fprintln(&b, row(sc, m, len(runs)))
	}
	if want["F"] {
		fmt.Fprintln(&b, rowF(done))
	}
	if want["scale"] {
		sc := o.override(scaleScenario(o.quick))
		var runs []scaleRun
		for i := 0; i < o.runs; i++ {
			fmt.Fprintf(stderr, "bench: scale (%s), run %d of %d, load average %s\n", sc.Title, i+1, o.runs, loadAvg())
			r, err := rn.runScale(ctx, sc)
			if err != nil {
				fmt.Fprintf(stderr, "bench: scale run %d: %v\n", i+1, err)
				if firstErr == nil {
					firstErr = fmt.Errorf("scale: %w", err)
				}
				continue
			}
			fmt.Fprintf(stderr, "bench:   scale: %s\n", scaleVerdict(sc, r))
			for j, p := range r.Total.Problems {
				if j == 8 {
					fmt.Fprintf(stderr, "bench:   … %d more problems\n", len(r.Total.Problems)-j)
					break
				}
				fmt.Fprintf(stderr, "bench:   problem: %s\n", p)
			}
			fmt.Fprintf(stderr, "bench:   harness (subscribers) CPU %.2f s\n", r.Total.HarnessCPU.Seconds())
			if r.Total.Profile != "" {
				fmt.Fprintf(stderr, "bench:   %s\n", r.Total.Profile)
			}
			runs = append(runs, r)
			if ctx.Err() != nil {
				return b.String(), ctx.Err()
			}
		}
		var dsc *scenario
		var dr *result
		if r, ok := done["D"]; ok {
			s := ran["D"]
			dsc, dr = &s, &r
		}
		if len(runs) == 0 {
			fmt.Fprintf(&b, "\nscale: %s: failed to run\n", sc.Title)
		} else {
			b.WriteString(scaleTable(dsc, dr, doneRuns["D"], sc, medianScale(runs)))
		}
	}
	if len(groupOrder) > 0 {
		fmt.Fprintf(&b, "\nSlow subscribers: throttled ones read at most their rate (they wait after a frame until first + n/rate) and verify every signature; stalled ones read nothing for their stall, then read to the end of the connection. A stalled socket cannot take the close frame, so a stalled subscriber counts as closed by the server whether it saw 1008 or just the connection's end; when it was closed is when it was gone from /status.\n\n%s\n", groupTableHeader)
	}
	gdefs := groupScenarios(o.quick)
	for _, name := range groupOrder {
		sc := gdefs[name]
		var runs []groupRun
		for i := 0; i < o.runs; i++ {
			fmt.Fprintf(stderr, "bench: %s (%s), run %d of %d, load average %s\n", name, sc.Title, i+1, o.runs, loadAvg())
			r, err := rn.runGroups(ctx, sc)
			if err != nil {
				fmt.Fprintf(stderr, "bench: %s run %d: %v\n", name, i+1, err)
				if firstErr == nil {
					firstErr = fmt.Errorf("%s: %w", name, err)
				}
				continue
			}
			fmt.Fprintf(stderr, "bench:   %s\n", groupRow(sc, r))
			for j, p := range r.Problems {
				if j == 8 {
					fmt.Fprintf(stderr, "bench:   … %d more problems\n", len(r.Problems)-j)
					break
				}
				fmt.Fprintf(stderr, "bench:   problem: %s\n", p)
			}
			fmt.Fprintf(stderr, "bench:   harness (subscribers) CPU %.2f s\n", r.HarnessCPU.Seconds())
			runs = append(runs, r)
			if ctx.Err() != nil {
				return b.String(), ctx.Err()
			}
		}
		if len(runs) == 0 {
			fmt.Fprintf(&b, "| %s: %s | failed to run | | | | | | | | | %s | FAILED |\n", name, sc.Title, sc.Goal.Text)
			continue
		}
		fmt.Fprintln(&b, groupRow(sc, medianGroups(runs)))
	}
	return b.String(), firstErr
}

// override applies the -count, -subscribers, -rate and -duration overrides to sc and sets its
// title.
func (o options) override(sc scenario) scenario {
	if o.count > 0 && sc.Name != "E" {
		sc.Count = o.count
	}
	if o.subscribers > 0 {
		sc.Subscribers = o.subscribers
	}
	if o.rate > 0 && sc.Rate > 0 {
		sc.Rate = o.rate
	}
	if o.duration > 0 && sc.Duration > 0 {
		sc.Duration = o.duration
	}
	sc.Title = sc.title()
	return sc
}

func verifyText(n int) string {
	if n > 0 {
		return fmt.Sprintf("%d.", n)
	}
	return "100th (D: every 1,000th)"
}
