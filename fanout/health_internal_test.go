package fanout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardeum/distributor/child"
	"github.com/shardeum/distributor/config"
	"github.com/shardeum/distributor/logreader"
	"github.com/shardeum/distributor/logwriter"
)

// flakySource is a real logreader.Reader whose Next fails once, after failAfter lines: the data-log
// reader itself only fails in ways a test cannot provoke on demand (a future Source may fail often).
type flakySource struct {
	r         *fileSource
	failAfter int
	n         int
}

func (s *flakySource) Next(ctx context.Context) (Entry, error) {
	s.n++
	if s.n == s.failAfter+1 {
		return Entry{}, errors.New("injected read failure")
	}
	return s.r.Next(ctx)
}

func (s *flakySource) Close() error   { return s.r.Close() }
func (s *flakySource) Cursor() string { return s.r.Cursor() }

// TestReaderRecoveryClearsHealth: a reader failure marks the stream unhealthy (child.ReaderStats.Err, which
// the parent's /is-healthy reports) until the replacement reader is open; then Err is clear again,
// LastErr keeps what happened, and the stream goes on after the last line read: no gap, no duplicate.
func TestReaderRecoveryClearsHealth(t *testing.T) {
	dir := t.TempDir()
	writers := map[logreader.Stream]*logwriter.Writer{}
	for _, st := range logreader.Streams {
		w, err := logwriter.NewWriter(dir, st, 100, 10)
		if err != nil {
			t.Fatal(err)
		}
		writers[st] = w
		t.Cleanup(func() { _ = w.Close() })
	}
	cfg, err := config.FromJSON([]byte(fmt.Sprintf(`{"DATA_LOG_DIR":%q,"FILE_STREAM_INTERVAL_MS":20}`, dir)))
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(child.Env{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	f := &hubFeed{s: s, log: s.log, dir: dir}
	real := dataLogOpener(dir, 20*time.Millisecond, s.log, func(st logreader.Stream, err error) {
		s.events.problem(string(st), err.Error())
	})
	reopening, reopen := make(chan struct{}), make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(reopen) }) }
	t.Cleanup(release)
	receiptOpens := 0
	f.open = func(st logreader.Stream, after string, live bool) (Source, error) {
		if st != logreader.Receipt || !live {
			return real(st, after, live)
		}
		receiptOpens++ // only the receipt hub's goroutines open its live reader, one at a time
		if receiptOpens == 1 {
			src, err := real(st, after, live)
			if err != nil {
				return nil, err
			}
			return &flakySource{r: src.(*fileSource), failAfter: 5}, nil
		}
		if receiptOpens == 2 {
			close(reopening)
			<-reopen
		}
		return real(st, after, live)
	}
	fd, _, err := f.start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.stop()
	c := newClient(s, child.Handoff{ClientID: "h"}, nil, nil, 1024)
	pushed := make(chan struct{}, 1)
	c.q.onPush = func() { wake(pushed) } // no flusher here: the test takes the frames itself
	fd.subscribe(c)

	for i := 1; i <= 10; i++ {
		if err := writers[logreader.Receipt].Append([]byte(`{"seq":` + strconv.Itoa(i) + `}`)); err != nil {
			t.Fatal(err)
		}
	}
	got := receiveSeqs(t, c, pushed, 5)
	select {
	case <-reopening:
	case <-time.After(20 * time.Second):
		t.Fatal("the failed reader was not replaced")
	}
	rs := receiptStats(fd)
	if !strings.Contains(rs.Err, "injected read failure") {
		t.Fatalf("while the reader is down: stats %+v, want its failure in Err", rs)
	}
	release()
	got = append(got, receiveSeqs(t, c, pushed, 5)...)
	for i, s := range got {
		if s != i+1 {
			t.Fatalf("receipts %v, want 1..10 (gap or duplicate across the reader's replacement)", got)
		}
	}
	rs = receiptStats(fd)
	if rs.Err != "" || !strings.Contains(rs.LastErr, "injected read failure") || rs.Entries != 10 {
		t.Fatalf("after the replacement: stats %+v, want Err clear, the failure in LastErr, 10 entries", rs)
	}
}

func receiptStats(fd feed) child.ReaderStats {
	for _, r := range fd.stats() {
		if r.Stream == string(logreader.Receipt) {
			return r
		}
	}
	return child.ReaderStats{}
}

// receiveSeqs takes n frames from c's queue and returns their receipts' seq numbers.
func receiveSeqs(t *testing.T, c *client, pushed <-chan struct{}, n int) []int {
	t.Helper()
	var out []int
	deadline := time.After(20 * time.Second)
	for len(out) < n {
		fs := c.q.take(nil, n-len(out))
		if len(fs) == 0 {
			select {
			case <-pushed:
			case <-deadline:
				t.Fatalf("timed out with receipts %v, want %d", out, n)
			}
			continue
		}
		for _, f := range fs {
			var m struct {
				Receipt struct{ Seq int } `json:"receipt"`
			}
			if err := json.Unmarshal(f.data, &m); err != nil {
				t.Fatalf("frame %s: %v", f.data, err)
			}
			out = append(out, m.Receipt.Seq)
		}
	}
	return out
}
