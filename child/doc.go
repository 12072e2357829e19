// Package child is the contract between the distributor's parent process and its child processes,
// in the shape of go-plugin's examples: a small package of interfaces and the plumbing that carries
// them, apart from what a child does (package fanout).
//
// On the parent side, Spawn starts a child (the same binary, hidden `child` command) under
// github.com/hashicorp/go-plugin and returns a *Process. The parent drives it through Control over
// net/rpc (Start, CloseClient, Reload, Stats, Pace, Shutdown); the child reports through Events
// (ClientConnected, ClientClosed, ReaderProblem), served by the parent on a go-plugin MuxBroker
// stream. Process.Handoff passes an accepted connection to the child: its file descriptor
// (SCM_RIGHTS over a SOCK_SEQPACKET socketpair the child inherits as fd 3), its metadata and the
// request bytes the parent already read, in one message the child acknowledges.
//
// On the child side, Serve runs a Server (Control, plus Stop and Done) built from an Env: the log,
// the Receiver of handoffs and the shared signature table. Serve also ends the child when its parent
// vanishes: the kernel's Pdeathsig, EOF on the stdin pipe only the parent holds, SIGTERM.
//
// The children of one parent share a signature table (SigTable, a memfd the parent creates and
// every child maps): they read the same log and sign the same frames with the same key, so each
// frame is signed once between them.
package child
