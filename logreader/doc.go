// Package logreader follows the data logs an archiver or collector writes (firehose.md §2) and
// hands out every complete JSON line exactly once, in file order, across rotations and
// wrap-around, each with a Position that can be saved and resumed from (After). It also writes
// such directories (Writer, used by tests and `distributor replay`) and generates realistic
// entries for them (Generator).
//
// # How it follows the files
//
// One Reader follows one stream (cycle, receipt or originalTx). It holds the current file open
// and reads it with pread from an explicit byte offset into a bounded buffer; only lines ending
// in "\n" are emitted (a trailing "\r" is dropped), a half-written last line waits. A single
// fsnotify watch on the directory wakes it on writes, creates, renames and pointer rewrites;
// Options.Poll (FILE_STREAM_INTERVAL_MS) is only a fallback for lost events and a directory
// that vanished. When a file ends with its "End: Number of entries: N" line (count checked),
// the reader finds the next file by walking the directory the way the writer fills it (see
// chain): back from the file active-K-log.txt names through K-logN.txt, then old-K-logN.txt.
// Files are identified by (device, inode) while open and by a fingerprint of their first line
// across processes, so a wrapped-around K-log3.txt is never mistaken for the previous one.
// Because the descriptor stays open, a file renamed to old- under the reader is read to its
// end before the reader moves on.
//
// # Why not github.com/nxadm/tail
//
// nxadm/tail (v1.4.11, the design card's choice) follows one file *name*; this stream is a
// chain of names. It cannot give exact positions or exactly-once delivery here:
//   - Line.SeekInfo.Offset comes from Tell(), which is documented as inexact ("one line from
//     the chan may have been read already") and, with CompleteLines, ignores the partial line
//     it holds in lineBuf, so a saved offset can land mid-line;
//   - without CompleteLines a half-written last line is sent as a line, then it seeks to the
//     end; with ReOpen, on rename or delete it closes the file and reopens the name without
//     draining what was still unread, and reset lineNum: lines are lost or re-read at exactly
//     the moment rotation happens (nxadm/tail PR #73, open: "fix file change(rename) line loss
//     and duplication"; hpcloud/tail#127: "doesn't finish reading the renamed file before
//     reopening");
//   - truncation is inferred from sizes on Write events only; a file rewritten past its old
//     size between events is missed;
//   - it keeps a process-wide inotify watch table per file name (Cleanup, issue #18: a name
//     tailed twice stops delivering), and a goroutine and channel per tail.
//
// The reader here is small (the tail part is a few hundred lines), owns its offsets, and wakes
// on fsnotify like nxadm/tail does, so nothing is lost by not using it.
//
// # Faults
//
// None stops the stream for good; each is logged once (slog) and passed to Options.OnProblem
// as a *Problem: an invalid JSON line (skipped); an over-long line (skipped, MaxLineBytes);
// an End count that differs from the lines read; bytes after an End marker (ignored: the
// writer never appends after it, and a writer restart can add a second marker); a file
// truncated (re-read from 0) or replaced/deleted (continue at its replacement or the oldest
// file); files deleted before they were read (gap: continue at the oldest); an unreadable
// file (retried every poll and on chmod); the pointer empty or half-rewritten (the last good
// one is used; reported if it lasts 1 s); the directory vanishing (waits for it, then reads
// the new files from the start). A missing directory at Open is an error naming DATA_LOG_DIR
// unless Options.WaitForDir.
package logreader
