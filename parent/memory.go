package parent

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The parent's busiest moments are storms: a thousand collectors reconnecting at once each take a
// goroutine, buffers and a handshake's garbage. Afterwards the parent allocates little, so no GC runs
// to lower the heap's goal and Go keeps the storm's pages (measured: 44 MiB held 20 s after 1,000
// subscriptions, 10 MiB of them live). trimMemory hands such pages back to the OS.
const (
	memTrimEvery = 2 * time.Second
	memTrimAbove = 8 << 20 // bytes of free heap kept before trimming
)

const (
	heapFreeMetric = "/memory/classes/heap/free:bytes" // free and not yet returned to the OS
	gcCyclesMetric = "/gc/cycles/total:gc-cycles"
)

// trimMemory returns the heap's free pages to the OS when the parent has been quiet (no GC ran) for
// memTrimEvery and more than memTrimAbove of them are held, until ctx is done. A busy parent (REST
// load) collects often and reuses its free pages: it is left alone.
func (p *parent) trimMemory(ctx context.Context) {
	t := time.NewTicker(memTrimEvery)
	defer t.Stop()
	lastGC := gcCycles()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		gcs := gcCycles()
		quiet := gcs == lastGC
		lastGC = gcs
		if !quiet {
			continue
		}
		if held, trimmed := trimHeap(memTrimAbove); trimmed {
			p.log.Debug("returned free heap to the OS", "bytes", held)
			lastGC = gcCycles() // the trim's own GC
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

func gcCycles() uint64 { return readUint64(gcCyclesMetric) }

// readUint64 reads one runtime metric; 0 if this Go version does not have it (never trim).
func readUint64(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
