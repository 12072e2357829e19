package parent

import (
	"context"
	"runtime"
	"time"

	"github.com/shardeum/distributor/child"
)

// Every child decides alone how often to write to its clients, but the cost of those writes is
// shared: on a machine with many subscribers, what limits the firehose is write(2) calls and
// thread wake-ups across all children (on both ends of each connection), not bytes. Only the
// parent sees the total, so it sets each child's Pace from it: a flush delay that keeps the whole
// machine's writes near writesPerCPU per core per second (frames then share writes), batch
// scheduling once there is a delay at all (a child woken by a line then waits its turn rather than
// preempting a busy core), and a GOMAXPROCS that gives the children the cores between them rather
// than each all of them. Measured on scenario D (1,000 subscribers, 20 children, 2 cores): a write
// costs some 30 µs of CPU on each end of a loopback connection, most of it wake-ups.
const (
	writesPerCPU  = 5000
	minFlushDelay = 2 * time.Millisecond
	maxFlushDelay = 50 * time.Millisecond // well inside a collector's latency budget
)

// paceFor is the Pace of every child when clients subscribers are spread over children children on
// a machine of cpus cores. The delay is a power of two of a millisecond from minFlushDelay (below
// it, none: a few subscribers get every frame at once), so that it changes, and is sent to every
// child, only a handful of times as subscribers come and go.
func paceFor(clients, children, cpus int) child.Pace {
	cpus = max(cpus, 1)
	var pc child.Pace
	d := time.Duration(clients) * time.Second / time.Duration(writesPerCPU*cpus)
	if d >= minFlushDelay {
		q := minFlushDelay
		for q*2 <= d {
			q *= 2
		}
		pc.FlushDelay = min(q, maxFlushDelay)
		pc.Batch = true // throughput mode: see child.Pace
	}
	if children > 0 {
		pc.Procs = max(1, cpus/children)
	}
	return pc
}

// repace asks the pacer to bring every child's Pace up to date (after any placement change).
func (p *parent) repace() {
	select {
	case p.paceWake <- struct{}{}:
	default:
	}
}

// pacer sends each running child the current Pace when it differs from what that child has, one
// call at a time, so a child never ends with an older Pace than the last one computed.
func (p *parent) pacer(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.paceWake:
		}
		pc, todo := p.paceTodo()
		if len(todo) > 0 {
			p.log.Debug("pacing children", "children", len(todo), "flush_delay", pc.FlushDelay, "procs", pc.Procs, "batch", pc.Batch)
		}
		for _, s := range todo {
			start := time.Now()
			if err := s.proc.Pace(pc); err != nil {
				p.log.Debug("pace child", "pid", s.pid, "err", err)
				continue
			}
			if d := time.Since(start); d > 100*time.Millisecond {
				p.log.Warn("slow pace call", "pid", s.pid, "took", d)
			}
			p.mu.Lock()
			s.paced, s.isPaced = pc, true
			p.mu.Unlock()
		}
	}
}

// paceTodo is the current Pace and the running children that do not have it yet.
func (p *parent) paceTodo() (child.Pace, []*slot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pc := paceFor(len(p.clients), len(p.live), runtime.NumCPU())
	var todo []*slot
	for _, s := range p.placement {
		if s.state == running && s.proc != nil && (!s.isPaced || s.paced != pc) {
			todo = append(todo, s)
		}
	}
	return pc, todo
}
