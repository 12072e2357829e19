package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	txt := strings.TrimSuffix(p.data, ".data") + ".txt"
	os.WriteFile(txt, []byte("## self time\n"+flat+"\n## with callees (cumulative)\n"+cum), 0o644)
	return fmt.Sprintf("profile %s, self time:\n    %s\n  with callees:\n    %s", txt, top(flat, 12), top(cum, 12))
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
