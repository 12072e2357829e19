// Package logwriter writes data-log files as the archiver does: the Writer, the generator of
// synthetic lines, and replay of recorded logs. Tests, `distributor replay` and the benchmarks
// use it to make what a distributor reads; the distributor itself only reads (package
// logreader, whose documentation describes the files).
//
// A Writer owns one stream of a directory and follows the archiver's DataLogWriter step for
// step. Each Append is one write of one line, so a reader sees whole lines. When the file holds
// maxEntries lines, the next Append first ends it with the End marker, creates the next file and
// then rewrites the pointer (truncated, then written, as Node does: a reader can find it empty
// for a moment). At numbers maxFiles/2 and maxFiles it sets half of the files aside as old-
// and deletes the earlier old- files; after maxFiles it wraps to 1. It never truncates a data
// file.
//
// A Writer's position is the directory itself: the pointer and the line count of the file it
// names. NewWriter on a directory continues the active file (rotating at once if it is full),
// so a writer restarted, or replaced by another, goes on where the last one stopped, and the
// positions readers saved stay valid.
//
// A Generator makes entries shaped like the archiver's cycle, receipt and originalTx records,
// each with "writtenAt" (Unix microseconds) for measuring latency; its output is a function of
// its seed and clock. Replay writes Sources (generated entries, a JSON-lines file, or the
// streams of another directory, oldest file first) through one Writer per stream, a line of
// each in turn, optionally paced; with Clean it first removes the streams' files, so the result
// is reproducible (testdata/data-logs is made so).
package logwriter
