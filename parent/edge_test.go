package parent_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shardeum/distributor/parent"
	"github.com/shardeum/distributor/redisstream/redistest"
)

// An edge (FIREHOSE_SOURCE=redis) with a real redis-server and no ingress: /status names the
// source and, for each child reader, its Redis stream key (no entry read yet: no last ID, no
// lag). When Redis goes away, the readers' problem makes /is-healthy 503 once it has stood longer
// than HEALTH_READER_PROBLEM_MS, with a reason that says Redis and names the stream.
//
// It needs children that read Redis (package fanout); until they do it stops after checking the
// parent's own source.
func TestEdgeStatusAndHealthOnRedis(t *testing.T) {
	srv := redistest.Start(t)
	e := newEnv(t, 5, false)
	e.set("ARCHIVER_DB_DIR", testDBCopy(t)) // only Redis may make it unhealthy
	e.set("FIREHOSE_SOURCE", "redis")
	e.set("REDIS_URL", srv.URL())
	e.set("HEALTH_READER_PROBLEM_MS", 60_000)
	r := startParent(t, e, runOpts{})
	if st := r.status(); st.Source != "redis" {
		t.Fatalf("/status source %q, want redis", st.Source)
	}
	r.dial(newCollector(t))
	st := r.waitStatus("a child with its three readers", func(st parent.Status) bool {
		return len(st.Children) == 1 && len(st.Children[0].Readers) == 3
	})
	if src := st.Children[0].Readers[0].Source; src != "redis" {
		t.Skipf("the children read %q: their Redis reader is not in this build", src)
	}
	for _, rd := range st.Children[0].Readers {
		if rd.Key != "distributor:"+rd.Stream || rd.LastID != "" || rd.LagSeconds != nil {
			t.Errorf("reader %s: key %q lastId %q lagSeconds %v, want key distributor:%s and nothing read", rd.Stream, rd.Key, rd.LastID, rd.LagSeconds, rd.Stream)
		}
	}
	expectGet(t, r.addr, "/is-healthy", 200, "OK")

	srv.Stop()
	r.waitStatus("the readers report Redis unreachable", func(st parent.Status) bool {
		return len(st.Children) == 1 && (st.Children[0].LastProblem != "" || len(st.Children[0].Readers) > 0 && st.Children[0].Readers[0].Error != "")
	})
	expectGet(t, r.addr, "/is-healthy", 200, "OK") // standing for less than the threshold
	r.clock.advance(61 * time.Second)
	h := unhealthy(t, r.addr)
	if !strings.Contains(h.Reason, "Redis stream distributor:") || !strings.Contains(h.Reason, "Redis unreachable") || !strings.Contains(h.Reason, "HEALTH_READER_PROBLEM_MS") {
		t.Errorf("reason %q should say Redis, name the stream and the threshold", h.Reason)
	}
	expectGet(t, r.addr, "/is-alive", 200, "OK")
}
