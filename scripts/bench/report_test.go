package main

import (
	"strings"
	"testing"
	"time"
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
