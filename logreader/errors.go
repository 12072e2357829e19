package logreader

import (
	"errors"
	"fmt"
)

// ErrPositionGone is wrapped by the error Open or Next returns when a reader started with
// After(pos) cannot find pos on disk: the file (K-logN.txt or old-K-logN.txt with the same
// first-line fingerprint) was deleted by the writer's rotation, or it is shorter than the
// position, or the position does not end a line. Callers fall back (e.g. to Oldest or Live)
// and tell their client; the child closes with protocol.CloseCursorGone.
var ErrPositionGone = errors.New("position no longer on disk")

// ErrClosed is returned by Next after Close.
var ErrClosed = errors.New("logreader: reader closed")

// Problem is a fault in the data logs that the reader reported and stepped over: the stream
// goes on. It is logged once (slog Warn) and passed to Options.OnProblem.
type Problem struct {
	Stream Stream
	Kind   ProblemKind
	File   string // path of the file concerned (or directory / pointer file)
	Line   int64  // 1-based line number, 0 when not about a line
	Detail string // what happened, in words
	Sample string // first 120 bytes of the offending line, when there is one
}

// ProblemKind classifies problems, for metrics and tests.
type ProblemKind string

const (
	ProblemInvalidJSON   ProblemKind = "invalid-json"   // a line is not valid JSON: skipped
	ProblemLineTooLong   ProblemKind = "line-too-long"  // a line exceeds Options.MaxLineBytes: skipped
	ProblemCountMismatch ProblemKind = "count-mismatch" // End marker's count differs from the lines read
	ProblemAfterEnd      ProblemKind = "data-after-end" // bytes after the End marker: ignored
	ProblemNoEndMarker   ProblemKind = "no-end-marker"  // the writer moved on without an End marker
	ProblemTruncated     ProblemKind = "truncated"      // file shrank under the reader: re-read from 0
	ProblemReplaced      ProblemKind = "replaced"       // file replaced or deleted under the reader
	ProblemGap           ProblemKind = "gap"            // files were deleted before the reader got to them
	ProblemDirMissing    ProblemKind = "dir-missing"    // data-log directory missing: waiting for it
	ProblemPointer       ProblemKind = "pointer"        // active-K-log.txt unreadable for a while
	ProblemOpen          ProblemKind = "open"           // a data file cannot be opened (permissions, ...): retrying
	ProblemRead          ProblemKind = "read"           // a read failed: retrying
	ProblemWatch         ProblemKind = "watch"          // fsnotify unavailable: polling only
)

func (p *Problem) Error() string {
	s := fmt.Sprintf("logreader %s: %s: %s", p.Stream, p.Kind, p.Detail)
	if p.File != "" {
		s += " (" + p.File
		if p.Line > 0 {
			s += fmt.Sprintf(" line %d", p.Line)
		}
		s += ")"
	}
	if p.Sample != "" {
		s += fmt.Sprintf(": %q", p.Sample)
	}
	return s
}

func sample(line []byte) string {
	if len(line) > 120 {
		line = line[:120]
	}
	return string(line)
}
