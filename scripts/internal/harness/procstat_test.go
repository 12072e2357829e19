package harness

import (
	"bufio"
	"os"
	"os/exec"
	"testing"
	"time"
)

func TestReadProcSelf(t *testing.T) {
	p, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if p.RSS < 1<<20 || p.PSS <= 0 || p.PSS > p.RSS || p.PPid != os.Getppid() || p.CPU < 0 {
		t.Errorf("ReadProc(self) = %+v; want RSS over 1 MiB and ppid %d", p, os.Getppid())
	}
	if _, err := ReadProc(1 << 30); err == nil {
		t.Error("ReadProc of a pid that cannot exist succeeded")
	}
}

// The sampler sees a child process of the watched one and keeps the CPU it burned after it exited.
func TestSamplerKeepsExitedChildrensCPU(t *testing.T) {
	// The watched "parent" is a shell that runs a CPU-burning child shell, says so, then sleeps.
	sh := exec.Command("sh", "-c", `sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done'; echo done; exec sleep 30`)
	out, err := sh.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sh.Process.Kill(); sh.Wait() })
	s := StartSampler(sh.Process.Pid, 10*time.Millisecond)
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "done\n" {
		t.Fatalf("shell said %q, %v", line, err)
	}
	u := s.Stop()
	if u.PeakKids != 1 || u.PeakRSS <= 0 || u.PeakPSS <= 0 || u.CPU < 50*time.Millisecond {
		t.Errorf("sampler: %+v; want the busy child's CPU (well over 50 ms), 1 child, RSS and PSS", u)
	}
}

// A sampler of two trees keeps each one's CPU, RSS and children apart, and its total is their
// sum: the busy tree has the CPU and its child, the idle one neither.
func TestTreeSamplerSeparatesTrees(t *testing.T) {
	busy := exec.Command("sh", "-c", `sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done'; echo done; exec sleep 30`)
	out, err := busy.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	idle := exec.Command("sleep", "30")
	for _, c := range []*exec.Cmd{busy, idle} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	}
	s := StartTreeSampler(10*time.Millisecond, busy.Process.Pid, idle.Process.Pid)
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "done\n" {
		t.Fatalf("shell said %q, %v", line, err)
	}
	each, all := s.StopEach()
	if len(each) != 2 {
		t.Fatalf("StopEach gave %d trees, want 2", len(each))
	}
	b, i := each[0], each[1]
	if b.PeakKids != 1 || b.CPU < 50*time.Millisecond || b.PeakRSS <= 0 {
		t.Errorf("busy tree %+v; want its child, well over 50 ms of CPU, and RSS", b)
	}
	if i.PeakKids != 0 || i.CPU >= b.CPU || i.PeakRSS <= 0 {
		t.Errorf("idle tree %+v; want no child, less CPU than the busy tree's, and RSS", i)
	}
	if all.CPU != b.CPU+i.CPU || all.PeakKids != 1 || all.PeakRSS < max(b.PeakRSS, i.PeakRSS) || all.PeakRSS > b.PeakRSS+i.PeakRSS {
		t.Errorf("all %+v; want the sum of busy %+v and idle %+v", all, b, i)
	}
}
