// Package redisstream carries the firehose through Redis Streams: one ingress (`distributor
// ingress`) follows the data logs, signs every line once and appends it; any number of edges
// read the streams and send the frames as they are (FIREHOSE_SOURCE=redis).
//
// # Keys
//
// Under REDIS_STREAM_PREFIX (P, default "distributor:"), for each stream K (cycle, receipt,
// originalTx):
//
//	P K           the stream; each entry has two fields: "cursor", the data-log position of
//	              the line (logreader.Position.String()), and "frame", the signed frame
//	              {"cursor":…,"K":line,"sign":…} exactly as children send it
//	P K:files     hash: data-log file "N.<fingerprint>" -> the millisecond part of its entries' IDs
//	P K:meta      hash: epoch (of the stream's current history), refilled (= epoch once the
//	              history holds everything that was on disk when it began)
//	P ingress:lease   the lease: a random token of the active ingress, with a TTL
//
// The keys are used together by one Lua script, so a Redis Cluster would need them in one
// slot (a prefix with a hash tag, e.g. "{distributor}:"). Entries are appended with
// XADD … MAXLEN ~ REDIS_STREAM_MAXLEN.
//
// # Entry IDs and cursors
//
// An entry's ID is derived from its line (see ID): <epoch*1e9 + gen>-<line>, where gen numbers
// the data-log files in the order the ingress read them and line is the line's number in its
// file. The file index maps a cursor's file to gen, so "the entry after cursor X" is found
// without a per-line index: ms := HGET P K:files "N.FP", then XRANGE P K (ms-L + COUNT n. A cursor
// therefore resumes on any edge, and a collector can move between an edge and a node that reads
// the files: the cursor is the same data-log position either way.
//
// # Exactly once
//
// The IDs do not depend on the process: an ingress that starts reads the last entry of each
// stream (XREVRANGE + - COUNT 1), opens the data logs just after its cursor (logreader.After)
// and numbers what follows from its ID. An append repeated after a crash or a lost reply has
// an ID not above the top one, and the append script skips it. So kill -9 at any point loses
// nothing and duplicates nothing. A line the ingress could not sign is logged and skipped.
//
// # Lease and fencing
//
// Any number of ingresses may run for one directory and one Redis. One holds P ingress:lease
// (SET NX PX with a random token, renewed every TTL/3; `--lease-ttl`, default 3 s) and
// publishes; the others try to take it every TTL/6, so a standby takes over at most 7/6 TTL
// after the holder died. Every append runs in one Lua script that first checks the token: an
// ingress that was paused, lost the lease and woke up appends nothing (the script answers
// NOLEASE and the ingress stands by again). A holder that cannot renew for a whole TTL stops
// publishing by itself.
//
// # Redis unreachable, Redis restarted
//
// Commands that fail for lack of a connection are retried with capped backoff; the state
// (reachable, unreachable) is logged once per change. The data-log reader of an ingress waits
// while its appends wait: no line is skipped. If Redis comes back without the stream (restarted
// without persistence), the append script answers RESET and the ingress starts a new history:
// a new epoch (the Unix second, above any epoch it has seen), the file index emptied, and the
// stream refilled from the oldest data-log line still on disk up to the newest; P K:meta
// records the epoch, and refilled = epoch once the refill reached the line that was newest
// when it began. IDs of the new history are above every ID of the old one, so an edge notices
// the reset: its last entry is gone while newer ones exist. It then finds its cursor in the new
// history through the index (waiting while the refill is under way) and continues just after
// it; if the cursor's file was not on disk any more, the cursor is gone (ErrCursorGone).
//
// # Reading (edges)
//
// Reader hands out the entries of one stream in order, each once, from just after a cursor or
// from the live end. It reads with XRANGE (exclusive start) and, when it has caught up, waits
// with XREAD BLOCK. Each XRANGE runs in one MULTI with a check that the reader's last entry is
// still in the stream: Redis trims from the front, so if it is, nothing between it and what was
// read was trimmed. If it is not (a reader slower than the retention), Next returns an error
// wrapping ErrCursorGone: the WebSocket server closes that client with 4404, as for a file
// rotated away. While Redis is unreachable Next retries, never skipping, until its context ends.
// Open at cursor "" starts after the stream's newest entry (from its first when it is empty).
package redisstream
