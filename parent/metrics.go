package parent

import (
	"context"
	"time"

	"github.com/shardeum/distributor/dbstore"
)

// metricsState backs GET /metrics (rest-api.md §4.9): per stream, the archive's row
// count at start plus the records the children's readers have emitted since, and
// when that last grew. Every child reads the same logs from its own start, so at each
// observation the count grows by the largest per-child increase since the previous
// one (the child that has been up longest saw every new record). A child's last
// increase is folded in just before it is shut down; what a killed child read since
// the previous observation is lost, as are records appended while no child runs (no
// reader is open then) — as a reference worker counts only what its own reader saw.
type metricsState struct {
	streams map[string]*streamCount
	seen    map[*slot]map[string]uint64 // entries per stream at the previous observation
}

type streamCount struct {
	total int64
	last  time.Time
}

// metricStreams maps the /metrics keys to the tables counted at start.
var metricStreams = []struct {
	name  string
	table dbstore.Table
}{{"cycle", dbstore.Cycles}, {"originalTx", dbstore.OriginalTxs}, {"receipt", dbstore.Receipts}}

func (m *metricsState) init(st *dbstore.Store, now time.Time) {
	m.streams = map[string]*streamCount{}
	for _, ms := range metricStreams {
		m.streams[ms.name] = &streamCount{last: now}
	}
	m.addCounts(st)
}

// addCounts adds the archive's row counts (at start, or when it opens later).
func (m *metricsState) addCounts(st *dbstore.Store) {
	if st == nil {
		return
	}
	for _, ms := range metricStreams {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if n, err := st.Count(ctx, ms.table); err == nil {
			m.streams[ms.name].total += n
		}
		cancel()
	}
}

// observe folds the listed children's reader counts into the metrics.
func (p *parent) observe(slots []*slot) {
	res := p.collect(slots)
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	m := &p.metrics
	if m.streams == nil {
		m.init(nil, p.started)
	}
	if m.seen == nil {
		m.seen = map[*slot]map[string]uint64{}
	}
	grew := map[string]int64{}
	for s, r := range res {
		if r.err != nil || s.state == exited {
			continue
		}
		prev := m.seen[s]
		if prev == nil {
			prev = map[string]uint64{}
			m.seen[s] = prev
		}
		for _, rd := range r.stats.Readers {
			if d := int64(rd.Entries) - int64(prev[rd.Stream]); d > grew[rd.Stream] {
				grew[rd.Stream] = d
			}
			prev[rd.Stream] = rd.Entries
		}
	}
	for name, d := range grew {
		if sc := m.streams[name]; sc != nil && d > 0 {
			sc.total += d
			sc.last = now
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
