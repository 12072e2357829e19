package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/shardeum/distributor/scripts/internal/collector"
	"github.com/shardeum/distributor/scripts/internal/harness"
)

func TestMedianAndVerdict(t *testing.T) {
	sc := scenarios(false)["A"]
	runs := []result{
		{Delivered: 300000, Expected: 300000, P50: 1 * time.Millisecond, P99: 10 * time.Millisecond, CPU: 3 * time.Second, PeakRSS: 100},
		{Delivered: 299990, Expected: 300000, Missing: 10, P50: 3 * time.Millisecond, P99: 50 * time.Millisecond, CPU: 5 * time.Second, PeakRSS: 300},
		{Delivered: 300000, Expected: 300000, P50: 2 * time.Millisecond, P99: 20 * time.Millisecond, CPU: 4 * time.Second, PeakRSS: 200},
	}
	m := median(runs)
	if m.P50 != 2*time.Millisecond || m.P99 != 20*time.Millisecond || m.CPU != 4*time.Second || m.PeakRSS != 200 {
		t.Errorf("median timings %+v", m)
	}
	// CPU per 10,000 frames is the median of the runs' own ratios: 100, 167.0, 133.3 ms.
	if got := m.cpuPer10k(); got < 133*time.Millisecond || got > 134*time.Millisecond {
		t.Errorf("median CPU per 10k frames = %v, want 133.3 ms", got)
	}
	// A loss in any run is reported, not hidden by the median.
	if m.Delivered != 299990 || m.Missing != 10 {
		t.Errorf("median delivery %d missing %d; want the worst run's", m.Delivered, m.Missing)
	}
	if v := verdict(sc, m); !strings.Contains(v, "delivered 299990 of 300000") || !strings.Contains(v, "missing 10") {
		t.Errorf("verdict %q", v)
	}
	if v := verdict(sc, runs[0]); v != "met" {
		t.Errorf("verdict of a clean fast run = %q", v)
	}
	if v := verdict(sc, runs[2]); v != "met" {
		t.Errorf("p99 20 ms is within 25 ms: %q", v)
	}
	slow := runs[0]
	slow.P99 = 50 * time.Millisecond
	if v := verdict(sc, slow); v != "MISSED: p99 50.00 ms > 25.00 ms (x2.0)" {
		t.Errorf("verdict of a slow run = %q", v)
	}
}

func TestParseGroupScenarios(t *testing.T) {
	o, err := parse([]string{"-scenario", "Burst, MIXED,lapped,a"}, io.Discard)
	if err != nil || strings.Join(o.scenarios, ",") != "burst,mixed,lapped,A" {
		t.Errorf("parse = %q, %v; want burst,mixed,lapped,A", o.scenarios, err)
	}
	if _, err := parse([]string{"-scenario", "bursty"}, io.Discard); err == nil {
		t.Error("an unknown scenario was accepted")
	}
}

// The median keeps every run's missed goals and the worst delivery; numbers are medians; a fast
// p99 over the goal and an RSS over it are reported.
func TestGroupMedianAndVerdict(t *testing.T) {
	sc := groupScenarios(false)["mixed"]
	run := func(p99 time.Duration, rss int64, delivered int64, misses ...string) groupRun {
		return groupRun{runs: 1, PeakRSS: rss, Misses: misses, Groups: []groupResult{
			{Name: "fast", Delivered: delivered, Expected: 600000, P99: p99, Ends: map[string]int{"got all": 20}},
			{Name: "stalled", Want: wantStallClosed, Delivered: 100, Ends: map[string]int{`1008 "stalled"`: 5}, ClosedAfter: []time.Duration{11 * time.Second}},
		}}
	}
	m := medianGroups([]groupRun{
		run(time.Second, 100<<20, 600000),
		run(3*time.Second, 300<<20, 599999, "fast: delivered 599999 of 600000"),
		run(1500*time.Millisecond, 150<<20, 600000),
	})
	if m.PeakRSS != 150<<20 || m.Groups[0].P99 != 1500*time.Millisecond || m.Groups[0].Delivered != 599999 {
		t.Errorf("median %+v", m)
	}
	if m.Groups[1].Ends[`1008 "stalled"`] != 15 || len(m.Groups[1].ClosedAfter) != 3 {
		t.Errorf("stalled ends %+v over 3 runs", m.Groups[1])
	}
	if v := groupVerdict(sc, m); v != "NOT MET: run 2: fast: delivered 599999 of 600000" {
		t.Errorf("verdict = %q", v)
	}
	if v := groupVerdict(sc, run(time.Second, 100<<20, 600000)); v != "met" {
		t.Errorf("verdict of a clean run = %q", v)
	}
	if v := groupVerdict(sc, run(3*time.Second, 300<<20, 600000)); v != "NOT MET: fast p99 3000.00 ms > 2000.00 ms; RSS 300 MB > 200 MB (PSS 0 MB)" {
		t.Errorf("verdict of a slow, fat run = %q", v)
	}
	if got := endText(collector.Result{End: collector.EndClosed, CloseCode: 4404, CloseReason: "lapped on receipt: 1234 lines (5s) behind"}); got != `4404 "lapped on receipt: N lines (Ns) behind"` {
		t.Errorf("endText = %s", got)
	}
}

// scale is named in any case, next to D; the overrides apply to it as to D.
func TestParseScale(t *testing.T) {
	o, err := parse([]string{"-scenario", "d,SCALE", "-subscribers", "40", "-duration", "3s"}, io.Discard)
	if err != nil || strings.Join(o.scenarios, ",") != "D,scale" {
		t.Fatalf("parse = %q, %v; want D,scale", o.scenarios, err)
	}
	sc := o.override(scaleScenario(false))
	if sc.Subscribers != 40 || sc.Duration != 3*time.Second || sc.Edges != 2 || sc.Env.MaxClientsPerChild != 50 ||
		!strings.Contains(sc.Title, "2 edges + 1 ingress + redis-server") {
		t.Errorf("scale with overrides = %+v", sc)
	}
}

// The median of scale runs keeps the worst delivery and publish count and the largest Redis
// memory; the verdict misses a stream that does not hold every receipt once.
func TestScaleMedianAndVerdict(t *testing.T) {
	sc := scaleScenario(false)
	run := func(p99 time.Duration, delivered, published, entries int64, used int64) scaleRun {
		r := result{Delivered: delivered, Expected: 1000, P99: p99}
		return scaleRun{runs: 1, Written: 1000, Published: published, Total: r, Edges: []result{r, r}, Ingress: r, Redis: r,
			Entries: map[string]int64{"distributor:receipt": entries}, RedisMem: harness.RedisMemory{Used: used}}
	}
	m := medianScale([]scaleRun{run(10*time.Millisecond, 1000, 1000, 1000, 5), run(30*time.Millisecond, 999, 1001, 1001, 9), run(20*time.Millisecond, 1000, 1000, 1000, 7)})
	if m.runs != 3 || m.Total.P99 != 20*time.Millisecond || m.Total.Delivered != 999 || m.Published != 1001 ||
		m.Entries["distributor:receipt"] != 1001 || m.RedisMem.Used != 9 || len(m.Edges) != 2 {
		t.Errorf("median %+v", m)
	}
	if v := scaleVerdict(sc, m); v != "MISSED: delivered 999 of 1000; ingress published 1001 of 1000; distributor:receipt holds 1001 of 1000" {
		t.Errorf("verdict = %q", v)
	}
	if v := scaleVerdict(sc, run(10*time.Millisecond, 1000, 1000, 1000, 5)); v != "met" {
		t.Errorf("verdict of a clean run = %q", v)
	}
}
