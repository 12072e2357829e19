package logreader

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestGeneratorEntriesAreValidAndShaped(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 678901000, time.UTC)
	g := NewGenerator(1, func() time.Time { return now })
	want := map[Stream][]string{
		Cycle:      {"counter", "cycleMarker", "cycleRecord", "writtenAt"},
		Receipt:    {"receiptId", "tx", "cycle", "applyTimestamp", "timestamp", "signedReceipt", "afterStates", "beforeStates", "appReceiptData", "executionShardKey", "globalModification", "writtenAt"},
		OriginalTx: {"txId", "timestamp", "cycle", "originalTxData", "writtenAt"},
	}
	for _, s := range Streams {
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
		if s == Receipt && (len(line) < 800 || len(line) > 1700) {
			t.Errorf("receipt is %d bytes, want 1-1.7 KB", len(line))
		}
		t.Logf("%s: %d bytes", s, len(line))
	}
	a := NewGenerator(7, func() time.Time { return now }).Append(nil, Receipt)
	b := NewGenerator(7, func() time.Time { return now }).Append(nil, Receipt)
	if !bytes.Equal(a, b) {
		t.Error("same seed and clock should give the same entry")
	}
}
