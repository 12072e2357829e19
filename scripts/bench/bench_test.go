package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/shardeum/distributor/protocol"
	"github.com/shardeum/distributor/scripts/internal/collector"
	"github.com/shardeum/distributor/scripts/internal/harness"
)

// A small scenario C through the whole harness: build, start, replay burst with rotation, two
// in-process subscribers, /proc sampling, and the report row.
func TestSmokeBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the distributor")
	}
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	bin, err := harness.Build(root, base)
	if err != nil {
		t.Fatal(err)
	}
	hk, _ := protocol.ParseHashKey(collector.DefaultHashKey)
	rn := &runner{bin: bin, root: root, base: base, verifyEvery: 10, hashKey: hk,
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	sc := scenarios(true)["C"]
	sc.Count, sc.Subscribers, sc.MaxEntries = 2000, 2, 300
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := rn.runStream(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	if r.Delivered != 4000 || r.Expected != 4000 || r.Gaps+r.Missing+r.Duplicates+r.OutOfOrder+r.Invalid != 0 || r.Abnormal != 0 {
		t.Errorf("result %+v; want 2,000 receipts to each of 2 subscribers, nothing wrong", r)
	}
	if r.PeakRSS <= 0 || r.CPU <= 0 || r.PeakKids != 1 || r.Drain <= 0 || r.P50 <= 0 {
		t.Errorf("measurements %+v; want RSS, CPU, one child, a drain time and latencies", r)
	}
	if got := row(sc, r, 1); !strings.HasPrefix(got, "| C: ") || !strings.Contains(got, "| 4000 / 4000 | 0 / 0 / 0 / 0 |") {
		t.Errorf("row = %s", got)
	}
}
