// Package queryapi serves the distributor's signed REST queries (rest-api.md §3-§7) over the
// archiver's databases (package dbstore): POST /cycleinfo, /receipt, /originalTx, /account,
// /transaction and /totalData, GET /config and /metrics, with the reference's CORS, a per-IP rate
// limit, a 1 MiB body limit and Fastify-shaped framework errors. Requests are authenticated by
// protocol.Auth.Validate (the one implementation the WebSocket handshake shares); replies are
// canonical JSON signed with the current key pair. Rows are decoded once into canonical bytes and
// cached by their raw content, and responses are assembled from those bytes and signed directly
// (hash of the canonical payload, Ed25519), which is byte-identical to protocol.Signer.SignObject.
// Whole replies are cached per query and file version (large ones as references to cached rows),
// and POST requests do their CPU work at most GOMAXPROCS at a time in arrival order, yielding the
// processor before writing their reply (see gate.go: it keeps p99 near p50 on shared cores).
// Deliberate departures from the reference's bugs are listed in the README's Compatibility section.
package queryapi
