package parent

import (
	"runtime"
	"testing"
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
