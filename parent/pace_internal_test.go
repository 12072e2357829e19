package parent

import (
	"testing"
	"time"

	"github.com/shardeum/distributor/child"
)

// TestPaceFor: no delay while writes are few, then powers of two of a millisecond growing with the
// subscribers per core, never past maxFlushDelay; the cores are shared out between the children.
func TestPaceFor(t *testing.T) {
	for _, tc := range []struct {
		clients, children, cpus int
		want                    child.Pace
	}{
		{0, 0, 2, child.Pace{}},
		{10, 1, 2, child.Pace{Procs: 2}}, // scenario A: 1 ms -> none
		{19, 1, 2, child.Pace{Procs: 2}}, // 1.9 ms -> none
		{20, 1, 2, child.Pace{FlushDelay: 2 * time.Millisecond, Procs: 2, Batch: true}},
		{100, 2, 2, child.Pace{FlushDelay: 8 * time.Millisecond, Procs: 1, Batch: true}},  // 10 ms -> 8
		{1000, 20, 2, child.Pace{FlushDelay: maxFlushDelay, Procs: 1, Batch: true}},       // scenario D: 100 ms -> 64 -> capped
		{300, 6, 2, child.Pace{FlushDelay: 16 * time.Millisecond, Procs: 1, Batch: true}}, // 30 ms -> 16
		{50000, 1000, 64, child.Pace{FlushDelay: maxFlushDelay, Procs: 1, Batch: true}},
		{10, 3, 8, child.Pace{Procs: 2}},
		{10, 1, 0, child.Pace{FlushDelay: 2 * time.Millisecond, Procs: 1, Batch: true}}, // a machine that reports no cores counts as one
	} {
		if got := paceFor(tc.clients, tc.children, tc.cpus); got != tc.want {
			t.Errorf("paceFor(%d clients, %d children, %d cpus) = %+v, want %+v", tc.clients, tc.children, tc.cpus, got, tc.want)
		}
	}
}
