// Package parent is the distributor's front process: it binds DISTRIBUTOR_IP:DISTRIBUTOR_PORT
// (unlike the reference, which ignores DISTRIBUTOR_IP and listens on every interface) and serves
// one port for both REST (queryapi, plus /is-alive, /is-healthy and a local-only /status) and the
// firehose. A request carrying `Upgrade: websocket` (any path, as the reference) is checked as a
// WebSocket handshake (else 400), its `data` parameter is percent-decoded twice like the
// reference (a failing second decoding keeps the once-decoded text) and capped at 16 KiB (request
// line plus headers at 64 KiB: 431), then authenticated with protocol.Auth.Validate against
// protocol.HandshakeSchema, the same code the REST routes use; a refusal is HTTP 401
// `Unauthorized: Authentication failed`, one log line with the remote address and the reason, and
// the connection closed. An accepted connection is hijacked and its descriptor handed, with the
// re-serialised request head plus whatever the server had already buffered, to a child process
// (package child, go-plugin) — the first child with fewer than MAX_CLIENTS_PER_CHILD clients,
// counted from the moment of handoff, else a newly spawned one; the parent then closes its copy.
// A failed handoff removes that child and retries once elsewhere, else 503. The parent owns the
// tables: one connection per sender key (the older is closed 1000), subscriber expiry every 30 s
// and on SIGUSR1 (expired, exp != 0 && exp < now, or removed: 1001), and lifecycle: when a
// child's last client leaves, the child is taken out of placement under the same lock and told
// to Shutdown, so a socket is never handed to an exiting child; a child that dies (kill -9) is
// dropped from the tables when its Exited channel closes and the next client gets a new child.
// SIGUSR1 reloads the configuration in the parent and every child (a config that fails to load
// keeps the old one); cancelling Run's context (SIGTERM/SIGINT in `distributor start`) closes the
// listener, has every child close its clients with 1001 and exit, and kills stragglers, all
// within Options.Grace (5 s). If the archive DB cannot be opened the firehose still runs, REST
// data routes fail and /is-healthy answers 503 with the reason. Children die with the parent
// (their RPC link closes), so there are no orphans; under systemd run it as in
// scripts/distributor.service — Type=simple, ExecStart=/usr/local/bin/distributor start,
// ExecReload=/bin/kill -USR1 $MAINPID, KillMode=mixed (SIGTERM to the parent only, which stops
// its children itself; SIGKILL to the whole cgroup after TimeoutStopSec=15s, longer than the
// grace), Restart=on-failure — the tableflip-style split in which the supervisor signals one
// process and that process owns all the others.
package parent
