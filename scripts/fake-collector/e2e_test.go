package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/shardeum/distributor/logreader"
	"github.com/shardeum/distributor/logwriter"
	"github.com/shardeum/distributor/scripts/internal/collector"
	"github.com/shardeum/distributor/scripts/internal/harness"
)

// startDistributor builds the real binary and runs `distributor start` on a temp config.
func startDistributor(t *testing.T, o harness.Options) *harness.Distributor {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	bin, err := harness.Build(root, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built the distributor in %v", time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := harness.Start(ctx, bin, root, t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("distributor alive in %v", time.Since(t0).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := d.Stop(); err != nil {
			t.Errorf("distributor stop: %v; log:\n%s", err, d.LogTail(3000))
		}
	})
	return d
}

// toolRun is the fake collector running in the background.
type toolRun struct {
	code     int
	out, err bytes.Buffer
	done     chan struct{}
}

func startTool(t *testing.T, args ...string) *toolRun {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	r := &toolRun{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		defer cancel()
		r.code = run(ctx, args, &r.out, &r.err)
	}()
	t.Cleanup(func() { cancel(); <-r.done })
	return r
}

// wait waits for the tool to exit; if it has not after 30 s it dumps the distributor's /status
// and log tail (the tool then ends at its own 60 s limit).
func (r *toolRun) wait(t *testing.T, d *harness.Distributor) collector.Summary {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := d.Status(ctx)
		cancel()
		t.Errorf("fake-collector still running after 30 s; /status %+v (%v)\ndistributor log:\n%s", st, err, d.LogTail(4000))
		<-r.done
	}
	if r.code != exitOK {
		t.Fatalf("fake-collector exit %d; stdout:\n%s\nstderr:\n%s", r.code, r.out.String(), r.err.String())
	}
	return decode(t, r.out.String())
}

func appendReceipts(t *testing.T, w *logwriter.Writer, from, to int64) {
	t.Helper()
	for seq := from; seq <= to; seq++ {
		line := fmt.Appendf(nil, `{"receiptId":"%064x","cycle":%d,"seq":%d,"writtenAt":%d}`, seq, seq/100, seq, time.Now().UnixMicro())
		if err := w.Append(line); err != nil {
			t.Fatalf("append %d: %v", seq, err)
		}
	}
}

// The fake collector against the real distributor: three subscribers over two children receive
// 1,500 receipts across six rotations, every signature verified, in order; then one subscriber saves
// its cursor, misses 50 receipts while away, and resumes to exactly those 50.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the distributor")
	}
	d := startDistributor(t, harness.Options{MaxClientsPerChild: 2})
	w, err := logwriter.NewWriter(d.DataLog, logreader.Receipt, 250, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	three := startTool(t, "--addr", d.Addr, "--clients", "3", "--expect", "1500", "--max-entries", "250", "--json", "--interval", "0")
	if err := d.WaitReady(ctx, 3, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	appendReceipts(t, w, 1, 1500)
	s := three.wait(t, d)
	t.Logf("3 clients received 1,500 receipts in %v", time.Since(t0).Round(time.Millisecond))
	rc := s.Streams["receipt"]
	if rc.Frames != 4500 || rc.MinPerClient != 1500 || rc.Verified != 4500 || rc.FirstSeq != 1 || rc.LastSeq != 1500 || !s.OK() {
		t.Errorf("3 clients: %+v, problems %q; want 1,500 verified receipts 1..1500 each, nothing wrong", rc, s.Problems)
	}
	if s.Latency.Count != 4500 {
		t.Errorf("latency samples %d, want 4500", s.Latency.Count)
	}

	cur := filepath.Join(t.TempDir(), "cursor.json")
	one := startTool(t, "--addr", d.Addr, "--expect", "100", "--save-cursor", cur, "--json", "--interval", "0")
	if err := d.WaitReady(ctx, 1, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	appendReceipts(t, w, 1501, 1600)
	if rc := one.wait(t, d).Streams["receipt"]; rc.FirstSeq != 1501 || rc.LastSeq != 1600 {
		t.Errorf("live client got seq %d..%d, want 1501..1600", rc.FirstSeq, rc.LastSeq)
	}
	appendReceipts(t, w, 1601, 1650) // nobody connected
	resumed := startTool(t, "--addr", d.Addr, "--cursor-file", cur, "--expect", "50", "--json", "--interval", "0")
	s = resumed.wait(t, d)
	if rc := s.Streams["receipt"]; rc.Frames != 50 || rc.FirstSeq != 1601 || rc.LastSeq != 1650 || !s.OK() {
		t.Errorf("resumed client: %+v; want exactly 1601..1650", rc)
	}
}
