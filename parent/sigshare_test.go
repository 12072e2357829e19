package parent_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/shardeum/distributor/parent"
)

// Children share their signatures: a second child that serves a collector resuming from the start
// of what the first child sent finds every signature already made, and sends frames identical
// to the first child's (and valid).
func TestChildrenShareSignatures(t *testing.T) {
	const n = 40
	e := newEnv(t, 1, false) // one client per child: two collectors, two children
	r := startParent(t, e, runOpts{})
	first := r.dial(newCollector(t))
	r.waitStatus("1 client", func(st parent.Status) bool { return st.Clients == 1 })
	appendReceipts(e, 1, n)
	frames := make([][]byte, n+1)
	var start string
	for want := 1; want <= n; want++ {
		b := first.frame(t, 10*time.Second)
		got, cursor := receiptFrame(t, e, b)
		if got != want {
			t.Fatalf("first collector: receipt %d, want %d", got, want)
		}
		frames[got] = b
		if got == 1 {
			start = cursor
		}
	}

	col := newCollector(t)
	second, err := dialWS(r.addr, resumeHandshake(t, e, col, start), col.kp.PublicHex)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(second.close)
	for want := 2; want <= n; want++ {
		b := second.frame(t, 10*time.Second)
		if got, _ := receiptFrame(t, e, b); got != want {
			t.Fatalf("second collector: receipt %d, want %d", got, want)
		}
		if !bytes.Equal(b, frames[want]) {
			t.Fatalf("receipt %d: the two children's frames differ:\n%s\n%s", want, frames[want], b)
		}
	}
	st := r.waitStatus("2 children", func(st parent.Status) bool { return len(st.Children) == 2 })
	var made, reused uint64
	for _, c := range st.Children {
		made += c.SigSigned
		reused += c.SigReused
	}
	// Slots are picked by hash: two of the 39 frames may share one and miss (rarely); most must not.
	if reused < n-1-4 || made > n+4 {
		t.Fatalf("children signed %d frames and reused %d signatures; want %d signed once and ~%d reused", made, reused, n, n-1)
	}
}
