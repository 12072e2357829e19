package logreader

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestBundledTestdataIsReproducible regenerates testdata/data-logs exactly as the go:generate
// line in cmd_replay.go does and compares it byte for byte with the committed files.
func TestBundledTestdataIsReproducible(t *testing.T) {
	want := filepath.Join("..", "testdata", "data-logs")
	dir := t.TempDir()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	g := NewGenerator(1, func() time.Time { n++; return t0.Add(time.Duration(n) * time.Millisecond) })
	src := map[Stream]Source{}
	for _, s := range []Stream{Receipt, Cycle, OriginalTx} {
		src[s] = GeneratedSource(g, s, 40)
	}
	if _, err := Replay(context.Background(), ReplayOptions{Dir: dir, Sources: src, MaxEntries: 25}); err != nil {
		t.Fatal(err)
	}
	if got, exp := listDir(t, dir), listDir(t, want); strings.Join(got, " ") != strings.Join(exp, " ") {
		t.Fatalf("files %v, committed %v (run go generate in the repository root)", got, exp)
	}
	for _, name := range listDir(t, dir) {
		a, _ := os.ReadFile(filepath.Join(dir, name))
		b, _ := os.ReadFile(filepath.Join(want, name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from the committed copy (run go generate in the repository root)", name)
		}
	}
	// And it reads back: 40 entries per stream, one rotation, no problems.
	for _, s := range Streams {
		r, ps := openT(t, Options{Dir: want, Stream: s, Start: Oldest})
		for i := 0; i < 40; i++ {
			if e := next(t, r, wait); e.Pos.File != 1+i/25 {
				t.Fatalf("%s entry %d in file %d", s, i, e.Pos.File)
			}
		}
		expectNothing(t, r, 20*time.Millisecond)
		if len(ps.kinds()) > 0 {
			t.Fatalf("%s: problems %v", s, ps.kinds())
		}
	}
}

func listDir(t *testing.T, dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// TestWriterFollowsTheArchiverSequence checks the on-disk states of DataLogWriter.ts with
// maxLogFiles 10: old- renames at 5 and 10, deletes of earlier old- files, wrap to 1.
func TestWriterFollowsTheArchiverSequence(t *testing.T) {
	dir := t.TempDir()
	w := mustWriter(t, dir, Cycle, 2, 10)
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
	w2 := mustWriter(t, dir, Cycle, 2, 10)
	appendN(t, w2, 40, 2)
	if got := state(); !strings.HasPrefix(got, "->1 1 10") {
		t.Fatalf("after restart: %s", got)
	}
}

func TestReplayFromDirCopiesEveryStreamInOrder(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	for _, s := range Streams {
		w := mustWriter(t, src, s, 7, 4)
		appendN(t, w, 0, 50) // wraps: oldest entries gone, old- files present
	}
	sources := map[Stream]Source{}
	for _, s := range Streams {
		var err error
		if sources[s], err = DirSource(src, s); err != nil {
			t.Fatal(err)
		}
	}
	st, err := Replay(context.Background(), ReplayOptions{Dir: dst, Sources: sources, MaxEntries: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Streams {
		r, _ := openT(t, Options{Dir: src, Stream: s, Start: Oldest})
		var want []string
		for i := 0; i < st.Written[s]; i++ {
			want = append(want, string(next(t, r, wait).Line))
		}
		got, _ := os.ReadFile(filepath.Join(dst, s.fileName(1)))
		if string(got) != strings.Join(want, "\n")+"\n" {
			t.Fatalf("%s: replayed file differs from the source stream", s)
		}
		if st.Written[s] < 20 || !strings.Contains(want[len(want)-1], `"i":49,`) {
			t.Fatalf("%s: replayed %d entries ending %s", s, st.Written[s], want[len(want)-1])
		}
	}
}

func TestReplayPacesAtRate(t *testing.T) {
	dir := t.TempDir()
	g := NewGenerator(1, nil)
	start := time.Now()
	st, err := Replay(context.Background(), ReplayOptions{Dir: dir, Rate: 200,
		Sources: map[Stream]Source{Receipt: GeneratedSource(g, Receipt, 21)}})
	if err != nil {
		t.Fatal(err)
	}
	// 21 entries at 200/s: the last is due 100 ms after the first.
	if el := time.Since(start); el < 100*time.Millisecond || st.Total != 21 {
		t.Fatalf("wrote %d entries in %s, want 21 in >= 100ms", st.Total, el)
	}
}
