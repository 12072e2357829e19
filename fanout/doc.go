// Package fanout is what a child process does: it reads the data log, signs each line once and
// writes the frames to every WebSocket client the parent handed it. New returns the child.Server
// that child.Serve runs.
//
// One hub per stream (cycle, receipt, originalTx) has a reader (Source: a logreader.Reader) that
// reads ahead of signing, so a writer's burst cannot rotate away lines not yet read; a pool of
// workers signs the lines, and the hub publishes them in read order into a ring of recent frames
// and every subscriber's queue. The same bytes go to every client: frames are never copied per
// client. One flusher gives every client with frames queued one non-blocking write of all of them;
// a client whose socket is full waits in the flusher's blocked list without holding up the others.
//
// A client that falls behind is never closed for it. When its queue reaches CLIENT_QUEUE_FRAMES
// the hub stops queueing for it and starts a catch-up reader of its own just after the last line
// it was queued: the client then reads the data log at its own position, paced by how fast it
// takes bytes, so it holds a few frames in memory however far behind it is. While clients lag,
// the hub keeps the newest of what it publishes (a bounded history): they take those very frames,
// shared. A client further behind reads the data log up to the history, its frames signed for it
// (or taken from other catch-ups' recent signing, or the shared signature table), by at most half
// the child's processors together, so lagging clients cannot starve the shared stream. When the catch-up
// reader reaches a line still in the ring, or the hub reaches the catch-up's last line, the client
// rejoins the shared stream at exactly the next line. Resume cursors older than the ring are served
// the same way. Every line reaches every client once, in order.
//
// A client is closed only when the writer lapped it (its next line was rotated off disk: 4404,
// saying how far behind it was) or when it took no bytes at all for CLIENT_STALL_TIMEOUT_MS
// (1008). With many clients on one machine the parent paces the children (Pace): each reads the
// log in rounds and writes a round's frames together.
package fanout
