package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardeum/distributor/protocol"
	"github.com/shardeum/distributor/scripts/internal/collector"
	"github.com/shardeum/distributor/scripts/internal/harness"
)

var built struct {
	once sync.Once
	dir  string
	root string
	bin  string
	err  error
}

// TestMain removes the distributor binary the smoke tests share.
func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// testRunner builds the distributor once for the package's smoke tests and returns a runner whose
// temporary directories are the test's.
func testRunner(t *testing.T, verifyEvery int) *runner {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the distributor")
	}
	built.once.Do(func() {
		if built.root, built.err = harness.RepoRoot(); built.err != nil {
			return
		}
		if built.dir, built.err = os.MkdirTemp("", "bench-test-"); built.err != nil {
			return
		}
		built.bin, built.err = harness.Build(built.root, built.dir)
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	hk, _ := protocol.ParseHashKey(collector.DefaultHashKey)
	return &runner{bin: built.bin, root: built.root, base: t.TempDir(), verifyEvery: verifyEvery, hashKey: hk,
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// A small scenario C through the whole harness: build, start, replay burst with rotation, two
// in-process subscribers, /proc sampling, and the report row.
func TestSmokeBurst(t *testing.T) {
	rn := testRunner(t, 10)
	sc := scenarios(true)["C"]
	sc.Count, sc.Subscribers, sc.MaxEntries = 2000, 2, 300
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := rn.runStream(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	if r.Delivered != 4000 || r.Expected != 4000 || r.Gaps+r.Missing+r.Duplicates+r.OutOfOrder+r.Invalid != 0 || r.Abnormal != 0 {
		t.Errorf("result %+v; want 2,000 receipts to each of 2 subscribers, nothing wrong", r)
	}
	if r.PeakRSS <= 0 || r.CPU <= 0 || r.PeakKids != 1 || r.Drain <= 0 || r.P50 <= 0 {
		t.Errorf("measurements %+v; want RSS, CPU, one child, a drain time and latencies", r)
	}
	if got := row(sc, r, 1); !strings.HasPrefix(got, "| C: ") || !strings.Contains(got, "| 4000 / 4000 | 0 / 0 / 0 / 0 |") {
		t.Errorf("row = %s", got)
	}
}

// A small mixed run through the real distributor: fast and throttled subscribers get everything,
// the stalled one is closed by the server (counted as stalled there), after the stall timeout.
func TestSmokeMixed(t *testing.T) {
	rn := testRunner(t, 0)
	sc := groupScenario{Name: "mixed", Count: 6000, MaxEntries: 2000, MaxFiles: 10,
		Env: harness.Options{ClientStallTimeoutMS: 1000},
		Groups: []subGroup{
			{Name: "fast", Subscribers: 2},
			{Name: "stalled", Subscribers: 1, StallFor: 4 * time.Second, Want: wantStallClosed},
			{Name: "throttled", Subscribers: 1, MaxRate: 2000, VerifyEvery: 1},
		}}
	sc.Title = sc.title()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := rn.runGroups(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Misses) > 0 || r.Server.Stalled != 1 || len(r.Groups) != 3 {
		t.Fatalf("misses %q, server counts %+v; want none, 1 stalled (problems %q)", r.Misses, r.Server, r.Problems)
	}
	fast, stalled, throttled := r.Groups[0], r.Groups[1], r.Groups[2]
	if fast.Delivered != 12000 || throttled.Delivered != 6000 || fast.Ends["got all"] != 2 || throttled.Ends["got all"] != 1 {
		t.Errorf("fast %+v, throttled %+v; want 6,000 to each, all ended having got all", fast, throttled)
	}
	if len(stalled.ClosedAfter) != 1 || stalled.ClosedAfter[0] < time.Second {
		t.Errorf("stalled %+v; want gone from /status no sooner than the 1 s stall timeout", stalled)
	}
	row := groupRow(sc, r)
	if !strings.HasPrefix(row, "| mixed: 6,000 receipts at once") || !strings.Contains(row, "fast: 12000 / 12000<br>") || !strings.HasSuffix(row, "| met |") {
		t.Errorf("row = %s", row)
	}
}

// A small lapped run: the stalled subscriber is closed with 4404 "lapped", the fast one gets all.
func TestSmokeLapped(t *testing.T) {
	rn := testRunner(t, 0)
	// Queue 500 frames, then the stream's history (16 MiB, ~9,800 frames): the stalled client
	// reaches the data log ~6.5 s into the load, and its position there is gone ~1.3 s later
	// (5 files of 500 at 2,000/s); it reads at 10 s.
	sc := groupScenario{Name: "lapped", Rate: 2000, Duration: 13 * time.Second, MaxEntries: 500, MaxFiles: 10,
		Env: harness.Options{ClientQueueFrames: 500},
		Groups: []subGroup{
			{Name: "fast", Subscribers: 1},
			{Name: "stalled", Subscribers: 1, StallFor: 10 * time.Second, Want: wantLapped},
		}}
	sc.Title = sc.title()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := rn.runGroups(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	lapped := 0
	for end, n := range r.Groups[1].Ends {
		if strings.HasPrefix(end, `4404 "lapped`) {
			lapped += n
		}
	}
	if len(r.Misses) > 0 || lapped != 1 {
		t.Fatalf("misses %q, server counts %+v; want none, the stalled one lapped (problems %q; groups %+v)", r.Misses, r.Server, r.Problems, r.Groups)
	}
	if g := r.Groups[0]; g.Delivered != 26000 || g.Gaps+g.Missing+g.Duplicates+g.OutOfOrder != 0 {
		t.Errorf("fast %+v; want all 26,000 in order", g)
	}
}

// A small scale run through the real parts: redis-server, `distributor ingress` and two edges
// reading the streams, two subscribers on each (one per child); every subscriber gets every
// receipt across a rotation, the stream holds each once, and each part is measured on its own.
func TestSmokeScale(t *testing.T) {
	rn := testRunner(t, 10)
	sc := scaleScenario(true)
	sc.Count, sc.Rate, sc.Subscribers, sc.MaxEntries = 2000, 1000, 4, 500
	sc.Env = harness.Options{MaxClientsPerChild: 1}
	sc.Title = sc.title()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := rn.runScale(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	tot := r.Total
	if tot.Delivered != 8000 || tot.Expected != 8000 || tot.Gaps+tot.Missing+tot.Duplicates+tot.OutOfOrder+tot.Invalid != 0 || tot.Abnormal != 0 || len(tot.Problems) > 0 {
		t.Fatalf("total %+v; want 2,000 receipts to each of 4 subscribers, nothing wrong", tot)
	}
	if len(r.Edges) != 2 {
		t.Fatalf("%d edges measured, want 2", len(r.Edges))
	}
	for i, e := range r.Edges {
		if e.Delivered != 4000 || e.Expected != 4000 || e.PeakKids != 2 || e.CPU <= 0 || e.PeakRSS <= 0 || e.P50 <= 0 {
			t.Errorf("edge %d: %+v; want 4,000 frames to its 2 subscribers, 2 children, CPU, RSS and latencies", i+1, e)
		}
	}
	for _, p := range []result{r.Ingress, r.Redis} {
		if p.CPU <= 0 || p.PeakRSS <= 0 || p.PeakKids != 0 || p.Delivered != 8000 {
			t.Errorf("%s: %+v; want CPU and RSS of one process, over all 8,000 frames delivered", p.Scenario, p)
		}
	}
	if r.Published != 2000 || r.Entries["distributor:receipt"] != 2000 || r.Entries["distributor:cycle"] != 0 || r.RedisMem.Used <= 0 {
		t.Errorf("published %d, entries %v, Redis memory %+v; want 2,000 receipts published and in the stream, nothing else", r.Published, r.Entries, r.RedisMem)
	}
	if len(r.Server) != 2 {
		t.Errorf("slow-client counts of %d edges, want 2", len(r.Server))
	}
	if got := scaleVerdict(sc, r); got != "met" && !strings.HasPrefix(got, "MISSED: p99") {
		t.Errorf("verdict %q; want met, or only a latency missed on a busy machine", got)
	}
	d := scenarios(true)["D"]
	d.Title = d.title()
	dr := result{Delivered: 10, Expected: 10, PeakKids: 4}
	table := scaleTable(&d, &dr, 1, sc, r)
	for _, want := range []string{"| D: ", "single node", "| scale: edge 1 (2 subscribers) | parent + 2 children | 4000 / 4000 |", "| scale: edge 2 ",
		"| scale: ingress | 1 process | published 2000 of 2000 receipts |", "| scale: redis-server |", "distributor:receipt 2000", "rejoined / lapped / stalled: edge 1: "} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}
