//go:build linux && (amd64 || arm64)

package logreader

import (
	"os"
	"syscall"
	"unsafe"
)

// The quiet calls below go through syscall.RawSyscall: the Go scheduler is not told, so a call
// neither wakes the runtime's sysmon thread nor has its processor handed to another thread if it
// runs past sysmon's 20 µs tick (see SetReadEvery). They serve paced readers of files just
// written, which the page cache holds; a read that has to wait for the disk holds its processor
// meanwhile.

// preadQuiet is one pread(2) of f at off. At the end of the file it returns 0 and no error.
func preadQuiet(f *os.File, b []byte, off int64) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := control(f, func(fd uintptr) {
		for {
			r1, _, e := syscall.RawSyscall6(syscall.SYS_PREAD64, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(off), 0, 0)
			if e != syscall.EINTR {
				n, errno = int(r1), e
				return
			}
		}
	})
	if err == nil && errno != 0 {
		err = &os.PathError{Op: "pread", Path: f.Name(), Err: errno}
		n = 0
	}
	return n, err
}

// fstatSizeQuiet is f's size, from fstat(2).
func fstatSizeQuiet(f *os.File) (int64, error) {
	var st syscall.Stat_t
	var errno syscall.Errno
	err := control(f, func(fd uintptr) {
		_, _, errno = syscall.RawSyscall(syscall.SYS_FSTAT, fd, uintptr(unsafe.Pointer(&st)), 0)
	})
	if err == nil && errno != 0 {
		err = &os.PathError{Op: "fstat", Path: f.Name(), Err: errno}
	}
	return st.Size, err
}

// missingQuiet reports whether path certainly does not exist (faccessat(2) says ENOENT).
func missingQuiet(path string) bool {
	p, err := syscall.BytePtrFromString(path)
	if err != nil {
		return false
	}
	dirfd := atFDCWD
	_, _, errno := syscall.RawSyscall(syscall.SYS_FACCESSAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), 0 /* F_OK */)
	return errno == syscall.ENOENT
}

const atFDCWD = -0x64 // AT_FDCWD: a relative path is the working directory's

// control runs fn with f's descriptor, which stays open meanwhile.
func control(f *os.File, fn func(fd uintptr)) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Control(fn)
}
