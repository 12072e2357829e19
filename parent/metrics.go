package parent

import (
	"context"
	"time"

	"github.com/shardeum/distributor/dbstore"
)

// metricsState backs GET /metrics (rest-api.md §4.9): per stream, the archive's row
// count at start plus the records the children's readers have emitted since, and
// when that last grew. All children read the same logs, so the count follows one
// "leader" (the oldest live child with that reader) and stays continuous when the
// leader changes; records appended while no child runs are not counted (no reader
// is open then), as a reference worker counts only what its own reader saw.
type metricsState struct {
	streams map[string]*streamCount
}

type streamCount struct {
	total  int64
	offset int64
	leader *slot
	last   time.Time
}

// metricStreams maps the /metrics keys to the tables counted at start.
var metricStreams = []struct {
	name  string
	table dbstore.Table
}{{"cycle", dbstore.Cycles}, {"originalTx", dbstore.OriginalTxs}, {"receipt", dbstore.Receipts}}

func (m *metricsState) init(st *dbstore.Store, now time.Time) {
	m.streams = map[string]*streamCount{}
	for _, ms := range metricStreams {
		sc := &streamCount{last: now}
		if st != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if n, err := st.Count(ctx, ms.table); err == nil {
				sc.total = n
			}
			cancel()
		}
		m.streams[ms.name] = sc
	}
}

// observe folds the listed children's reader counts into the metrics.
func (p *parent) observe(slots []*slot) {
	res := p.collect(slots)
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.metrics.streams == nil {
		p.metrics.init(nil, p.started)
	}
	for name, sc := range p.metrics.streams {
		var leader *slot
		var entries int64
		for s, r := range res {
			if r.err != nil {
				continue
			}
			for _, rd := range r.stats.Readers {
				if rd.Stream == name && (leader == nil || s.seq < leader.seq) {
					leader, entries = s, int64(rd.Entries)
				}
			}
		}
		if leader == nil {
			continue
		}
		if sc.leader == nil || (leader != sc.leader && (sc.leader.state == exited || leader.seq < sc.leader.seq)) {
			sc.leader, sc.offset = leader, sc.total-entries
		} else if leader != sc.leader {
			continue // the current leader did not answer this time
		}
		if t := sc.offset + entries; t > sc.total {
			sc.total, sc.last = t, now
		}
	}
}

// metricsBody is queryapi's Metrics: {cycle:{count,lastUpdationTimestamp},...}.
func (p *parent) metricsBody() any {
	p.observe(p.readySlots())
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]any{}
	for name, sc := range p.metrics.streams {
		out[name] = map[string]any{"count": float64(sc.total), "lastUpdationTimestamp": float64(sc.last.UnixMilli())}
	}
	return out
}
