package parent

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"sort"
	"time"

	"github.com/shardeum/distributor/child"
	"github.com/shardeum/distributor/config"
)

// Status is the body of GET /status: the process table (`distributor status` prints it).
type Status struct {
	Pid           int       `json:"pid"`
	Started       time.Time `json:"started"`
	UptimeSeconds float64   `json:"uptimeSeconds"`
	Listen        string    `json:"listen"`
	DB            string    `json:"db"` // "ok" or why the archive DB is unavailable
	// Source is FIREHOSE_SOURCE: "files" (DATA_LOG_DIR) or "redis" (an edge).
	Source string `json:"source"`
	// RESTForward is REST_FORWARD_URL while REST is forwarded there (no local archive).
	RESTForward string        `json:"restForward,omitempty"`
	Clients     int           `json:"clients"`
	Children    []ChildStatus `json:"children"`
}

// ChildStatus is one child process.
type ChildStatus struct {
	Pid         int            `json:"pid"`
	State       string         `json:"state"` // starting, running, retiring
	Started     time.Time      `json:"started"`
	Clients     []ClientStatus `json:"clients"`
	Readers     []ReaderStatus `json:"readers"`
	Error       string         `json:"error,omitempty"`       // the child did not answer Stats
	LastProblem string         `json:"lastProblem,omitempty"` // last ReaderProblem it reported
	// The child's Pace: how long a frame may wait to share a write, and its GOMAXPROCS.
	FlushDelayMS float64 `json:"flushDelayMs"`
	Procs        int     `json:"procs"`
	// Frames this child signed, and frames it took the signature of from another child.
	SigSigned uint64 `json:"signed"`
	SigReused uint64 `json:"signaturesReused"`
	// Clients this child moved to the data log (they fell behind), that rejoined the shared
	// stream, that it closed because the writer lapped them (4404) or they stalled (1008).
	MovedToLog uint64 `json:"movedToLog"`
	Rejoined   uint64 `json:"rejoined"`
	Lapped     uint64 `json:"lapped"`
	Stalled    uint64 `json:"stalled"`
}

// ClientStatus is one subscriber connection.
type ClientStatus struct {
	ID             string    `json:"id"`
	Key            string    `json:"key"`
	Remote         string    `json:"remote"`
	ConnectedSince time.Time `json:"connectedSince"`
	FramesSent     uint64    `json:"framesSent"`
	BytesSent      uint64    `json:"bytesSent"`
	QueueDepth     int       `json:"queueDepth"`
	// State is live, lagging (reading the data log at its own position) or stalled (taking no
	// bytes); a lagging client's lag is in lines (-1: not known yet, a resume) and seconds.
	State      string  `json:"state"`
	LagLines   int64   `json:"lagLines"`
	LagSeconds float64 `json:"lagSeconds"`
}

func clientStatus(id, key, remote string, since time.Time, x child.ClientStats) ClientStatus {
	state := x.State
	if state == "" {
		state = child.StateLive
	}
	return ClientStatus{ID: id, Key: key, Remote: remote, ConnectedSince: since, FramesSent: x.FramesSent,
		BytesSent: x.BytesSent, QueueDepth: x.QueueDepth, State: state, LagLines: x.LagLines, LagSeconds: x.LagSeconds}
}

// ReaderStatus is one reader of a child: of a data-log stream, or on an edge of a Redis stream.
type ReaderStatus struct {
	Stream   string `json:"stream"`
	Position string `json:"position"`
	Entries  uint64 `json:"entries"`
	Error    string `json:"error,omitempty"`     // the reader is failing now
	LastErr  string `json:"lastError,omitempty"` // the last failure or loss, kept after it recovered
	// Source is where it reads: "files" or "redis"; then Key is the Redis stream and LastID the
	// newest entry it read.
	Source string `json:"source"`
	Key    string `json:"key,omitempty"`
	LastID string `json:"lastId,omitempty"`
	// LagSeconds is the age of the newest line or entry read (absent before the first).
	LagSeconds *float64 `json:"lagSeconds,omitempty"`
}

func readerStatus(rd child.ReaderStats, now time.Time) ReaderStatus {
	st := ReaderStatus{Stream: rd.Stream, Position: rd.Position, Entries: rd.Entries, Error: rd.Err, LastErr: rd.LastErr,
		Source: rd.Source, Key: rd.Key, LastID: rd.LastID}
	if st.Source == "" {
		st.Source = config.FirehoseFiles
	}
	if !rd.NewestAt.IsZero() {
		lag := max(now.Sub(rd.NewestAt).Seconds(), 0)
		st.LagSeconds = &lag
	}
	return st
}

const statsTimeout = 2 * time.Second

type statsResult struct {
	stats child.Stats
	err   error
}

// collect asks every listed child for its Stats concurrently, waiting at most
// statsTimeout; a child that does not answer in time gets an error.
func (p *parent) collect(slots []*slot) map[*slot]statsResult {
	out := make(map[*slot]statsResult, len(slots))
	type res struct {
		s *slot
		r statsResult
	}
	ch := make(chan res, len(slots))
	n := 0
	for _, s := range slots {
		if s.proc == nil {
			continue
		}
		n++
		if !p.goTracked(func() {
			st, err := s.proc.Stats()
			ch <- res{s, statsResult{st, err}}
		}) {
			n--
		}
	}
	timer := time.NewTimer(statsTimeout)
	defer timer.Stop()
	for i := 0; i < n; i++ {
		select {
		case r := <-ch:
			out[r.s] = r.r
		case <-timer.C:
			for _, s := range slots {
				if _, ok := out[s]; !ok && s.proc != nil {
					out[s] = statsResult{err: errStatsTimeout}
				}
			}
			return out
		}
	}
	return out
}

type statsTimeoutError struct{}

func (statsTimeoutError) Error() string { return "no answer to Stats within " + statsTimeout.String() }

var errStatsTimeout error = statsTimeoutError{}

// readySlots lists children whose Spawn has returned (proc may still be nil on error).
func (p *parent) readySlots() []*slot {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*slot, 0, len(p.live))
	for s := range p.live {
		if s.state != starting {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// runningSlots lists the children in placement (spawned, not retiring).
func (p *parent) runningSlots() []*slot {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*slot
	for s := range p.live {
		if s.state == running {
			out = append(out, s)
		}
	}
	return out
}

// status builds the process table.
func (p *parent) status() Status {
	slots := p.liveSlots()
	ready := p.readySlots()
	stats := p.collect(ready)
	st := Status{
		Pid:           os.Getpid(),
		Started:       p.started,
		UptimeSeconds: time.Since(p.started).Seconds(),
		Listen:        p.addr.String(),
		DB:            "ok",
		Source:        p.cfg.Load().FirehoseSource,
		Children:      []ChildStatus{},
	}
	if db := p.db.Load(); db.store == nil {
		st.DB = oneLine(db.err.Error())
	}
	if fw := p.restForwarder(); fw != nil {
		st.RESTForward = fw.base
	}
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range slots {
		cs := ChildStatus{Pid: s.pid, State: s.state.String(), Started: s.spawned, Clients: []ClientStatus{}, Readers: []ReaderStatus{},
			LastProblem: p.readerProblems[s.pid]}
		if s.state == exited {
			continue
		}
		r, asked := stats[s]
		if asked && r.err != nil {
			cs.Error = r.err.Error()
		}
		cs.FlushDelayMS = float64(r.stats.Pace.FlushDelay) / float64(time.Millisecond)
		cs.Procs = r.stats.Pace.Procs
		cs.SigSigned, cs.SigReused = r.stats.SigSigned, r.stats.SigReused
		cs.MovedToLog, cs.Rejoined, cs.Lapped, cs.Stalled = r.stats.MovedToLog, r.stats.Rejoined, r.stats.Lapped, r.stats.Stalled
		byID := map[string]child.ClientStats{}
		for _, c := range r.stats.Clients {
			byID[c.ID] = c
		}
		for _, c := range s.clients {
			x := byID[c.id]
			delete(byID, c.id)
			cs.Clients = append(cs.Clients, clientStatus(c.id, c.key, c.remote, c.since, x))
		}
		for _, x := range byID { // known to the child only (a report still in flight)
			cs.Clients = append(cs.Clients, clientStatus(x.ID, x.Key, x.Remote, x.ConnectedSince, x))
		}
		sort.Slice(cs.Clients, func(i, j int) bool { return cs.Clients[i].ConnectedSince.Before(cs.Clients[j].ConnectedSince) })
		for _, rd := range r.stats.Readers {
			cs.Readers = append(cs.Readers, readerStatus(rd, now))
		}
		st.Clients += len(cs.Clients)
		st.Children = append(st.Children, cs)
	}
	return st
}

// sameHost reports whether the request comes from this machine: a loopback address
// or the address it connected to.
func sameHost(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if lh, _, err := net.SplitHostPort(la.String()); err == nil {
			return net.ParseIP(lh).Equal(ip)
		}
	}
	return false
}

func (p *parent) serveStatus(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !sameHost(r) {
		// The table names every subscriber's key and address: local eyes only.
		http.Error(w, "Forbidden: /status is served to this host only", http.StatusForbidden)
		return
	}
	body, _ := json.MarshalIndent(p.status(), "", "  ")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(append(body, '\n'))
}

func serveAlive(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("OK"))
}
