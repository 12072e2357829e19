package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// perfRecording is `perf record` attached to the distributor's processes during a load phase,
// for the CPU profile of a missed goal (parent and children cannot be given a pprof flag here).
type perfRecording struct {
	cmd  *exec.Cmd
	data string
}

// startPerf attaches perf to pids, writing dir/name.data; nil (with a message) if perf fails.
func startPerf(dir, name string, pids []int) (*perfRecording, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var list []string
	for _, p := range pids {
		list = append(list, strconv.Itoa(p))
	}
	data := filepath.Join(dir, name+".data")
	cmd := exec.Command("perf", "record", "-F", "499", "-g", "-o", data, "-p", strings.Join(list, ","))
	log, _ := os.Create(filepath.Join(dir, name+".record.log"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("perf record: %w", err)
	}
	return &perfRecording{cmd: cmd, data: data}, nil
}

// stop ends the recording and writes the flat profile (top symbols by self time, per command)
// to <data>.txt, returning its first lines.
func (p *perfRecording) stop() string {
	p.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
	flat := perfReport(p.data, "--no-children", "--sort", "comm,symbol", "--percent-limit", "0.5")
	cum := perfReport(p.data, "--children", "--sort", "symbol", "--percent-limit", "3")
	roots := byGoroutineRoot(p.data, 12)
	txt := strings.TrimSuffix(p.data, ".data") + ".txt"
	os.WriteFile(txt, []byte("## by goroutine root function\n"+roots+"\n## self time\n"+flat+"\n## with callees (cumulative)\n"+cum), 0o644)
	return fmt.Sprintf("profile %s, by goroutine root:\n    %s\n  self time:\n    %s",
		txt, strings.ReplaceAll(strings.TrimSpace(roots), "\n", "\n    "), top(flat, 12))
}

// byGoroutineRoot groups perf samples by the function each goroutine started in (the frame
// under runtime.goexit; the outermost frame for runtime threads), which tells the hub, the client
// writers, fsnotify and the runtime apart.
func byGoroutineRoot(data string, n int) string {
	out, err := exec.Command("perf", "script", "-i", data).Output()
	if err != nil {
		return fmt.Sprintf("perf script: %v", err)
	}
	counts := map[string]int{}
	total := 0
	for _, sample := range strings.Split(string(out), "\n\n") {
		lines := strings.Split(strings.TrimSpace(sample), "\n")
		if len(lines) < 2 {
			continue
		}
		total++
		var frames []string
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			if len(f) >= 2 {
				frames = append(frames, strings.SplitN(f[1], "+0x", 2)[0])
			}
		}
		root := "?"
		for i, f := range frames {
			root = f
			if strings.HasPrefix(f, "runtime.goexit") && i > 0 {
				root = frames[i-1]
				break
			}
		}
		counts[root]++
	}
	type kv struct {
		k string
		v int
	}
	var list []kv
	for k, v := range counts {
		list = append(list, kv{k, v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].v > list[j].v })
	var b strings.Builder
	fmt.Fprintf(&b, "%d samples\n", total)
	for i, e := range list {
		if i == n {
			break
		}
		fmt.Fprintf(&b, "%5.1f%% %s\n", 100*float64(e.v)/float64(max(total, 1)), e.k)
	}
	return b.String()
}

func perfReport(data string, args ...string) string {
	args = append([]string{"report", "-i", data, "--stdio", "-g", "none"}, args...)
	out, err := exec.Command("perf", args...).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("perf report: %v: %.300s", err, out)
	}
	return string(out)
}

// top returns the first n data lines of a perf report, whitespace squeezed.
func top(report string, n int) string {
	var lines []string
	for _, l := range strings.Split(report, "\n") {
		if strings.HasPrefix(l, "#") || strings.TrimSpace(l) == "" {
			continue
		}
		f := strings.Fields(l)
		for len(f) > 0 && f[len(f)-1] == "-" {
			f = f[:len(f)-1]
		}
		lines = append(lines, strings.Join(f, " "))
		if len(lines) == n {
			break
		}
	}
	return strings.Join(lines, "\n    ")
}
