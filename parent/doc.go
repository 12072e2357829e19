// Package parent is the distributor's front process. It binds DISTRIBUTOR_IP:DISTRIBUTOR_PORT (unlike
// the reference, which ignores DISTRIBUTOR_IP and listens on every interface) and serves one port for
// REST (queryapi, plus /is-alive, /is-healthy and a same-host-only /status) and the firehose. A request
// with `Upgrade: websocket` (any path, as the reference) must be a WebSocket handshake (else 400); its
// `data` parameter is percent-decoded twice like the reference (a failing second decoding keeps the
// once-decoded text), capped at 16 KiB (the request head at 64 KiB: 431), and authenticated by
// protocol.Auth.Validate with protocol.HandshakeSchema, the code the REST routes use; a refusal is HTTP
// 401 `Unauthorized: Authentication failed`, the connection closed, and one log line with the remote
// address and reason (at most 50 a second; a flood is summarised). An accepted connection is hijacked
// and its descriptor handed, with the re-serialised request head plus the bytes the HTTP server had
// already buffered, to a child process (package child, go-plugin): the first child with fewer than
// MAX_CLIENTS_PER_CHILD clients, counted from the moment of handoff, else a new one; the parent then
// closes its copy. A failed handoff takes a dead or wedged child out (killing it) and retries once
// elsewhere, else 503. The parent owns the tables: one connection per sender key (a newer one closes the
// older with 1000); subscriber expiry every 30 s and on SIGUSR1 (exp != 0 && exp < now, or removed from
// the config: 1001); lifecycle: when a child's last client leaves, the child leaves placement under the
// same lock and is told to Shutdown, so no socket is handed to an exiting child, and a child that dies
// (kill -9) leaves the tables when its Exited channel closes. SIGUSR1 reloads the configuration in the
// parent and every child (one that fails to load keeps the old). Cancelling Run's context (SIGTERM or
// SIGINT in `distributor start`) closes the listener, has every child close its clients with 1001 and
// exit, and kills stragglers, all within Options.Grace (5 s). Work that talks to children never blocks
// the signal loop, so a wedged child cannot delay a stop. If the archive cannot be opened the firehose
// still runs, REST data routes answer 500 "archive DB unavailable", /is-healthy answers 503 with the
// reason, and the open is retried every sweep until the files appear. Children die with the parent
// even on kill -9 (PR_SET_PDEATHSIG, and they watch their stdin): no orphans. Under systemd
// (deploy/systemd/distributor.service) the supervisor signals one process and that process owns the others,
// as with tableflip: Type=simple, ExecStart=/usr/local/bin/distributor start --grace 5s,
// ExecReload=/bin/kill -USR1 $MAINPID, KillMode=mixed (SIGTERM to the parent only, which stops its
// children in order; SIGKILL to the whole cgroup only after TimeoutStopSec=15s, longer than the grace),
// Restart=on-failure.
package parent
