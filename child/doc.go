// Package child holds both sides of the process boundary between the distributor's parent and its
// child processes, and everything a child does. On the parent side, Spawn starts a child (the same
// binary, hidden `child` command) under github.com/hashicorp/go-plugin and returns a *Process: net/rpc
// calls into the child (Control: CloseClient, Reload, Stats, Pace, Shutdown), Events called back by the child
// through go-plugin's MuxBroker, and Handoff, which passes an accepted connection's file descriptor to the
// child over a Unix-domain socketpair (SCM_RIGHTS) with the request bytes already read. On the child side,
// Main serves that contract: one Source (a logreader.Reader) per stream, read ahead of the signing (so a
// writer's burst cannot rotate away lines not yet read), each line signed once (by a pool of workers, published
// in read order) into a frame that is written as the same bytes to every client, a bounded ring of recent
// frames for resume, per-client bounded queues (a client that falls behind is closed with 1008), one flusher
// that gives every client with frames queued one non-blocking write(2) of all of them (a client whose socket
// is full waits in the flusher's blocked list, retried each round, never holding up the others), and
// catch-up readers for resume cursors older than the ring. With many clients on the machine the parent
// paces the children (Pace): each reads the log in rounds and writes a round's frames together. The
// children of one parent share a signature table (a memfd the parent passes at spawn, sigtable.go): all
// read the same log and sign the same frames with the same key, so each frame is signed once between them.
package child
