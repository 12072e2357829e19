package logreader_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	. "github.com/shardeum/distributor/logreader"
)

// TestPermissionDenied: a file the reader may not open is reported once and retried; once it
// becomes readable the stream goes on. Root ignores file modes, so as root the test runs
// itself again as user nobody.
func TestPermissionDenied(t *testing.T) {
	if os.Getuid() == 0 {
		if os.Getenv("LOGREADER_PERM_CHILD") != "" {
			t.Fatal("still root in the child")
		}
		tmp, err := os.MkdirTemp("", "logreader-perm-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		if err := os.Chmod(tmp, 0o777); err != nil {
			t.Fatal(err)
		}
		// The test binary sits in a directory only root may enter: run a copy.
		bin, err := os.ReadFile(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		self := filepath.Join(tmp, "logreader.test")
		if err := os.WriteFile(self, bin, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(self, "-test.run=^TestPermissionDenied$", "-test.count=1", "-test.v")
		cmd.Dir = tmp
		cmd.Env = append(os.Environ(), "LOGREADER_PERM_CHILD=1", "TMPDIR="+tmp, "GOCOVERDIR=")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Skipf("cannot run the test as user nobody here: %v", err)
		}
		if err != nil {
			t.Fatalf("test as nobody failed: %v\n%s", err, out)
		}
		t.Logf("as nobody:\n%s", out)
		return
	}
	dir := t.TempDir()
	w := mustWriter(t, dir, Receipt, 2, 10)
	r, ps := openT(t, Options{Dir: dir, Poll: 10 * time.Millisecond})
	appendN(t, w, 0, 2) // fills file 1
	wantEntry(t, next(t, r, wait), 0)
	wantEntry(t, next(t, r, wait), 1)
	appendN(t, w, 2, 1) // rotates: file 2 created with entry 2
	f2 := filepath.Join(dir, "receipt-log2.txt")
	if err := os.Chmod(f2, 0); err != nil {
		t.Fatal(err)
	}
	expectNothing(t, r, 100*time.Millisecond)
	if p := ps.first(ProblemOpen); p == nil || p.File != f2 || ps.count(ProblemOpen) != 1 {
		t.Fatalf("problems %v, want one open problem for %s", ps.kinds(), f2)
	}
	if err := os.Chmod(f2, 0o644); err != nil {
		t.Fatal(err)
	}
	wantEntry(t, next(t, r, wait), 2)
	appendN(t, w, 3, 3)
	for i := 3; i < 6; i++ {
		wantEntry(t, next(t, r, wait), i)
	}
}
