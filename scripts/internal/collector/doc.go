// Package collector is the client half of the firehose as a Shardeum collector speaks it, for the
// fake-collector tool and the bench harness: it signs the subscription handshake (with an optional
// resume cursor), reads frames, verifies their signature and owner (every frame or every Nth), and
// keeps per-stream counts of frames, bytes, invalid frames, gaps, duplicates and reorderings, plus an
// append->receive latency histogram taken from the entries' writtenAt. It lives under scripts/internal
// because it is tooling, not part of the distributor.
package collector
