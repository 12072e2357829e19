package parent_test

import (
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/shardeum/distributor/parent"
	"github.com/shardeum/distributor/protocol"
)

// A collector whose child is killed with -9 reconnects with the cursor of the last frame it
// processed and receives every later line exactly once (those written during the outage, then
// live ones), through a new child.
func TestResumeAfterChildKilled(t *testing.T) {
	e := newEnv(t, 5, false)
	r := startParent(t, e, runOpts{})
	col := newCollector(t)
	w := r.dial(col)
	st := r.waitStatus("1 client in 1 child", func(st parent.Status) bool { return st.Clients == 1 && len(st.Children) == 1 })
	victim := st.Children[0].Pid

	appendReceipts(e, 1, 100)
	var processed string // cursor of the last frame the collector processed
	for want := 1; want <= 100; want++ {
		n, cursor := receiptFrame(t, e, w.frame(t, 10*time.Second))
		if n != want {
			t.Fatalf("before the kill: got receipt %d, want %d", n, want)
		}
		if n == 60 {
			processed = cursor
		}
	}

	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	w.closed(t, 10*time.Second)
	waitGone(t, []int{victim}, stopDeadline)
	appendReceipts(e, 101, 200) // written while the collector is away

	w2, err := dialWS(r.addr, resumeHandshake(t, e, col, processed), col.kp.PublicHex)
	if err != nil {
		t.Fatalf("reconnect: %v", err)
	}
	t.Cleanup(w2.close)
	for want := 61; want <= 201; want++ {
		if want == 201 {
			appendReceipts(e, 201, 201) // live again
		}
		if n, _ := receiptFrame(t, e, w2.frame(t, 10*time.Second)); n != want {
			t.Fatalf("after resuming from receipt 60: got receipt %d, want %d", n, want)
		}
	}
	st = r.status()
	if len(st.Children) != 1 || st.Children[0].Pid == victim {
		t.Fatalf("want one new child, got %+v", st.Children)
	}
}

func appendReceipts(e *env, from, to int) {
	for i := from; i <= to; i++ {
		e.appendLine("receipt", fmt.Sprintf(`{"n":%d,"receiptId":"r%d"}`, i, i))
	}
}

// receiptFrame checks a frame's signature and returns its receipt number and cursor.
func receiptFrame(t *testing.T, e *env, b []byte) (int, string) {
	t.Helper()
	if err := protocol.VerifyJSON(e.hashKey, b); err != nil {
		t.Fatalf("frame does not verify: %v: %s", err, b)
	}
	var f struct {
		Cursor  string
		Receipt *struct{ N int }
	}
	if err := json.Unmarshal(b, &f); err != nil || f.Receipt == nil || f.Cursor == "" {
		t.Fatalf("not a receipt frame with a cursor: %s", b)
	}
	return f.Receipt.N, f.Cursor
}

// resumeHandshake is a collector's signed handshake carrying its receipt cursor.
func resumeHandshake(t *testing.T, e *env, c collector, receiptCursor string) []byte {
	t.Helper()
	b, err := protocol.Signer{HashKey: e.hashKey, Keys: c.kp}.SignObject(map[string]any{
		"collectorInfo": map[string]any{"subscriptionType": "FIREHOSE", "timestamp": float64(time.Now().UnixMilli())},
		"sender":        c.kp.PublicHex,
		"cursor":        map[string]any{"receipt": receiptCursor},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
