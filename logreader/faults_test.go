package logreader_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/shardeum/distributor/logreader"
)

func put(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func add(t *testing.T, dir, name, content string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
}

func wantLine(t *testing.T, e Entry, want string) {
	t.Helper()
	if string(e.Line) != want {
		t.Fatalf("got %q at %s, want %q", e.Line, e.Pos, want)
	}
}

func TestOpenMissingDirNamesPathAndKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	_, err := Open(Options{Dir: dir, Stream: Cycle})
	if err == nil {
		t.Fatal("Open succeeded on a missing directory")
	}
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "DATA_LOG_DIR") {
		t.Fatalf("error %q should name %s and DATA_LOG_DIR and wrap fs.ErrNotExist", err, dir)
	}
}

func TestWaitForDirReadsFromStartWhenItAppears(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "later")
	r, _ := openT(t, Options{Dir: dir, WaitForDir: true, Poll: 10 * time.Millisecond})
	expectNothing(t, r, 50*time.Millisecond)
	w := mustWriter(t, dir, Receipt, 4, 10)
	appendN(t, w, 0, 10)
	for i := 0; i < 10; i++ {
		wantEntry(t, next(t, r, wait), i)
	}
}

func TestDirVanishesAndComesBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	w := mustWriter(t, dir, Receipt, 4, 10)
	r, ps := openT(t, Options{Dir: dir, Poll: 10 * time.Millisecond})
	appendN(t, w, 0, 6)
	for i := 0; i < 6; i++ {
		wantEntry(t, next(t, r, wait), i)
	}
	w.Close()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	expectNothing(t, r, 100*time.Millisecond) // the reader waits, it does not fail
	w2 := mustWriter(t, dir, Receipt, 4, 10)
	appendN(t, w2, 100, 6)
	for i := 100; i < 106; i++ {
		wantEntry(t, next(t, r, wait), i)
	}
	if ps.count(ProblemDirMissing)+ps.count(ProblemReplaced)+ps.count(ProblemGap) == 0 {
		t.Fatalf("no problem reported for the vanished directory: %v", ps.kinds())
	}
}

func TestPointerEmptyOrHalfRewritten(t *testing.T) {
	for _, bad := range []string{"", "receipt-lo"} {
		t.Run("pointer="+bad, func(t *testing.T) {
			dir := t.TempDir()
			put(t, dir, "active-receipt-log.txt", "receipt-log1.txt")
			put(t, dir, "receipt-log1.txt", `{"a":1}`+"\n")
			r, ps := openT(t, Options{Dir: dir, Start: Oldest})
			wantLine(t, next(t, r, wait), `{"a":1}`)
			// Rotation caught mid-way: End marker written, next file created, pointer truncated.
			add(t, dir, "receipt-log1.txt", "End: Number of entries: 1\n")
			put(t, dir, "receipt-log2.txt", `{"a":2}`+"\n")
			put(t, dir, "active-receipt-log.txt", bad)
			expectNothing(t, r, 50*time.Millisecond)
			put(t, dir, "active-receipt-log.txt", "receipt-log2.txt")
			wantLine(t, next(t, r, wait), `{"a":2}`)
			if k := ps.kinds(); len(k) > 0 {
				t.Fatalf("a pointer bad for a moment is not a problem: %v", k)
			}
		})
	}
}

func TestPointerNamesFileNotCreatedYet(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "active-receipt-log.txt", "receipt-log1.txt")
	put(t, dir, "receipt-log1.txt", `{"a":1}`+"\n")
	r, _ := openT(t, Options{Dir: dir, Start: Oldest})
	wantLine(t, next(t, r, wait), `{"a":1}`)
	add(t, dir, "receipt-log1.txt", "End: Number of entries: 1\n")
	put(t, dir, "active-receipt-log.txt", "receipt-log2.txt")
	expectNothing(t, r, 50*time.Millisecond)
	put(t, dir, "receipt-log2.txt", `{"a":2}`+"\n")
	wantLine(t, next(t, r, wait), `{"a":2}`)
}

// A reader that finds the pointer mid-rewrite walks from the last pointer it read. When the
// writer has meanwhile set that file aside as old- (at the wrap), the reader waits on it for
// the pointer, and does not take the files it has read for files it missed.
func TestPointerMidRewriteAfterItsFileWasSetAside(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "active-receipt-log.txt", "receipt-log5.txt")
	for n := 1; n <= 4; n++ {
		put(t, dir, fmt.Sprintf("receipt-log%d.txt", n), fmt.Sprintf(`{"f":%d}`+"\nEnd: Number of entries: 1\n", n))
	}
	put(t, dir, "receipt-log5.txt", `{"f":5}`+"\n")
	r, ps := openT(t, Options{Dir: dir, Start: Oldest})
	for n := 1; n <= 5; n++ {
		wantLine(t, next(t, r, wait), fmt.Sprintf(`{"f":%d}`, n))
	}
	// Until the next Next the reader does not look: file 5 ends, file 6 begins, files 1-5 are
	// set aside and the pointer is caught truncated.
	add(t, dir, "receipt-log5.txt", "End: Number of entries: 1\n")
	put(t, dir, "receipt-log6.txt", `{"f":6}`+"\n")
	for n := 1; n <= 5; n++ {
		name := fmt.Sprintf("receipt-log%d.txt", n)
		if err := os.Rename(filepath.Join(dir, name), filepath.Join(dir, "old-"+name)); err != nil {
			t.Fatal(err)
		}
	}
	put(t, dir, "active-receipt-log.txt", "")
	expectNothing(t, r, 50*time.Millisecond)
	put(t, dir, "active-receipt-log.txt", "receipt-log6.txt")
	wantLine(t, next(t, r, wait), `{"f":6}`)
	if k := ps.kinds(); len(k) > 0 {
		t.Fatalf("problems %v, want none", k)
	}
}

// A pointer left empty (its writer stopped mid-rewrite) is reported once it has been so for a
// second.
func TestPointerLeftEmptyIsReported(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "active-receipt-log.txt", "receipt-log1.txt")
	put(t, dir, "receipt-log1.txt", `{"a":1}`+"\n")
	r, ps := openT(t, Options{Dir: dir, Start: Oldest})
	wantLine(t, next(t, r, wait), `{"a":1}`)
	add(t, dir, "receipt-log1.txt", "End: Number of entries: 1\n")
	put(t, dir, "receipt-log2.txt", `{"a":2}`+"\n")
	put(t, dir, "active-receipt-log.txt", "")
	then := time.Now().Add(-time.Minute)
	if err := os.Chtimes(filepath.Join(dir, "active-receipt-log.txt"), then, then); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Next(ctx)
	}()
	select {
	case <-ps.ch:
	case <-ctx.Done():
	}
	cancel()
	<-done
	if p := ps.first(ProblemPointer); p == nil || len(ps.kinds()) != 1 {
		t.Fatalf("problems %v, want one about the pointer", ps.kinds())
	}
}

func TestPointerMissingAtOpenReadsEverythingLater(t *testing.T) {
	dir := t.TempDir()
	r, _ := openT(t, Options{Dir: dir, Start: Live})
	w := mustWriter(t, dir, Receipt, 3, 10)
	appendN(t, w, 0, 5)
	for i := 0; i < 5; i++ {
		wantEntry(t, next(t, r, wait), i)
	}
}

// A file truncated under the reader is read again from its start, paced or not.
func TestTruncatedFileIsReadAgainFromStart(t *testing.T) {
	for _, every := range []time.Duration{0, 20 * time.Millisecond} {
		t.Run(fmt.Sprintf("read every %v", every), func(t *testing.T) {
			dir := t.TempDir()
			put(t, dir, "active-receipt-log.txt", "receipt-log1.txt")
			put(t, dir, "receipt-log1.txt", `{"a":1}`+"\n"+`{"a":2}`+"\n")
			r, ps := openT(t, Options{Dir: dir, Start: Oldest})
			r.SetReadEvery(every)
			wantLine(t, next(t, r, wait), `{"a":1}`)
			wantLine(t, next(t, r, wait), `{"a":2}`)
			put(t, dir, "receipt-log1.txt", `{"b":1}`+"\n") // O_TRUNC then write
			wantLine(t, next(t, r, wait), `{"b":1}`)
			if ps.count(ProblemTruncated) != 1 {
				t.Fatalf("problems %v, want one truncated", ps.kinds())
			}
		})
	}
}

func TestReplacedFileIsReadFromItsStart(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "active-receipt-log.txt", "receipt-log1.txt")
	put(t, dir, "receipt-log1.txt", `{"a":1}`+"\n")
	r, ps := openT(t, Options{Dir: dir, Start: Oldest, Poll: 20 * time.Millisecond})
	wantLine(t, next(t, r, wait), `{"a":1}`)
	put(t, dir, "tmp", `{"new":1}`+"\n"+`{"new":2}`+"\n")
	if err := os.Rename(filepath.Join(dir, "tmp"), filepath.Join(dir, "receipt-log1.txt")); err != nil {
		t.Fatal(err)
	}
	wantLine(t, next(t, r, wait), `{"new":1}`)
	wantLine(t, next(t, r, wait), `{"new":2}`)
	if ps.count(ProblemReplaced) != 1 {
		t.Fatalf("problems %v, want one replaced", ps.kinds())
	}
}

func TestHugeLineAndLineLimit(t *testing.T) {
	dir := t.TempDir()
	big := `{"big":"` + strings.Repeat("x", 4<<20) + `"}`
	put(t, dir, "active-receipt-log.txt", "receipt-log1.txt")
	put(t, dir, "receipt-log1.txt", big+"\n"+`{"after":1}`+"\n")
	r, ps := openT(t, Options{Dir: dir, Start: Oldest})
	wantLine(t, next(t, r, wait), big)
	wantLine(t, next(t, r, wait), `{"after":1}`)

	small, ps2 := openT(t, Options{Dir: dir, Start: Oldest, MaxLineBytes: 1 << 20})
	wantLine(t, next(t, small, wait), `{"after":1}`)
	if p := ps2.first(ProblemLineTooLong); p == nil || p.Line != 1 || len(p.Sample) != 120 {
		t.Fatalf("problems %v, want line-too-long at line 1 with a 120-byte sample", ps2.kinds())
	}
	if len(ps.kinds()) != 0 {
		t.Fatalf("4 MiB line reported: %v", ps.kinds())
	}
	// A position after the skipped line resumes there.
	again, _ := openT(t, Options{Dir: dir, Start: After(small.Position())})
	add(t, dir, "receipt-log1.txt", `{"after":2}`+"\n")
	wantLine(t, next(t, again, wait), `{"after":2}`)
}

func TestCRLFLineEndsAreStripped(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "active-receipt-log.txt", "receipt-log1.txt")
	put(t, dir, "receipt-log1.txt", "{\"a\":1}\r\n{\"a\":2}\r\nEnd: Number of entries: 2\r\n")
	put(t, dir, "receipt-log2.txt", "{\"a\":3}\r\n")
	put(t, dir, "active-receipt-log.txt", "receipt-log2.txt")
	r, ps := openT(t, Options{Dir: dir, Start: Oldest})
	for _, want := range []string{`{"a":1}`, `{"a":2}`, `{"a":3}`} {
		wantLine(t, next(t, r, wait), want)
	}
	if len(ps.kinds()) != 0 {
		t.Fatalf("problems: %v", ps.kinds())
	}
}

func TestBytesAfterEndMarkerAreReportedAndIgnored(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "active-receipt-log.txt", "receipt-log2.txt")
	put(t, dir, "receipt-log1.txt", `{"a":1}`+"\nEnd: Number of entries: 1\n"+`{"stray":1}`+"\n{\"stray\":2}\n")
	put(t, dir, "receipt-log2.txt", `{"a":2}`+"\n")
	r, ps := openT(t, Options{Dir: dir, Start: Oldest})
	wantLine(t, next(t, r, wait), `{"a":1}`)
	wantLine(t, next(t, r, wait), `{"a":2}`)
	if p := ps.first(ProblemAfterEnd); p == nil || p.Line != 3 || ps.count(ProblemAfterEnd) != 1 {
		t.Fatalf("problems %v, want one data-after-end at line 3", ps.kinds())
	}
}

func TestInvalidJSONIsReportedOnceAndSkipped(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "active-receipt-log.txt", "receipt-log1.txt")
	put(t, dir, "receipt-log1.txt", `{"a":1}`+"\n"+`{"broken":`+"\n"+`{"a":2}`+"\n")
	r, ps := openT(t, Options{Dir: dir, Start: Oldest})
	wantLine(t, next(t, r, wait), `{"a":1}`)
	wantLine(t, next(t, r, wait), `{"a":2}`)
	p := ps.first(ProblemInvalidJSON)
	if p == nil || ps.count(ProblemInvalidJSON) != 1 || p.Line != 2 || p.Sample != `{"broken":` || !strings.HasSuffix(p.File, "receipt-log1.txt") || p.Stream != Receipt {
		t.Fatalf("problem %+v, want invalid-json once at receipt-log1.txt line 2", p)
	}
	if !strings.Contains(p.Error(), "line 2") {
		t.Fatalf("Error() = %q", p.Error())
	}
}

func TestEndMarkerCountMismatchIsReported(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "active-receipt-log.txt", "receipt-log2.txt")
	put(t, dir, "receipt-log1.txt", `{"a":1}`+"\n"+`{"a":2}`+"\nEnd: Number of entries: 3\n")
	put(t, dir, "receipt-log2.txt", `{"a":3}`+"\n")
	r, ps := openT(t, Options{Dir: dir, Start: Oldest})
	for _, want := range []string{`{"a":1}`, `{"a":2}`, `{"a":3}`} {
		wantLine(t, next(t, r, wait), want)
	}
	if ps.count(ProblemCountMismatch) != 1 {
		t.Fatalf("problems %v, want one count-mismatch", ps.kinds())
	}
}

func TestHalfWrittenLineWaitsForItsNewline(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "active-receipt-log.txt", "receipt-log1.txt")
	put(t, dir, "receipt-log1.txt", "")
	r, _ := openT(t, Options{Dir: dir})
	add(t, dir, "receipt-log1.txt", `{"a":`)
	expectNothing(t, r, 50*time.Millisecond)
	add(t, dir, "receipt-log1.txt", `1}`+"\n")
	e := next(t, r, wait)
	wantLine(t, e, `{"a":1}`)
	if e.Pos.Line != 1 || e.Pos.Offset != 8 {
		t.Fatalf("position %+v, want line 1 offset 8", e.Pos)
	}
}

func TestWriterMovedOnWithoutEndMarker(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "active-receipt-log.txt", "receipt-log1.txt")
	put(t, dir, "receipt-log1.txt", `{"a":1}`+"\n")
	r, ps := openT(t, Options{Dir: dir, Start: Oldest})
	wantLine(t, next(t, r, wait), `{"a":1}`)
	put(t, dir, "receipt-log2.txt", `{"a":2}`+"\n")
	put(t, dir, "active-receipt-log.txt", "receipt-log2.txt")
	wantLine(t, next(t, r, wait), `{"a":2}`)
	if ps.count(ProblemNoEndMarker) != 1 {
		t.Fatalf("problems %v, want one no-end-marker", ps.kinds())
	}
}

func TestOtherStreamsDoNotDisturb(t *testing.T) {
	dir := t.TempDir()
	wc := mustWriter(t, dir, Cycle, 3, 10)
	wr := mustWriter(t, dir, Receipt, 3, 10)
	r, ps := openT(t, Options{Dir: dir, Stream: Cycle})
	appendN(t, wr, 0, 20)
	appendN(t, wc, 0, 5)
	for i := 0; i < 5; i++ {
		e := next(t, r, wait)
		wantEntry(t, e, i)
		if e.Stream != Cycle {
			t.Fatalf("stream %s", e.Stream)
		}
	}
	if len(ps.kinds()) != 0 {
		t.Fatalf("problems: %v", ps.kinds())
	}
}
