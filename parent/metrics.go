package parent

import (
	"context"
	"time"

	"github.com/shardeum/distributor/child"
	"github.com/shardeum/distributor/config"
	"github.com/shardeum/distributor/dbstore"
	"github.com/shardeum/distributor/promexport"
)

// metricsState backs GET /metrics (rest-api.md §4.9): per stream, the archive's row
// count at start plus the records the children's readers have emitted since, and
// when that last grew. Every child reads the same logs from its own start, so at each
// observation the count grows by the largest per-child increase since the previous
// one (the child that has been up longest saw every new record). A child's last
// increase is folded in just before it is shut down; what a killed child read since
// the previous observation is lost, as are records appended while no child runs (no
// reader is open then) — as a reference worker counts only what its own reader saw.
//
// The Prometheus counters are kept the same way, so they never go backwards when a
// child goes: frames and bytes sent grow by each child's increase since the previous
// observation (a child counts what its clients were sent, those that left included).
type metricsState struct {
	streams map[string]*streamCount
	seen    map[*slot]map[string]uint64 // entries per stream at the previous observation
	sent    map[*slot]sentCount         // frames and bytes sent, at the previous observation

	framesSent, bytesSent uint64
}

type sentCount struct{ frames, bytes uint64 }

type streamCount struct {
	total int64
	last  time.Time
	read  uint64    // lines the readers read (the total without the archive's rows)
	newst time.Time // newest line a reader read (ReaderStats.NewestAt), zero if none reported
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

// observe folds the listed children's reader and client counts into the metrics and
// returns what they answered.
func (p *parent) observe(slots []*slot) map[*slot]statsResult {
	p.obsMu.Lock()
	defer p.obsMu.Unlock()
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
		m.sent = map[*slot]sentCount{}
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
			if sc := m.streams[rd.Stream]; sc != nil && rd.NewestAt.After(sc.newst) {
				sc.newst = rd.NewestAt
			}
		}
		m.foldSent(s, r.stats)
	}
	for name, d := range grew {
		if sc := m.streams[name]; sc != nil && d > 0 {
			sc.total += d
			sc.read += uint64(d)
			sc.last = now
		}
	}
	return res
}

// foldSent adds what the child of s sent since the previous observation of s (mu held).
func (m *metricsState) foldSent(s *slot, st child.Stats) {
	was := m.sent[s]
	if st.FramesSent > was.frames {
		m.framesSent += st.FramesSent - was.frames
		was.frames = st.FramesSent
	}
	if st.BytesSent > was.bytes {
		m.bytesSent += st.BytesSent - was.bytes
		was.bytes = st.BytesSent
	}
	m.sent[s] = was
}

// promSnapshot observes every ready child for a Prometheus scrape.
func (p *parent) promSnapshot() promexport.Snapshot {
	res := p.observe(p.readySlots())
	now := time.Now()
	snap := promexport.Snapshot{Subscribers: map[string]int{}}
	p.mu.Lock()
	defer p.mu.Unlock()
	oldest := map[string]time.Time{} // per Redis stream, the newest entry of the reader furthest behind
	for s, r := range res {
		if r.err != nil || s.state == exited {
			continue
		}
		for _, c := range r.stats.Clients {
			snap.Subscribers[c.State]++
		}
		for _, rd := range r.stats.Readers {
			if rd.Source != config.FirehoseRedis || rd.NewestAt.IsZero() {
				continue
			}
			if o, ok := oldest[rd.Stream]; !ok || rd.NewestAt.Before(o) {
				oldest[rd.Stream] = rd.NewestAt
			}
		}
	}
	for _, ms := range metricStreams {
		if at, ok := oldest[ms.name]; ok {
			snap.Sources = append(snap.Sources, promexport.Source{Name: ms.name, LagSeconds: max(now.Sub(at).Seconds(), 0)})
		}
	}
	for s := range p.live {
		if s.state != exited {
			snap.Children++
		}
	}
	snap.FramesSent, snap.BytesSent = p.metrics.framesSent, p.metrics.bytesSent
	for _, ms := range metricStreams {
		sc := p.metrics.streams[ms.name]
		// The age of the newest line a reader read; a child that does not report it leaves the
		// time the parent last saw the stream grow (the JSON's lastUpdationTimestamp).
		newest := sc.newst
		if newest.IsZero() {
			newest = sc.last
		}
		snap.Streams = append(snap.Streams, promexport.Stream{Name: ms.name, LinesRead: sc.read,
			LagSeconds: max(now.Sub(newest).Seconds(), 0)})
	}
	return snap
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
