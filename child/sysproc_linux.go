package child

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// childSysProcAttr makes the kernel SIGKILL the child when the parent dies, even by kill -9.
// (Pdeathsig follows the creating OS thread; Go only retires threads of goroutines that locked
// them, which this package never does, and the child's stdin watch is the second line of defence.)
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// setBatch moves every thread of the process to SCHED_BATCH, or back to SCHED_NORMAL. Threads the
// Go runtime starts later inherit the policy of the thread that starts them.
func setBatch(batch bool) error {
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_NORMAL}
	if batch {
		attr.Policy = unix.SCHED_BATCH
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetAttr(tid, &attr, 0); err != nil && !errors.Is(err, unix.ESRCH) { // ESRCH: it just exited
			return fmt.Errorf("sched_setattr thread %d: %w", tid, err)
		}
	}
	return nil
}
