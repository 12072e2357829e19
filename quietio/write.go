package quietio

import (
	"syscall"
	"unsafe"
)

// Write is one write(2) of p to the non-blocking fd, made without telling the Go scheduler
// (see the package comment); it is retried only when a signal interrupts it. It returns what
// the socket took: part of p when it had room for part, 0 and syscall.EAGAIN when it was full.
func Write(fd uintptr, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return rawCall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
}

// writev is one writev(2) of iov to the non-blocking fd, made as Write makes write(2).
func writev(fd uintptr, iov []syscall.Iovec) (int, error) {
	if len(iov) == 0 {
		return 0, nil
	}
	return rawCall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
}

// rawCall makes the system call without telling the scheduler, again if a signal interrupts it.
func rawCall(trap, a1, a2, a3 uintptr) (int, error) {
	for {
		n, _, e := syscall.RawSyscall(trap, a1, a2, a3)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(n), nil
	}
}
