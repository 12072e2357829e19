package logreader

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Stream names one of the three data-log streams an archiver or collector writes.
type Stream string

const (
	Cycle      Stream = "cycle"
	Receipt    Stream = "receipt"
	OriginalTx Stream = "originalTx"
)

// Streams lists every stream, in the order replay and tests use.
var Streams = []Stream{Cycle, Receipt, OriginalTx}

// ParseStream accepts a stream name exactly as it appears in file names.
func ParseStream(s string) (Stream, error) {
	for _, st := range Streams {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("logreader: unknown stream %q (want cycle, receipt or originalTx)", s)
}

// DefaultMaxFiles is the writers' maxLogFiles default: file numbers run 1..10 and wrap.
const DefaultMaxFiles = 10

// DefaultMaxEntries returns the archiver's default entries per file for a stream
// (dataLogWriter.maxCycleEntries / maxReceiptEntries / maxOriginalTxEntries).
func DefaultMaxEntries(s Stream) int {
	if s == Cycle {
		return 500
	}
	return 10000
}

// EndMarkerPrefix starts the last line a writer puts in a file before rotating; the count of
// the file's entries follows it.
const EndMarkerPrefix = "End: Number of entries: "

// PointerName is the name of the stream's pointer file, active-K-log.txt, which holds the
// name of the file being written.
func (s Stream) PointerName() string { return "active-" + string(s) + "-log.txt" }

// FileName is the name of the stream's data file number n, K-logN.txt.
func (s Stream) FileName(n int) string { return string(s) + "-log" + strconv.Itoa(n) + ".txt" }

// OldFileName is the name file n takes when the writer sets it aside, old-K-logN.txt.
func (s Stream) OldFileName(n int) string { return "old-" + s.FileName(n) }

// ParseFileName returns N for "K-logN.txt" (a pointer's content), or 0.
func (s Stream) ParseFileName(name string) int {
	rest, ok := strings.CutPrefix(name, string(s)+"-log")
	if !ok {
		return 0
	}
	digits, ok := strings.CutSuffix(rest, ".txt")
	if !ok || digits == "" || len(digits) > 9 {
		return 0
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n <= 0 || digits[0] == '0' {
		return 0
	}
	return n
}

// owns reports whether a directory entry name belongs to this stream (pointer, file or old- file);
// events for the other streams sharing the directory are ignored.
func (s Stream) owns(base string) bool {
	base = strings.TrimPrefix(base, "old-")
	return strings.HasPrefix(base, string(s)+"-log") || base == s.PointerName()
}

func (s Stream) path(dir string, n int, old bool) string {
	if old {
		return filepath.Join(dir, s.OldFileName(n))
	}
	return filepath.Join(dir, s.FileName(n))
}

func (s Stream) pathPointer(dir string) string { return filepath.Join(dir, s.PointerName()) }
