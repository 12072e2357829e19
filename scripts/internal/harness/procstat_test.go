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
