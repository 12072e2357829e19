package harness

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat; 100 on every Linux the
// harness runs on (it is fixed by the kernel ABI for x86 and arm64).
const clockTicks = 100

// ProcSample is one reading of one process.
type ProcSample struct {
	RSS  int64         // bytes (VmRSS): counts shared pages (the binary's text) in every process
	PSS  int64         // bytes (Pss of smaps_rollup): shared pages split between their users; 0 if unreadable
	CPU  time.Duration // utime+stime since the process started
	PPid int
}

// ReadProc reads /proc/PID/stat, /proc/PID/status and /proc/PID/smaps_rollup.
func ReadProc(pid int) (ProcSample, error) { return readProc(pid, true) }

// readProc reads PSS too if pss: smaps_rollup walks the process's page tables, which costs far
// more than the rest (sampling 21 processes every 100 ms was 7% of a bench harness's CPU).
func readProc(pid int, pss bool) (ProcSample, error) {
	var s ProcSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("/proc/%d/stat: no ')'", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return s, fmt.Errorf("/proc/%d/stat: %d fields after the name", pid, len(f))
	}
	// f[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
	s.PPid, _ = strconv.Atoi(f[1])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	s.CPU = time.Duration(ut+st) * time.Second / clockTicks
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			s.RSS = kb * 1024
		}
	}
	if !pss {
		return s, nil
	}
	if rollup, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid)); err == nil {
		for _, line := range strings.Split(string(rollup), "\n") {
			if v, ok := strings.CutPrefix(line, "Pss:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				s.PSS = kb * 1024
				break
			}
		}
	}
	return s, nil
}

// ChildrenOf lists the pids whose parent is pid, by scanning /proc.
func ChildrenOf(pid int) []int { return childrenOf([]int{pid})[pid] }

// childrenOf lists the children of each of parents with one scan of /proc.
func childrenOf(parents []int) map[int][]int {
	kids := make(map[int][]int, len(parents))
	want := make(map[string]int, len(parents))
	for _, p := range parents {
		want[strconv.Itoa(p)] = p
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return kids
	}
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 {
			continue
		}
		if p, ok := want[f[1]]; ok {
			kids[p] = append(kids[p], n)
		}
	}
	return kids
}

// Sampler polls process trees (a root and its children: the distributor's parent and its
// children, or a process without any): per tree, peak total RSS and, per pid, the last CPU seen
// (children exit when their last client leaves, so their CPU is kept from the last sample before
// they went). CPU already spent when the sampler started is subtracted.
type Sampler struct {
	roots []int
	every time.Duration
	n     int // samples taken

	mu    sync.Mutex
	trees []*treeUsage
	all   Usage // peaks of the sums over every tree, taken at one sample
	stop  chan struct{}
	done  chan struct{}
}

// treeUsage is one tree's running account.
type treeUsage struct {
	baseline map[int]time.Duration
	lastCPU  map[int]time.Duration
	peak     Usage // PeakRSS, PeakPSS, PeakKids
}

// StartSampler samples parent and its children now and then every interval until Stop.
func StartSampler(parent int, every time.Duration) *Sampler { return StartTreeSampler(every, parent) }

// StartTreeSampler samples each root and its children now and then every interval until Stop or
// StopEach, with one scan of /proc per sample for all of them.
func StartTreeSampler(every time.Duration, roots ...int) *Sampler {
	s := &Sampler{roots: roots, every: every, stop: make(chan struct{}), done: make(chan struct{})}
	for range roots {
		s.trees = append(s.trees, &treeUsage{baseline: map[int]time.Duration{}, lastCPU: map[int]time.Duration{}})
	}
	s.sample(true, false)
	go s.loop()
	return s
}

func (s *Sampler) loop() {
	defer close(s.done)
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sample(false, false)
		}
	}
}

// pssEvery: the Sampler reads PSS every pssEvery-th sample (and the last): a peak of PSS is
// sampled every second at the default 100 ms, RSS every 100 ms.
const pssEvery = 10

func (s *Sampler) sample(first, last bool) {
	kids := childrenOf(s.roots)
	s.mu.Lock()
	defer s.mu.Unlock()
	withPSS := s.n%pssEvery == 0 || last
	s.n++
	var rssAll, pssAll int64
	kidsAll := 0
	for i, root := range s.roots {
		t := s.trees[i]
		var rss, pss int64
		for _, pid := range append([]int{root}, kids[root]...) {
			p, err := readProc(pid, withPSS)
			if err != nil {
				continue // exited between the scan and the read
			}
			rss += p.RSS
			pss += p.PSS
			if first {
				t.baseline[pid] = p.CPU
			}
			t.lastCPU[pid] = p.CPU
		}
		t.peak.PeakRSS = max(t.peak.PeakRSS, rss)
		if withPSS {
			t.peak.PeakPSS = max(t.peak.PeakPSS, pss)
		}
		t.peak.PeakKids = max(t.peak.PeakKids, len(kids[root]))
		rssAll, pssAll, kidsAll = rssAll+rss, pssAll+pss, kidsAll+len(kids[root])
	}
	s.all.PeakRSS = max(s.all.PeakRSS, rssAll)
	if withPSS {
		s.all.PeakPSS = max(s.all.PeakPSS, pssAll)
	}
	s.all.PeakKids = max(s.all.PeakKids, kidsAll)
}

// Usage is what a Sampler measured over its run.
type Usage struct {
	PeakRSS  int64         // highest sum of VmRSS over the parent and its children, bytes
	PeakPSS  int64         // highest sum of Pss (shared pages counted once overall), bytes
	CPU      time.Duration // user+system CPU used since the sampler started, all processes
	PeakKids int           // most children seen at once
}

// Stop takes a last sample and returns what was measured over all the trees together.
func (s *Sampler) Stop() Usage {
	_, all := s.StopEach()
	return all
}

// StopEach takes a last sample and returns what was measured in each tree (in the order of the
// roots) and over all of them together (peaks of their sums at one sample).
func (s *Sampler) StopEach() (each []Usage, all Usage) {
	close(s.stop)
	<-s.done
	s.sample(false, true)
	s.mu.Lock()
	defer s.mu.Unlock()
	all = s.all
	for _, t := range s.trees {
		u := t.peak
		for pid, c := range t.lastCPU {
			u.CPU += c - t.baseline[pid]
		}
		all.CPU += u.CPU
		each = append(each, u)
	}
	return each, all
}
