package logreader

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Position is where a reader stands in one stream: just after a line it emitted.
//
// File, Line and Offset locate the line: the file number N of K-logN.txt, the line's 1-based
// number in that file (every line counts, skipped ones too) and the byte offset just after its
// newline, where reading resumes. File numbers are reused when the writer wraps around, so
// FP tells the generations apart: it fingerprints the file's first line (FNV-1a 64 of its
// first 4 KiB). The fingerprint lives in the file itself, so a position saved by one process is
// found again by another, after restarts and after the file was renamed to old-K-logN.txt.
//
// The zero Position means "nowhere yet". Positions identify lines; they are not ordered
// across files (nothing on disk says how many times the writer has wrapped).
type Position struct {
	File   int    // N of K-logN.txt (or old-K-logN.txt)
	Line   int64  // 1-based line number within the file
	Offset int64  // byte offset just after the line's newline
	FP     uint64 // fingerprint of the file's first line; 0 when the file was empty
}

// IsZero reports whether p is the zero Position.
func (p Position) IsZero() bool { return p == Position{} }

// String is the compact, URL-safe cursor form "N.L.O.FP": decimal file, line and offset and
// 16 hex digits of fingerprint, e.g. "3.1200.1228800.5f1d3c0a9b2e4d71". The zero Position is "".
func (p Position) String() string {
	if p.IsZero() {
		return ""
	}
	b := make([]byte, 0, 48)
	b = strconv.AppendInt(b, int64(p.File), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, p.Line, 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, p.Offset, 10)
	b = append(b, '.')
	const hexdig = "0123456789abcdef"
	for i := 60; i >= 0; i -= 4 {
		b = append(b, hexdig[p.FP>>uint(i)&0xf])
	}
	return string(b)
}

// ErrBadPosition is wrapped by ParsePosition's errors.
var ErrBadPosition = errors.New("malformed position")

// ParsePosition parses the String form. It accepts exactly what String produces.
func ParsePosition(s string) (Position, error) {
	if s == "" {
		return Position{}, nil
	}
	// Split by hand: subscribers parse a cursor per frame, and strings.Split allocates.
	var parts [4]string
	n, rest := 0, s
	for n < 3 {
		i := strings.IndexByte(rest, '.')
		if i < 0 {
			break
		}
		parts[n], rest, n = rest[:i], rest[i+1:], n+1
	}
	parts[n] = rest
	if n != 3 || strings.IndexByte(rest, '.') >= 0 {
		return badPosition(s, "want 4 dot-separated fields file.line.offset.fingerprint")
	}
	file, ok1 := decimal(parts[0], 1<<30)
	line, ok2 := decimal(parts[1], 1<<62)
	off, ok3 := decimal(parts[2], 1<<62)
	if !ok1 || !ok2 || !ok3 || file == 0 {
		return badPosition(s, "file must be a positive decimal, line and offset non-negative decimals")
	}
	fp, ok := lowerHex16(parts[3])
	if !ok {
		return badPosition(s, "fingerprint must be 16 lower-case hex digits")
	}
	if (line == 0) != (off == 0) {
		return badPosition(s, "line and offset must both be zero or both positive")
	}
	return Position{File: int(file), Line: line, Offset: off, FP: fp}, nil
}

func badPosition(s, why string) (Position, error) {
	q := s
	if len(q) > 64 {
		q = q[:64] + "…"
	}
	return Position{}, fmt.Errorf("logreader: %w %q: %s", ErrBadPosition, q, why)
}

// decimal parses a non-negative decimal of at most 19 digits without leading zeros, up to max.
func decimal(f string, max int64) (int64, bool) {
	if f == "" || len(f) > 19 || (len(f) > 1 && f[0] == '0') {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(f); i++ {
		c := f[i] - '0'
		if c > 9 {
			return 0, false
		}
		v = v*10 + uint64(c) // 19 digits cannot overflow a uint64
	}
	return int64(v), v <= uint64(max)
}

// lowerHex16 parses exactly 16 lower-case hex digits.
func lowerHex16(f string) (uint64, bool) {
	if len(f) != 16 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(f); i++ {
		c := f[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(c)
	}
	return v, true
}

// fingerprintLimit bounds how much of the first line the fingerprint covers.
const fingerprintLimit = 4096

// fingerprint hashes a file's first line (without its line end).
func fingerprint(firstLine []byte) uint64 {
	if len(firstLine) > fingerprintLimit {
		firstLine = firstLine[:fingerprintLimit]
	}
	h := fnv.New64a()
	h.Write(firstLine)
	return h.Sum64()
}

type startMode int

const (
	modeLive startMode = iota
	modeOldest
	modeAfter
)

// Start says where a reader begins. The zero value is Live.
type Start struct {
	mode startMode
	pos  Position
}

var (
	// Live starts at the end of the active file at Open time: only lines appended later are
	// read (the reference's behaviour). If the stream has no files yet, everything written
	// once they appear is read.
	Live = Start{}
	// Oldest starts at the first line of the oldest file still on disk, old- files included.
	Oldest = Start{mode: modeOldest}
)

// After starts just after p. If p is zero it is the same as Oldest. If p's file is gone from
// disk, Open (or Next, when the directory was not there at Open) fails with ErrPositionGone.
func After(p Position) Start {
	if p.IsZero() {
		return Oldest
	}
	return Start{mode: modeAfter, pos: p}
}

func (s Start) String() string {
	switch s.mode {
	case modeOldest:
		return "oldest"
	case modeAfter:
		return "after " + s.pos.String()
	}
	return "live"
}
