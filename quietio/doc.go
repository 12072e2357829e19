// Package quietio writes to non-blocking sockets without telling the Go scheduler.
//
// Through syscall.Write (and so net.Conn.Write), a system call that runs past the runtime's
// sysmon tick (20 µs) has its thread's processor taken and handed to another thread, and keeps
// sysmon waking every 20 µs instead of backing off. Writes to loopback run that long: the
// receiver's TCP work runs in the sender's call, so a 419 KB REST reply to a local collector
// takes ~100 µs. A write to a non-blocking socket does not wait for the peer (it takes what fits
// and returns), so there is nothing to hand off: the processor is busy with our own work. Write makes the call with
// syscall.RawSyscall, and Conn waits for a full socket in the runtime's poller, as net.Conn does.
//
// Measured (BENCHMARKS.md): in the children, whose flushers write to 50 subscribers 20 times a
// second, handed-off writes cost a fifth of their CPU. In the REST benchmark's /receipt route,
// sysmon fell from 6 % of the server's CPU to nothing, and the server's CPU per request by ~5 %.
package quietio
