package parent

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shardeum/distributor/child"
	"github.com/shardeum/distributor/config"
)

// problemKey names one reader: a child's stream.
type problemKey struct {
	pid    int
	stream string
}

// readerProblem is a reader's standing problem: reported (ReaderProblem) or seen failing in its
// Stats, and not yet over. It is over when the reader is not failing and has read a line since
// the problem was first seen in its Stats (entries grew past base), or when a failing reader
// was replaced.
type readerProblem struct {
	since     time.Time // Options.Now at the first report
	msg       string    // the latest report
	base      uint64    // the reader's Entries when the problem was first seen in its Stats
	baseKnown bool
	failing   bool // its Stats said Err; a replacement ends the problem
}

// reportProblem records a ReaderProblem of a child (mu held).
func (p *parent) reportProblem(pid int, stream, msg string) {
	k := problemKey{pid, stream}
	if pr := p.problems[k]; pr != nil {
		pr.msg = msg
		return
	}
	p.problems[k] = &readerProblem{since: p.opts.Now(), msg: msg}
}

// dropProblems forgets an exited child's readers (mu held).
func (p *parent) dropProblems(pid int) {
	for k := range p.problems {
		if k.pid == pid {
			delete(p.problems, k)
		}
	}
}

// staleProblems brings the standing problems up to date with the children's Stats and returns
// those older than HEALTH_READER_PROBLEM_MS (mu held).
func (p *parent) staleProblems(stats map[*slot]statsResult) []string {
	now := p.opts.Now()
	limit := time.Duration(p.cfg.Load().HealthReaderProblemMS) * time.Millisecond
	var out []string
	for s, r := range stats {
		if r.err != nil || s.state == exited {
			continue
		}
		for _, rd := range r.stats.Readers {
			k := problemKey{s.pid, rd.Stream}
			pr := p.problems[k]
			if pr == nil && rd.Err != "" {
				pr = &readerProblem{since: now, msg: rd.Err}
				p.problems[k] = pr
			}
			if pr == nil {
				continue
			}
			if p.problemOver(pr, rd) {
				delete(p.problems, k)
				continue
			}
			if age := now.Sub(pr.since); age > limit {
				out = append(out, problemReason(s.pid, rd, age, limit, pr.msg))
			}
		}
	}
	return out
}

// problemReason is the /is-healthy reason of a reader's problem. A reader of a Redis stream says
// so: its problem is Redis (unreachable, or the stream not readable), not the data logs.
func problemReason(pid int, rd child.ReaderStats, age, limit time.Duration, msg string) string {
	where := "reader " + rd.Stream
	if rd.Source == config.FirehoseRedis {
		where = fmt.Sprintf("reader %s (Redis stream %s)", rd.Stream, rd.Key)
		if !strings.Contains(strings.ToLower(msg), "redis") {
			msg = "Redis: " + msg
		}
	}
	return fmt.Sprintf("child %d %s: problem standing for %s (HEALTH_READER_PROBLEM_MS %d): %s",
		pid, where, age.Round(time.Millisecond), limit.Milliseconds(), oneLine(msg))
}

func (p *parent) problemOver(pr *readerProblem, rd child.ReaderStats) bool {
	if rd.Err != "" {
		pr.failing = true
		pr.msg = rd.Err
		return false
	}
	if pr.failing {
		return true // the failed reader was replaced
	}
	if !pr.baseKnown {
		pr.base, pr.baseKnown = rd.Entries, true
		return false
	}
	return rd.Entries > pr.base
}

// health returns why the service is unhealthy: the archive cannot be read (or, without one, the
// REST_FORWARD_URL that answers REST in its place does not answer), a child does not answer, or a
// reader's problem has stood longer than HEALTH_READER_PROBLEM_MS (on an edge, a reader of Redis
// that cannot reach it). Empty: healthy.
func (p *parent) health() []string {
	var why []string
	db := p.db.Load()
	switch fw := p.restForwarder(); {
	case fw != nil:
		if err := fw.check(); err != nil {
			why = append(why, "no local archive, and REST_FORWARD_URL "+fw.base+" does not answer /is-alive: "+oneLine(err.Error()))
		}
	case db.store == nil:
		why = append(why, "archive DB unavailable: "+oneLine(db.err.Error()))
	default:
		if err := dbCheck(db.store); err != nil {
			why = append(why, "archive DB: "+oneLine(err.Error()))
		}
	}
	stats := p.collect(p.runningSlots())
	p.mu.Lock()
	defer p.mu.Unlock()
	for s, r := range stats {
		if r.err != nil && s.state != exited {
			why = append(why, "child "+itoa(s.pid)+" not answering: "+r.err.Error())
		}
	}
	return append(why, p.staleProblems(stats)...)
}

// healthReply is the body of a 503 from /is-healthy.
type healthReply struct {
	Healthy bool     `json:"healthy"`
	Reason  string   `json:"reason"`  // the first of Reasons
	Reasons []string `json:"reasons"` // every check that failed
}

// serveHealthy answers 200 "OK" (the reference's reply) when healthy, else 503 with a JSON reason.
func (p *parent) serveHealthy(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if why := p.health(); len(why) > 0 {
		b, _ := json.Marshal(healthReply{Reason: why[0], Reasons: why})
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write(append(b, '\n'))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("OK"))
}
