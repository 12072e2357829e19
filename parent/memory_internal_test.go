package parent

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

var sink [][]byte

// TestTrimHeap: after a storm's garbage is collected, its pages stay with the process until trimHeap
// returns them; with little free heap trimHeap does nothing.
func TestTrimHeap(t *testing.T) {
	for i := 0; i < 64; i++ {
		sink = append(sink, make([]byte, 1<<20))
	}
	sink = nil
	runtime.GC()
	before := heapFree()
	if before < 32<<20 {
		t.Skipf("the runtime already returned the garbage (%d bytes free): nothing to trim", before)
	}
	held, trimmed := trimHeap(8 << 20)
	if !trimmed || held < 32<<20 {
		t.Fatalf("trimHeap(8 MiB) with %d bytes free = %d, %v; want a trim", before, held, trimmed)
	}
	if after := heapFree(); after > 8<<20 {
		t.Errorf("after trimming, %d bytes of free heap still held", after)
	}
	if _, trimmed := trimHeap(1 << 40); trimmed {
		t.Error("trimHeap trimmed below its threshold")
	}
}

func TestGCPercentFor(t *testing.T) {
	const floor = 64 << 20
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, floor * 100 / gcMinHeap},       // before any collection: the minimum heap is the bound
		{1 << 20, floor * 100 / gcMinHeap}, // 1 MiB live: 6300 % would put the minimum heap past the floor
		{8 << 20, 700},                     // 8 MiB live: goal 8 × (1 + 7) = 64 MiB
		{32 << 20, 100},                    // half the floor live: Go's default
		{1 << 30, 100},                     // far past it: Go's default
	} {
		if got := gcPercentFor(c.live, floor); got != c.want {
			t.Errorf("gcPercentFor(%d, %d) = %d, want %d", c.live, floor, got, c.want)
		}
	}
}

// TestHeapFloor: with the floor held, allocating 24 MiB of garbage runs no collection; without it,
// the same allocation runs several (Go's 4 MiB minimum heap). The first holder's leave puts GOGC
// back, not a later one's.
func TestHeapFloor(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set in the environment")
	}
	runtime.GC()
	if live := readUint64(heapLiveMetric); live > heapFloor/4 {
		t.Skipf("%d bytes live already: the floor would not show", live)
	}
	without := gcsWhileAllocating(24 << 20)
	floorHolders.enter()
	floorHolders.enter() // a second parent in the same process
	with := gcsWhileAllocating(24 << 20)
	floorHolders.leave()
	if g := gcPercentNow(); g == 100 {
		t.Error("GOGC went back to 100 while a holder remains")
	}
	floorHolders.leave()
	if g := gcPercentNow(); g != 100 {
		t.Errorf("GOGC = %d after the last holder left, want 100 back", g)
	}
	if with > 1 || with >= without {
		t.Fatalf("collections while allocating 24 MiB: %d with the floor, %d without; want at most 1 with it, and fewer", with, without)
	}
}

// A GOGC from the environment stands: KeepHeapFloor returns at once and changes nothing.
func TestKeepHeapFloorLeavesGOGCFromTheEnvironment(t *testing.T) {
	t.Setenv("GOGC", "100")
	done := make(chan struct{})
	go func() { defer close(done); KeepHeapFloor(context.Background()) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("KeepHeapFloor ran with GOGC set in the environment")
	}
	if g := gcPercentNow(); g != 100 {
		t.Errorf("GOGC = %d, want the environment's 100", g)
	}
}

// gcsWhileAllocating allocates n bytes of garbage in 64 KiB pieces and returns how many
// collections ran meanwhile.
func gcsWhileAllocating(n int) uint64 {
	before := readUint64("/gc/cycles/total:gc-cycles")
	for i := 0; i < n/(64<<10); i++ {
		sink = append(sink[:0], make([]byte, 64<<10))
	}
	sink = nil
	return readUint64("/gc/cycles/total:gc-cycles") - before
}

func gcPercentNow() int {
	g := debug.SetGCPercent(100)
	debug.SetGCPercent(g)
	return g
}
