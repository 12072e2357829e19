package child

import (
	"log/slog"
	"os"
	"time"
)

// Events is what a child tells its parent. It is called in the parent process, from one goroutine per
// child, in the order the child reported; pid is the child's process id. Implementations must not block
// for long: a slow Events delays later reports of the same child (never its clients).
type Events interface {
	ClientConnected(pid int, c ClientInfo)
	ClientClosed(pid int, clientID string, code int, reason string)
	ReaderProblem(pid int, stream string, msg string)
}

// ClientInfo describes a client a child serves.
type ClientInfo struct {
	ID, Key, Remote string
	ConnectedSince  time.Time
}

// Handoff is the metadata that travels with a connection's file descriptor to the child.
type Handoff struct {
	ClientID, Key, Remote string
	// Cursor maps a stream name (cycle, receipt, originalTx) to the "cursor" of the last frame of that
	// stream the client processed. A stream missing from the map is served live.
	Cursor map[string]string
}

// SpawnOptions configures Spawn. The zero value of every field but Config is useful.
type SpawnOptions struct {
	// Executable and Args start the child; default os.Executable() and ["child"].
	Executable string
	Args       []string
	// Config is config.Config.JSON(): the child's whole configuration.
	Config []byte
	// Events receives the child's reports; nil discards them.
	Events Events
	// Logger receives the parent side's logs and the child's (forwarded from its stderr); nil means slog.Default().
	Logger *slog.Logger
	// SigTable (from NewSigTable) is shared by the children it is given to: they sign each frame
	// once between them. nil: the child signs every frame itself.
	SigTable *os.File
}

// Pace is how a child spends the machine, set by the parent, which alone sees every child. The
// zero value means: write each frame as soon as it is published, on every core.
type Pace struct {
	// FlushDelay runs the child in rounds of this length: its readers look for new lines at most
	// once a round, and a round's frames go out together, each client's in one write(2). With many
	// clients on one machine, per-wake-up and per-write costs (on both ends) dominate, not bytes:
	// a child of 50 clients reading 200 lines a second woke for each line. A line waits at most
	// about a round, plus the round's signing and writing.
	FlushDelay time.Duration
	// Procs caps the child's GOMAXPROCS (0: leave it): many children each with a P per core
	// spend their time waking each other's idle threads.
	Procs int
	// Batch runs the child's threads as SCHED_BATCH (Linux): woken by a new line, a child does not
	// preempt whatever runs (other children, subscribers on the same machine), which saves a pair
	// of context switches per write; it waits for its turn instead.
	Batch bool
}

// Stats is a snapshot of one child.
type Stats struct {
	Pid     int
	Pace    Pace // what the child runs with (Procs: its GOMAXPROCS)
	Clients []ClientStats
	Readers []ReaderStats
	// SigReused counts the frames this child did not sign because another child had (the shared
	// signature table); SigSigned those it signed and shared.
	SigReused, SigSigned uint64
	// Counts of the child's lifetime: clients moved from the shared stream to a catch-up reader of
	// their own (MovedToLog), moved back (Rejoined), closed because the writer rotated their next
	// line away (Lapped), closed because they took no bytes for the stall timeout (Stalled).
	MovedToLog, Rejoined, Lapped, Stalled uint64
	// FramesSent and BytesSent count what the child wrote to all its clients over its life, those
	// that have left included (ClientStats has each connected client's share).
	FramesSent, BytesSent uint64
}

// Client states, as ClientStats.State reports them.
const (
	StateLive    = "live"    // fed from the shared stream
	StateLagging = "lagging" // fed by its own catch-up reader on at least one stream
	StateStalled = "stalled" // took no bytes for a while (it is closed at the stall timeout)
)

// ClientStats describes one client of a child.
type ClientStats struct {
	ID, Key, Remote string
	ConnectedSince  time.Time
	FramesSent      uint64
	BytesSent       uint64 // bytes written to its socket (WebSocket framing included)
	// Writes counts the write(2) calls its socket took bytes from: FramesSent/Writes is how many
	// frames a write carried.
	Writes     uint64
	QueueDepth int
	State      string // StateLive, StateLagging or StateStalled
	// LagLines and LagSeconds say how far behind the newest line the client is, on its most
	// lagging stream (0 when live): lines not yet queued for it, and the age of the oldest of them.
	LagLines   int64
	LagSeconds float64
}

// ReaderStats describes one data-log reader of a child.
type ReaderStats struct {
	// Err is the reader's failure while it is failing: "" once a replacement reader is open.
	Stream, Position, Err string
	// LastErr is the last failure (or line-loss) reported for this reader, kept after it recovered.
	LastErr string
	Entries uint64
	// NewestAt is when the reader read its newest line (zero before the first).
	NewestAt time.Time
	// Source is where the reader reads: "files" (DATA_LOG_DIR) or "redis" (an ingress's stream,
	// Key, whose newest entry read is LastID).
	Source, Key, LastID string
}
