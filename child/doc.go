// Package child holds both sides of the process boundary between the distributor's parent and its
// child processes, and everything a child does. On the parent side, Spawn starts a child (the same
// binary, hidden `child` command) under github.com/hashicorp/go-plugin and returns a *Process: net/rpc
// calls into the child (Control: CloseClient, Reload, Stats, Shutdown), Events called back by the child
// through go-plugin's MuxBroker, and Handoff, which passes an accepted connection's file descriptor to the
// child over a Unix-domain socketpair (SCM_RIGHTS) with the request bytes already read. On the child side,
// Main serves that contract: one Source (a logreader.Reader) per stream, each line signed once into a frame
// that is written as the same bytes to every client, a bounded ring of recent frames for resume, per-client
// bounded queues with one writer goroutine each (a client that falls behind is closed with 1008), and
// catch-up readers for resume cursors older than the ring.
package child
