package logwriter_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shardeum/distributor/logreader"
	"github.com/shardeum/distributor/logwriter"
)

// TestBundledTestdataIsReproducible regenerates testdata/data-logs exactly as the go:generate
// line in cmd_replay.go does and compares it byte for byte with the committed files.
func TestBundledTestdataIsReproducible(t *testing.T) {
	want := filepath.Join("..", "testdata", "data-logs")
	dir := t.TempDir()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	g := logwriter.NewGenerator(1, func() time.Time { n++; return t0.Add(time.Duration(n) * time.Millisecond) })
	src := map[logreader.Stream]logwriter.Source{}
	for _, s := range []logreader.Stream{logreader.Receipt, logreader.Cycle, logreader.OriginalTx} {
		src[s] = logwriter.GeneratedSource(g, s, 40)
	}
	if _, err := logwriter.Replay(context.Background(), logwriter.ReplayOptions{Dir: dir, Sources: src, MaxEntries: 25}); err != nil {
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
	for _, s := range logreader.Streams {
		r, ps := openT(t, logreader.Options{Dir: want, Stream: s, Start: logreader.Oldest})
		for i := 0; i < 40; i++ {
			if e := next(t, r, wait); e.Pos.File != 1+i/25 {
				t.Fatalf("%s entry %d in file %d", s, i, e.Pos.File)
			}
		}
		expectNothing(t, r, 20*time.Millisecond)
		if p := ps.all(); len(p) > 0 {
			t.Fatalf("%s: problems %v", s, p)
		}
	}
}

func TestReplayFromDirCopiesEveryStreamInOrder(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	for _, s := range logreader.Streams {
		w := mustWriter(t, src, s, 7, 4)
		appendN(t, w, 0, 50) // wraps: oldest entries gone, old- files present
	}
	sources := map[logreader.Stream]logwriter.Source{}
	for _, s := range logreader.Streams {
		var err error
		if sources[s], err = logwriter.DirSource(src, s); err != nil {
			t.Fatal(err)
		}
	}
	st, err := logwriter.Replay(context.Background(), logwriter.ReplayOptions{Dir: dst, Sources: sources, MaxEntries: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range logreader.Streams {
		r, _ := openT(t, logreader.Options{Dir: src, Stream: s, Start: logreader.Oldest})
		var want []string
		for i := 0; i < st.Written[s]; i++ {
			want = append(want, string(next(t, r, wait).Line))
		}
		got, _ := os.ReadFile(filepath.Join(dst, s.FileName(1)))
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
	g := logwriter.NewGenerator(1, nil)
	start := time.Now()
	st, err := logwriter.Replay(context.Background(), logwriter.ReplayOptions{Dir: dir, Rate: 200,
		Sources: map[logreader.Stream]logwriter.Source{logreader.Receipt: logwriter.GeneratedSource(g, logreader.Receipt, 21)}})
	if err != nil {
		t.Fatal(err)
	}
	// 21 entries at 200/s: the last is due 100 ms after the first. A lower bound: a loaded
	// machine only makes it later.
	if el := time.Since(start); el < 100*time.Millisecond || st.Total != 21 {
		t.Fatalf("wrote %d entries in %s, want 21 in >= 100ms", st.Total, el)
	}
}
