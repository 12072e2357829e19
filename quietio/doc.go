// Package quietio writes to non-blocking sockets without telling the Go scheduler, in as few
// system calls as a reply needs.
//
// Through syscall.Write (and so net.Conn.Write), a system call that runs past the runtime's
// sysmon tick (20 µs) has its thread's processor taken and handed to another thread, and keeps
// sysmon waking every 20 µs instead of backing off. Writes to loopback run that long: the
// receiver's TCP work runs in the sender's call, so a 419 KB REST reply to a local collector
// takes ~100 µs. A write to a non-blocking socket does not wait for the peer (it takes what fits
// and returns), so there is nothing to hand off: the processor is busy with our own work. Write
// makes the call with syscall.RawSyscall; Conn (from Listener) makes all its writes that way and
// waits for a full socket in the runtime's poller, as net.Conn does.
//
// Conn also saves system calls on large HTTP replies. Its ReadFrom takes a reply in pieces
// (net.Buffers: the REST API's pages made of cached rows) and writes them with writev(2), without
// copying them into one buffer. And Hold keeps the header that net/http writes on its own, so
// that it goes out in the same writev as the body: one system call, one burst for the client to
// wake up to. A handler finds its request's Conn through ConnContext and FromContext.
//
// Measured (BENCHMARKS.md): in the children, whose flushers write to 50 subscribers 20 times a
// second, handed-off writes cost a fifth of their CPU. In the REST benchmark's /receipt route,
// sysmon fell from 6 % of the server's CPU to nothing; with writev and the held header, the
// server's CPU per request fell from 228 to ~190 µs, and to 290 from 345 µs over 1,000
// different pages.
package quietio
