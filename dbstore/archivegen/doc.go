// Package archivegen writes a small, deterministic archiver database set (the five SQLite files of
// an archive-server, with its exact DDL) for tests, benchmarks and the repository's
// testdata/archiver-db. Cells hold safeStringify (canonical) JSON with bi, bb and u8ab values, as
// the archiver writes them. Same options, same bytes: files are written in rollback-journal mode in
// one transaction per file and renamed into place. `go run ./dbstore/gen` regenerates testdata.
package archivegen
