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
// in "\n" are emitted (a trailing "\r" is dropped), a half-written last line waits. One
// fsnotify watcher per process (shared by all readers, one watch per directory, events routed
// by stream) wakes it on writes, creates, renames and pointer rewrites;
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
// nxadm/tail (v1.4.11, on the design card) follows one file *name* (tail -F); this stream is a
// chain of names whose numbers are reused. It cannot give exact positions or exactly-once
// delivery across rotation:
//   - with ReOpen, on a rename or delete event it closes the file and reopens the name without
//     draining what was still unread, and resets lineNum: lines written just before the
//     rotation are lost, and a re-created file can be read twice (nxadm/tail PR #73, open: "fix
//     file change(rename) line loss and duplication"; hpcloud/tail#127: it "doesn't finish
//     reading the renamed file before reopening"). Here the next file is old-/new K-logN.txt,
//     not the same name, so tail would have to be stopped and restarted per file anyway;
//   - Line.SeekInfo.Offset is Tell() at send time, which its documentation calls inexact, and it
//     carries no file identity: an offset cannot say which generation of K-log3.txt it is in,
//     and Location cannot start inside a file that has meanwhile become old-K-log3.txt;
//   - without CompleteLines a half-written last line is sent as a line and the reader seeks to
//     the end; truncation is inferred only from sizes seen on Write events;
//   - it keeps a process-wide inotify watch table per file name (Cleanup; issue #18: a name
//     tailed again after Cleanup stops delivering) plus a goroutine and channel per tail.
//
// So the tail here is purpose-built and small: it holds the file open, reads with pread from
// its own byte offset (the Position), identifies files by (device, inode) and first-line
// fingerprint, and wakes on fsnotify exactly as nxadm/tail does.
//
// # Faults
//
// None stops the stream for good; each is logged once (slog) and passed to Options.OnProblem
// as a *Problem: an invalid JSON line (skipped); an over-long line (skipped, MaxLineBytes);
// an End count that differs from the lines read; bytes after an End marker (ignored: the
// writer never appends after it, and a writer restart can add a second marker); a file
// truncated (re-read from 0; noticed when the file is shorter than the reader's offset, so a
// file truncated and refilled past that offset between two looks is not); a file replaced or
// deleted (continue at its replacement or the oldest file); files deleted before they were
// read (gap: continue at the oldest); an unreadable file (retried every poll and on chmod);
// the pointer empty or half-rewritten (the last good one is used; reported if it lasts 1 s);
// the directory vanishing or replaced (waits for it, then reads the new files from the
// start). A missing directory at Open is an error naming DATA_LOG_DIR unless
// Options.WaitForDir.
package logreader
