package logreader_test

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/shardeum/distributor/logreader"
)

func TestPositionStringRoundTrip(t *testing.T) {
	for _, p := range []Position{
		{File: 1, Line: 1, Offset: 8, FP: 0x5f1d3c0a9b2e4d71},
		{File: 10, Line: 10000, Offset: 1 << 40, FP: 0},
		{File: 3, FP: 1},
		{File: 7},
	} {
		s := p.String()
		if url.QueryEscape(s) != s {
			t.Errorf("%q is not URL-safe", s)
		}
		got, err := ParsePosition(s)
		if err != nil || got != p {
			t.Errorf("ParsePosition(%q) = %+v, %v; want %+v", s, got, err, p)
		}
	}
	if (Position{}).String() != "" {
		t.Error("zero position should print as empty")
	}
	if p, err := ParsePosition(""); err != nil || !p.IsZero() {
		t.Errorf("ParsePosition(\"\") = %v, %v", p, err)
	}
}

func TestParsePositionRejectsGarbage(t *testing.T) {
	for _, s := range []string{
		"x", "1.2.3", "1.2.3.4.5", "0.1.1.0000000000000000", "1.-1.1.0000000000000000", "1.1.1.000000000000000",
		"1.1.1.000000000000000G", "1.1.1.00000000000000AA", "01.1.1.0000000000000000", "1.0.5.0000000000000000",
		"1.1.1.0000000000000000 ", "1.99999999999999999999.1.0000000000000000", "1..1.0000000000000000",
	} {
		if _, err := ParsePosition(s); err == nil || !errors.Is(err, ErrBadPosition) {
			t.Errorf("ParsePosition(%q) = %v, want ErrBadPosition", s, err)
		}
	}
}

func TestResumeAfterPositionNoGapNoDuplicate(t *testing.T) {
	dir := t.TempDir()
	w := mustWriter(t, dir, Receipt, 5, 4)
	r, _ := openT(t, Options{Dir: dir})
	appendN(t, w, 0, 12)
	var last Position
	for i := 0; i < 7; i++ {
		e := next(t, r, wait)
		wantEntry(t, e, i)
		last = e.Pos
	}
	r.Close()
	if r.Position() != last {
		t.Fatalf("Position() = %s, want %s", r.Position(), last)
	}
	p, err := ParsePosition(last.String())
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := openT(t, Options{Dir: dir, Start: After(p)})
	appendN(t, w, 12, 3)
	for i := 7; i < 15; i++ {
		wantEntry(t, next(t, r2, wait), i)
	}
}

func TestResumeFromFileRenamedToOld(t *testing.T) {
	dir := t.TempDir()
	w := mustWriter(t, dir, Receipt, 5, 4)
	appendN(t, w, 0, 3) // receipt-log1.txt
	r, _ := openT(t, Options{Dir: dir, Start: Oldest})
	wantEntry(t, next(t, r, wait), 0)
	p := r.Position()
	r.Close()
	appendN(t, w, 3, 14) // rotates to file 4: files 1 and 2 become old-
	if _, err := os.Stat(filepath.Join(dir, "old-receipt-log1.txt")); err != nil {
		t.Fatalf("setup: %v", err)
	}
	r2, _ := openT(t, Options{Dir: dir, Start: After(p)})
	for i := 1; i < 17; i++ {
		wantEntry(t, next(t, r2, wait), i)
	}
}

func TestResumeFromGoneOrWrongGenerationPosition(t *testing.T) {
	dir := t.TempDir()
	w := mustWriter(t, dir, Receipt, 5, 4)
	appendN(t, w, 0, 3)
	r, _ := openT(t, Options{Dir: dir, Start: Oldest})
	wantEntry(t, next(t, r, wait), 0)
	p := r.Position()
	r.Close()
	appendN(t, w, 3, 40) // several wraps: the generation p was in is deleted, file 1 reused
	if _, err := os.Stat(filepath.Join(dir, "receipt-log1.txt")); err != nil {
		t.Fatalf("setup: file 1 should exist again: %v", err)
	}
	_, err := Open(Options{Dir: dir, Stream: Receipt, Start: After(p)})
	if !errors.Is(err, ErrPositionGone) || !strings.Contains(err.Error(), "receipt-log1.txt") {
		t.Fatalf("Open after a gone position: %v, want ErrPositionGone naming the file", err)
	}
	// A position that does not end a line is gone too (forged or truncated file).
	q := p
	q.Offset--
	if _, err := Open(Options{Dir: dir, Stream: Receipt, Start: After(q)}); !errors.Is(err, ErrPositionGone) {
		t.Fatalf("mid-line position: %v", err)
	}
}

func TestLiveStartsAtEndOfActiveFile(t *testing.T) {
	dir := t.TempDir()
	w := mustWriter(t, dir, Receipt, 5, 10)
	appendN(t, w, 0, 7)
	r, _ := openT(t, Options{Dir: dir})
	start := r.Position()
	if start.File != 2 || start.Line != 2 {
		t.Fatalf("live start %+v, want file 2 line 2", start)
	}
	appendN(t, w, 7, 5)
	for i := 7; i < 12; i++ {
		wantEntry(t, next(t, r, wait), i)
	}
	// The start position itself resumes correctly.
	r2, _ := openT(t, Options{Dir: dir, Start: After(start)})
	for i := 7; i < 12; i++ {
		wantEntry(t, next(t, r2, wait), i)
	}
}
