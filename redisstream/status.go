package redisstream

import (
	"encoding/json"
	"net/http"
	"time"
)

// IngressStatus is what /status of an ingress answers.
type IngressStatus struct {
	Kind  string `json:"kind"` // "ingress"
	Role  string `json:"role"` // standby, active or stopped
	Lease struct {
		Key   string `json:"key"`
		Held  bool   `json:"held"`
		Since string `json:"since,omitempty"` // when this ingress took it (RFC 3339)
		TTLMS int64  `json:"ttlMs"`
	} `json:"lease"`
	Redis struct {
		Reachable bool   `json:"reachable"`
		Since     string `json:"since,omitempty"` // last change of reachability
		Error     string `json:"error,omitempty"`
	} `json:"redis"`
	DataLogDir string         `json:"dataLogDir"`
	Streams    []StreamStatus `json:"streams"`
}

// StreamStatus is one stream's publishing position.
type StreamStatus struct {
	Stream     string `json:"stream"`
	Key        string `json:"key"`
	Epoch      int64  `json:"epoch"`      // the history being appended (see ID)
	LastID     string `json:"lastId"`     // last entry this ingress appended or continued after
	Cursor     string `json:"cursor"`     // its data-log position
	LastAppend string `json:"lastAppend"` // when this ingress last appended (RFC 3339)
	Refilled   bool   `json:"refilled"`   // the history holds everything on disk since it began
	Published  int64  `json:"published"`  // entries appended by this process
	Pending    int64  `json:"pending"`    // lines read and signed, not yet appended
	LagMS      int64  `json:"lagMs"`      // age of the oldest line not yet in Redis
}

// Status reports the lease, Redis and the publish positions.
func (g *Ingress) Status() IngressStatus {
	var st IngressStatus
	st.Kind = "ingress"
	st.Role, _ = g.role.Load().(string)
	st.Lease.Key = LeaseKey(g.o.Prefix)
	st.Lease.TTLMS = g.o.LeaseTTL.Milliseconds()
	if ms := g.leaseFrom.Load(); ms != 0 {
		st.Lease.Held = true
		st.Lease.Since = time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
	}
	ok, since, err := g.redisOK.get()
	st.Redis.Reachable, st.Redis.Error = ok, err
	if !since.IsZero() {
		st.Redis.Since = since.UTC().Format(time.RFC3339Nano)
	}
	st.DataLogDir = g.o.Dir
	now := time.Now().UnixMilli()
	for _, p := range g.pubs {
		p.mu.Lock()
		s := p.st
		p.mu.Unlock()
		s.Stream, s.Key = string(p.stream), p.keys.Stream
		s.Published = p.published.Load()
		s.Pending = p.pending.Load()
		if at := p.headAt.Load(); at != 0 {
			s.LagMS = max(now-at, 0)
		}
		st.Streams = append(st.Streams, s)
	}
	return st
}

// MaxHealthyLag is the age of the oldest line not yet appended above which an active ingress
// is not healthy.
const MaxHealthyLag = 10 * time.Second

// Healthy says whether the ingress does its job: Redis reachable, the lease held or stood by
// for, and (when active) no line waiting longer than MaxHealthyLag. The reasons say what fails.
func (g *Ingress) Healthy() (bool, []string) {
	st := g.Status()
	var why []string
	if !st.Redis.Reachable {
		why = append(why, "Redis unreachable: "+st.Redis.Error)
	}
	switch st.Role {
	case RoleStopped:
		why = append(why, "stopped")
	case RoleActive:
		for _, s := range st.Streams {
			if time.Duration(s.LagMS)*time.Millisecond > MaxHealthyLag {
				why = append(why, s.Stream+": the oldest line not yet in Redis was read "+(time.Duration(s.LagMS)*time.Millisecond).String()+" ago")
			}
		}
	}
	return len(why) == 0, why
}

// Handler serves /is-alive, /is-healthy and /status.
func (g *Ingress) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /is-alive", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("OK"))
	})
	mux.HandleFunc("GET /is-healthy", func(w http.ResponseWriter, r *http.Request) {
		ok, why := g.Healthy()
		st := g.Status()
		code := http.StatusOK
		if !ok {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, map[string]any{"healthy": ok, "problems": why, "role": st.Role,
			"redisReachable": st.Redis.Reachable, "streams": st.Streams})
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, g.Status())
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}
