package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"
)

// median of each metric over runs (the runs of one scenario): delivery counts and problem counts
// take the worst run (a loss in any run is a loss), timings and resources the median.
// medianOf is the median of get over runs (the mean of the middle two for an even count).
func medianOf[R any](runs []R, get func(R) float64) float64 {
	v := make([]float64, len(runs))
	for i, r := range runs {
		v[i] = get(r)
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func median(runs []result) result {
	if len(runs) == 1 {
		return runs[0]
	}
	m := runs[0]
	med := func(get func(r result) float64) float64 { return medianOf(runs, get) }
	dur := func(get func(r result) time.Duration) time.Duration {
		return time.Duration(med(func(r result) float64 { return float64(get(r)) }))
	}
	m.P50 = dur(func(r result) time.Duration { return r.P50 })
	m.P99 = dur(func(r result) time.Duration { return r.P99 })
	m.Max = dur(func(r result) time.Duration { return r.Max })
	m.Drain = dur(func(r result) time.Duration { return r.Drain })
	m.CPU = dur(func(r result) time.Duration { return r.CPU })
	m.medianPer10k = dur(func(r result) time.Duration { return r.cpuPer10k() })
	m.HarnessCPU = dur(func(r result) time.Duration { return r.HarnessCPU })
	m.Throughput = med(func(r result) float64 { return r.Throughput })
	m.PeakRSS = int64(med(func(r result) float64 { return float64(r.PeakRSS) }))
	m.PeakPSS = int64(med(func(r result) float64 { return float64(r.PeakPSS) }))
	m.Problems = nil
	for _, r := range runs {
		if r.Delivered < m.Delivered || r.Expected-r.Delivered > m.Expected-m.Delivered {
			m.Delivered, m.Expected = r.Delivered, r.Expected
		}
		m.Gaps = max(m.Gaps, r.Gaps)
		m.Missing = max(m.Missing, r.Missing)
		m.Duplicates = max(m.Duplicates, r.Duplicates)
		m.OutOfOrder = max(m.OutOfOrder, r.OutOfOrder)
		m.Invalid = max(m.Invalid, r.Invalid)
		m.Abnormal = max(m.Abnormal, r.Abnormal)
		m.PeakKids = max(m.PeakKids, r.PeakKids)
		m.Problems = append(m.Problems, r.Problems...)
	}
	return m
}

// verdict checks sc's goal against a (median) result: "ok" or what missed and by how much.
func verdict(sc scenario, r result) string {
	var miss []string
	if r.Delivered != r.Expected {
		miss = append(miss, fmt.Sprintf("delivered %d of %d", r.Delivered, r.Expected))
	}
	if n := r.Gaps + r.Missing + r.Duplicates + r.OutOfOrder + r.Invalid; n > 0 && sc.Name != "E" {
		miss = append(miss, fmt.Sprintf("gaps %d missing %d dup %d ooo %d invalid %d", r.Gaps, r.Missing, r.Duplicates, r.OutOfOrder, r.Invalid))
	}
	over := func(name string, got, goal time.Duration) {
		if goal > 0 && got > goal {
			miss = append(miss, fmt.Sprintf("%s %s > %s (x%.1f)", name, ms(got), ms(goal), float64(got)/float64(goal)))
		}
	}
	if sc.Name == "E" {
		over("p50", r.P50, sc.Goal.FirstFrameP)
	} else {
		over("p50", r.P50, sc.Goal.P50)
		over("p99", r.P99, sc.Goal.P99)
	}
	over("drain", r.Drain, sc.Goal.Drain)
	if sc.Goal.PeakRSS > 0 && r.PeakRSS > sc.Goal.PeakRSS {
		miss = append(miss, fmt.Sprintf("RSS %s > %s (PSS %s)", mb(r.PeakRSS), mb(sc.Goal.PeakRSS), mb(r.PeakPSS)))
	}
	if len(miss) == 0 {
		return "met"
	}
	return "MISSED: " + strings.Join(miss, "; ")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
func mb(b int64) string         { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }

const tableHeader = `| Scenario | Delivered / expected | Gaps / dup / ooo / invalid | p50 | p99 | max | Throughput (frames/s) | Drain | Peak RSS (PSS), parent+children | Children | CPU s (distributor) | CPU per 10,000 frames | Goal | Result |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|`

// row is one markdown table row for a scenario's (median) result.
func row(sc scenario, r result, runs int) string {
	name := sc.Name + ": " + sc.Title
	if runs > 1 {
		name += fmt.Sprintf(" (median of %d)", runs)
	}
	lat := func(d time.Duration) string { return ms(d) }
	if sc.Name == "E" {
		return fmt.Sprintf("| %s | %d / %d connects | – | %s | %s | %s | – | – | %s (%s) | %d | %.2f | – | %s | %s |",
			name, r.Delivered, r.Expected, lat(r.P50), lat(r.P99), lat(r.Max), mb(r.PeakRSS), mb(r.PeakPSS), r.PeakKids,
			r.CPU.Seconds(), sc.Goal.Text, verdict(sc, r))
	}
	delivered := fmt.Sprintf("%d / %d", r.Delivered, r.Expected)
	if runs > 1 {
		delivered += " (worst run)"
	}
	return fmt.Sprintf("| %s | %s | %d / %d / %d / %d | %s | %s | %s | %.0f | %s | %s (%s) | %d | %.2f | %s | %s | %s |",
		name, delivered, r.Gaps+r.Missing, r.Duplicates, r.OutOfOrder, r.Invalid,
		lat(r.P50), lat(r.P99), lat(r.Max), r.Throughput, ms(r.Drain), mb(r.PeakRSS), mb(r.PeakPSS), r.PeakKids,
		r.CPU.Seconds(), ms(r.cpuPer10k()), sc.Goal.Text, verdict(sc, r))
}

// rowF is F: steady-state CPU per 10,000 frames delivered, from A and B.
func rowF(done map[string]result) string {
	var parts []string
	for _, n := range []string{"A", "B"} {
		if r, ok := done[n]; ok {
			parts = append(parts, fmt.Sprintf("%s: %s CPU per 10,000 frames delivered", n, ms(r.cpuPer10k())))
		}
	}
	return fmt.Sprintf("| F: steady-state CPU per 10,000 frames delivered | %s | | | | | | | | | | | derived from A/B | – |", strings.Join(parts, "; "))
}

// machine describes where the numbers were taken.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	gov, _ := exec.Command("go", "version").Output()
	var mem string
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		mem = strings.Fields(strings.SplitN(string(b), "\n", 2)[0])[1] + " kB RAM"
	}
	var uts syscall.Utsname
	syscall.Uname(&uts)
	rel := utsString(uts.Release[:])
	return fmt.Sprintf("%s, nproc %d, %s, Linux %s, %s", model, runtime.NumCPU(), mem, rel, strings.TrimSpace(string(gov)))
}

func utsString(b []int8) string {
	var s []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

// loadAvg is the 1-minute load average (the machine is shared: a high one means noisy numbers).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// selfCPU is this process's user+system CPU so far (the in-process subscribers).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// raiseFileLimit lifts RLIMIT_NOFILE to its hard limit (D needs ~2,000 descriptors in this process
// and as many in the distributor, which inherits the limit).
func raiseFileLimit(w io.Writer) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			fmt.Fprintf(w, "bench: cannot raise RLIMIT_NOFILE: %v\n", err)
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
