package logwriter_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardeum/distributor/logreader"
)

// TestWriterFollowsTheArchiverSequence checks the on-disk states of DataLogWriter.ts with
// maxLogFiles 10: old- renames at 5 and 10, deletes of earlier old- files, wrap to 1.
func TestWriterFollowsTheArchiverSequence(t *testing.T) {
	dir := t.TempDir()
	w := mustWriter(t, dir, logreader.Cycle, 2, 10)
	state := func() string {
		var keep []string
		for _, n := range listDir(t, dir) {
			if strings.HasPrefix(n, "active-") {
				b, _ := os.ReadFile(filepath.Join(dir, n))
				n = "->" + strings.TrimSuffix(strings.TrimPrefix(string(b), "cycle-log"), ".txt")
			} else {
				n = strings.TrimSuffix(strings.Replace(n, "cycle-log", "", 1), ".txt")
			}
			keep = append(keep, n)
		}
		return strings.Join(keep, " ")
	}
	steps := map[int]string{ // entries written -> directory (file numbers; old-N; ->pointer)
		1:  "->1 1",
		9:  "->5 1 2 3 4 5",
		19: "->10 10 6 7 8 9 old-1 old-2 old-3 old-4 old-5",
		21: "->1 1 10 6 7 8 9 old-1 old-2 old-3 old-4 old-5",
		29: "->5 1 2 3 4 5 old-10 old-6 old-7 old-8 old-9",
		39: "->10 10 6 7 8 9 old-1 old-2 old-3 old-4 old-5",
	}
	for i := 1; i <= 39; i++ {
		appendN(t, w, i, 1)
		if want, ok := steps[i]; ok {
			if got := state(); got != want {
				t.Fatalf("after %d entries: %s, want %s", i, got, want)
			}
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "cycle-log9.txt"))
	if !strings.HasSuffix(string(b), "\nEnd: Number of entries: 2\n") {
		t.Fatalf("file 9 ends %q", b)
	}
	// A writer restarted on the directory continues the active file.
	w.Close()
	w2 := mustWriter(t, dir, logreader.Cycle, 2, 10)
	appendN(t, w2, 40, 2)
	if got := state(); !strings.HasPrefix(got, "->1 1 10") {
		t.Fatalf("after restart: %s", got)
	}
}
