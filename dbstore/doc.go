// Package dbstore reads the archiver's five SQLite files (cycles, accounts, transactions, receipts,
// originalTxsData) read-only, for the REST query API. Every file is opened with a file: URI in
// mode=ro (never created, never switched to WAL: the archiver owns the files and keeps writing
// them), with a busy timeout, a small connection pool and prepared statements whose parameters,
// LIMIT and OFFSET included, are always bound. Open checks each file and table up front and names the
// ARCHIVER_DATA key of anything missing; Check re-tests them at run time for /is-healthy. Queries
// return raw SQLite cells (int64, float64, string, []byte, nil) in column order; decoding JSON
// cells is the caller's business (queryapi), which keeps this package free of any import of ours.
package dbstore
