package logwriter_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/shardeum/distributor/logreader"
	"github.com/shardeum/distributor/logwriter"
)

func TestGeneratorEntriesAreValidAndShaped(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 678901000, time.UTC)
	g := logwriter.NewGenerator(1, func() time.Time { return now })
	want := map[logreader.Stream][]string{
		logreader.Cycle:      {"counter", "cycleMarker", "cycleRecord", "writtenAt"},
		logreader.Receipt:    {"receiptId", "tx", "cycle", "applyTimestamp", "timestamp", "signedReceipt", "afterStates", "beforeStates", "appReceiptData", "executionShardKey", "globalModification", "writtenAt"},
		logreader.OriginalTx: {"txId", "timestamp", "cycle", "originalTxData", "writtenAt"},
	}
	for _, s := range logreader.Streams {
		line := g.Append(nil, s)
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%s: %v\n%s", s, err, line)
		}
		for _, k := range want[s] {
			if _, ok := m[k]; !ok {
				t.Errorf("%s entry lacks %q", s, k)
			}
		}
		if m["writtenAt"] != float64(now.UnixMicro()) {
			t.Errorf("%s writtenAt = %v, want %d", s, m["writtenAt"], now.UnixMicro())
		}
		if s == logreader.Receipt && (len(line) < 800 || len(line) > 1700) {
			t.Errorf("receipt is %d bytes, want 1-1.7 KB", len(line))
		}
		t.Logf("%s: %d bytes", s, len(line))
	}
	a := logwriter.NewGenerator(7, func() time.Time { return now }).Append(nil, logreader.Receipt)
	b := logwriter.NewGenerator(7, func() time.Time { return now }).Append(nil, logreader.Receipt)
	if !bytes.Equal(a, b) {
		t.Error("same seed and clock should give the same entry")
	}
}
