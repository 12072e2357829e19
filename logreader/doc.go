// Package logreader follows the data logs an archiver or collector writes (firehose.md §2) and
// hands out every complete JSON line once, in file order, across rotations and wrap-around.
//
// A data-log directory holds up to three streams: cycle, receipt and originalTx. A stream is a
// pointer file, active-K-log.txt, that names the file being written, and numbered files
// K-logN.txt. When a file holds its quota of entries the writer ends it with the line
// "End: Number of entries: N" and goes on in file N+1. Numbers wrap at maxLogFiles; before a
// number is reused, its half of the files is renamed to old-K-logN.txt and the earlier old-
// files are deleted. Package logwriter writes such directories.
//
// A Reader follows one stream. It holds the current file open and reads it from its own byte
// offset; only lines ending in "\n" are emitted, so a half-written last line waits. After the
// End marker it finds the next file by walking back from the pointer through K-logN.txt, then
// old-K-logN.txt (see chain). The descriptor stays open, so a file renamed to old- under the
// reader is read to its end, and the files that follow are opened as they appear, so one
// deleted before the reader gets there is still read (see held.go). One fsnotify watcher per
// process wakes every reader; Options.Poll covers lost events, and SetReadEvery makes a reader
// look in rounds instead.
//
// Every Entry carries a Position: the file number, the line's number in the file, the byte
// offset just after it, and a fingerprint of the file's first line. The fingerprint tells apart
// the files that share a reused number, and it lives in the file itself, so a position saved by
// one process is found by another. Save Position.String; resume with ParsePosition and
// Open(Options{Start: After(pos)}), which continues with the next line whether the file is
// still K-logN.txt or now old-K-logN.txt, and fails with ErrPositionGone once rotation has
// deleted it. Live starts at the end of the active file, Oldest at the first line on disk.
//
// Faults never stop the stream. Each is logged once and passed to Options.OnProblem as a
// *Problem, and the reader steps over it: an invalid or over-long line is skipped; an End
// marker whose count differs from the lines read, and bytes after it, are reported; a file that
// is shorter than the reader's offset was truncated and is read again from its start (a file
// truncated and refilled past that offset between two looks goes unnoticed); a file replaced
// or deleted under the reader is followed by its replacement or the oldest file; files deleted
// before they were read leave a gap; a missing or half-written pointer, a vanished directory
// and an unreadable file are waited for.
//
// It is not github.com/nxadm/tail: tail follows one file name, while a stream is a chain of
// names whose numbers are reused. On a rename tail reopens the name without draining the old
// file, and its offsets carry no file identity, so it can neither deliver exactly once across
// rotation nor resume from a saved position.
package logreader
