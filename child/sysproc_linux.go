package child

import "syscall"

// childSysProcAttr makes the kernel SIGKILL the child when the parent dies, even by kill -9.
// (Pdeathsig follows the creating OS thread; Go only retires threads of goroutines that locked
// them, which this package never does, and the child's stdin watch is the second line of defence.)
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
