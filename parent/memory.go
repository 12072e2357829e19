package parent

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// The parent's busiest moments are storms: a thousand collectors reconnecting at once each take a
// goroutine, buffers and a handshake's garbage. Afterwards the parent allocates little, so no GC runs
// to lower the heap's goal and Go keeps the storm's pages (measured: 44 MiB held 20 s after 1,000
// subscriptions, 10 MiB of them live). trimMemory hands such pages back to the OS.
const (
	memTrimEvery = 2 * time.Second
	memTrimAbove = 8 << 20 // bytes of free heap kept before trimming; also what "quiet" allocates at most in memTrimEvery
)

// heapFloor is how large the heap may grow before a collection, however little of it is live.
// Serving queries, the parent keeps little (a few MiB) and allocates ~4 KB a request, so with
// Go's default the heap's goal is its 4 MiB minimum and it collected 8 times a second at 5,000
// /receipt requests a second. Each collection stops the world twice, and on two cores shared with
// the clients a stopped thread can be off its core for milliseconds: with the floor, the server
// collects every ~3 s and /receipt's p99 is 1-2 ms lower (BENCHMARKS.md). From half the floor
// live on, this is Go's default behaviour.
const heapFloor = 64 << 20

const (
	heapFreeMetric  = "/memory/classes/heap/free:bytes" // free and not yet returned to the OS
	heapLiveMetric  = "/gc/heap/live:bytes"             // marked live by the last collection
	heapAllocMetric = "/gc/heap/allocs:bytes"           // allocated since the start
)

// gcMinHeap is the runtime's smallest heap goal at GOGC=100; it scales with GOGC.
const gcMinHeap = 4 << 20

// gcPercentFor is the GOGC that puts the heap's goal at floor with live bytes live, and never
// below Go's default of 100. The runtime's goal is the larger of live×(1+GOGC/100) and its
// minimum heap (gcMinHeap×GOGC/100), so both are kept at or under floor.
func gcPercentFor(live, floor uint64) int {
	if live == 0 {
		live = 1 // before the first collection: the minimum heap bounds it
	}
	if live*2 >= floor {
		return 100
	}
	return int(min((floor-live)*100/live, floor*100/gcMinHeap))
}

// applyHeapFloor sets GOGC for floor from the live heap and returns the GOGC it replaced.
func applyHeapFloor(floor uint64) (prev int) {
	return debug.SetGCPercent(gcPercentFor(readUint64(heapLiveMetric), floor))
}

// KeepHeapFloor holds the heap's goal at heapFloor (see there) until ctx is done, re-reading the
// live heap every memTrimEvery. It does nothing when the environment sets GOGC: the operator's
// choice stands. When the last KeepHeapFloor of the process returns (tests run several parents in
// one), GOGC is put back. scripts/restserver runs it as the parent does.
func KeepHeapFloor(ctx context.Context) {
	if os.Getenv("GOGC") != "" {
		return
	}
	floorHolders.enter()
	defer floorHolders.leave()
	t := time.NewTicker(memTrimEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			applyHeapFloor(heapFloor)
		}
	}
}

// floorHolders counts the running KeepHeapFloor calls: the first sets the floor and keeps the GOGC
// it replaced, the last puts that back.
var floorHolders holders

type holders struct {
	mu   sync.Mutex
	n    int
	prev int
}

func (h *holders) enter() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == 0 {
		h.prev = applyHeapFloor(heapFloor)
	}
	h.n++
}

func (h *holders) leave() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n--; h.n == 0 {
		debug.SetGCPercent(h.prev)
	}
}

// trimMemory returns the heap's free pages to the OS when the parent has been quiet (allocated
// less than memTrimAbove in memTrimEvery) and more than memTrimAbove of them are held, until ctx is
// done. A busy parent (REST load) reuses its free pages: it is left alone. Quiet is measured in
// bytes allocated, not in collections: with the heap floor, a busy parent goes seconds without one.
func (p *parent) trimMemory(ctx context.Context) {
	t := time.NewTicker(memTrimEvery)
	defer t.Stop()
	last := heapAllocated()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := heapAllocated()
		quiet := now-last < memTrimAbove
		last = now
		if !quiet {
			continue
		}
		if held, trimmed := trimHeap(memTrimAbove); trimmed {
			p.log.Debug("returned free heap to the OS", "bytes", held)
		}
	}
}

// trimHeap runs a GC and returns the free heap to the OS if more than above bytes of it are held.
func trimHeap(above uint64) (held uint64, trimmed bool) {
	held = heapFree()
	if held <= above {
		return held, false
	}
	debug.FreeOSMemory()
	return held, true
}

func heapFree() uint64 { return readUint64(heapFreeMetric) }

func heapAllocated() uint64 { return readUint64(heapAllocMetric) }

// readUint64 reads one runtime metric; 0 if this Go version does not have it (never trim).
func readUint64(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
