package fanout

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

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
