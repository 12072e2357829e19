package parent_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shardeum/distributor/parent"
)

type healthBody struct {
	Healthy bool     `json:"healthy"`
	Reason  string   `json:"reason"`
	Reasons []string `json:"reasons"`
}

// unhealthy GETs /is-healthy, wants 503 with a JSON reason, and returns it.
func unhealthy(t testing.TB, addr string) healthBody {
	t.Helper()
	code, body := get(t, addr, "/is-healthy")
	var h healthBody
	if code != 503 || json.Unmarshal([]byte(body), &h) != nil || h.Healthy || h.Reason == "" || len(h.Reasons) == 0 || h.Reasons[0] != h.Reason {
		t.Fatalf("/is-healthy = %d %q, want 503 with a JSON reason", code, body)
	}
	return h
}

func testDBCopy(t testing.TB) string {
	t.Helper()
	src := filepath.Join(repoRoot(t), "testdata", "archiver-db")
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Skipf("testdata/archiver-db: %v", err)
	}
	dst := t.TempDir()
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dst, e.Name()), string(b))
	}
	return dst
}

// A data-log reader's problem makes /is-healthy 503 once it has stood longer than
// HEALTH_READER_PROBLEM_MS (on the parent's clock, which the test moves), and healthy again
// once the reader reads lines; /is-alive stays 200 throughout.
func TestHealthReaderProblem(t *testing.T) {
	e := newEnv(t, 5, false)
	e.set("ARCHIVER_DB_DIR", testDBCopy(t))
	e.set("HEALTH_READER_PROBLEM_MS", 60_000)
	r := startParent(t, e, runOpts{})
	w := r.dial(newCollector(t))
	r.waitStatus("1 child", childCount(1))
	e.feedUntil(t, "cycle", w)
	expectGet(t, r.addr, "/is-healthy", 200, "OK")

	// The data-log directory disappears: every reader reports it.
	if err := os.RemoveAll(e.logDir); err != nil {
		t.Fatal(err)
	}
	r.waitStatus("a reader problem reported", func(st parent.Status) bool {
		return len(st.Children) == 1 && strings.Contains(st.Children[0].LastProblem, "dir-missing")
	})
	expectGet(t, r.addr, "/is-healthy", 200, "OK") // standing for less than the threshold
	r.clock.advance(61 * time.Second)
	h := unhealthy(t, r.addr)
	if !strings.Contains(h.Reason, "reader") || !strings.Contains(h.Reason, "HEALTH_READER_PROBLEM_MS") || !strings.Contains(h.Reason, "dir-missing") {
		t.Errorf("reason %q should name the reader, its problem and the threshold", h.Reason)
	}
	expectGet(t, r.addr, "/is-alive", 200, "OK")

	// The collector recreates its directory; once every reader has read a line, healthy again.
	if err := os.MkdirAll(e.logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"cycle", "receipt", "originalTx"} {
		write(t, filepath.Join(e.logDir, s+"-log1.txt"), "")
		write(t, filepath.Join(e.logDir, "active-"+s+"-log.txt"), s+"-log1.txt")
	}
	for _, s := range []string{"cycle", "receipt", "originalTx"} {
		e.feedUntil(t, s, w)
	}
	expectGet(t, r.addr, "/is-healthy", 200, "OK")
}

// An archive file that cannot be read makes /is-healthy 503 with a JSON reason naming it.
func TestHealthArchiveUnreadable(t *testing.T) {
	e := newEnv(t, 5, false)
	db := testDBCopy(t)
	e.set("ARCHIVER_DB_DIR", db)
	r := startParent(t, e, runOpts{})
	expectGet(t, r.addr, "/is-healthy", 200, "OK")
	if err := os.Remove(filepath.Join(db, "receipts.sqlite3")); err != nil {
		t.Fatal(err)
	}
	h := unhealthy(t, r.addr)
	if !strings.Contains(h.Reason, "archive DB") || !strings.Contains(h.Reason, "receipts.sqlite3") {
		t.Errorf("reason %q should name the archive file", h.Reason)
	}
	expectGet(t, r.addr, "/is-alive", 200, "OK")
}
