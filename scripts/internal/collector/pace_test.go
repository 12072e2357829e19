package collector_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shardeum/distributor/protocol"
	"github.com/shardeum/distributor/scripts/internal/collector"
	"github.com/shardeum/distributor/scripts/internal/firehosetest"
)

// receipts is a script of n valid receipt frames, seq 1..n, followed by then.
func receipts(t *testing.T, dist protocol.Signer, n int, then ...firehosetest.Message) []firehosetest.Message {
	t.Helper()
	var script []firehosetest.Message
	for seq := int64(1); seq <= int64(n); seq++ {
		script = append(script, firehosetest.Text(firehosetest.Frame(t, dist, protocol.KindReceipt,
			firehosetest.Entry(seq, time.Now()), "")))
	}
	return append(script, then...)
}

// A client throttled to MaxRate reads no faster than that: the server has all 50 frames ready at
// once, and the 50th is read no sooner than 49/MaxRate after the first. Nothing is lost to the pace.
func TestMaxRate(t *testing.T) {
	hk, dist, coll, _ := signers(t)
	const n, rate = 50, 100
	srv := firehosetest.Start(t, hk, receipts(t, dist, n))
	c, r := run(t, collector.Options{Addr: srv.Addr, Signer: coll, ExpectOwner: dist.Keys.PublicHex, MaxRate: rate})
	s := collector.Summarize([]*collector.Client{c}, []collector.Result{r}, time.Second)
	if rc := s.Streams["receipt"]; rc.Frames != n || rc.Gaps != 0 || rc.Duplicates != 0 || rc.Invalid != 0 {
		t.Errorf("counts = %+v; want %d frames, nothing wrong", rc, n)
	}
	if r.End != collector.EndClosed || r.CloseCode != 1000 {
		t.Errorf("result = %+v; want the server's 1000 after its script", r)
	}
	// The pace sleeps until first + k/rate after the k-th message: a lower bound that holds on
	// any machine, however loaded.
	if min := time.Duration(n-1) * time.Second / rate; s.LastReceive.Sub(r.FirstFrame) < min {
		t.Errorf("frames 1..%d read within %v; at most %d/s means at least %v", n, s.LastReceive.Sub(r.FirstFrame), rate, min)
	}
}

// A stalled client reads nothing for StallFor, then everything the server queued meanwhile (more
// than the socket buffers hold, so the server's writes wait for it), and the server's close frame.
func TestStallForThenReadsToTheClose(t *testing.T) {
	hk, dist, coll, _ := signers(t)
	const n = 20000 // ~6 MB of frames: more than the kernel buffers between the two ends
	srv := firehosetest.Start(t, hk, receipts(t, dist, n, firehosetest.Message{Close: 1008, Reason: "stalled"}))
	const stall = 300 * time.Millisecond
	c, r := run(t, collector.Options{Addr: srv.Addr, Signer: coll, VerifyEvery: 1000, StallFor: stall})
	s := collector.Summarize([]*collector.Client{c}, []collector.Result{r}, time.Second)
	if rc := s.Streams["receipt"]; rc.Frames != n || rc.Gaps != 0 || rc.Missing != 0 || rc.Duplicates != 0 || rc.Invalid != 0 {
		t.Errorf("counts = %+v; want all %d frames after the stall, nothing wrong", rc, n)
	}
	if r.End != collector.EndClosed || r.CloseCode != 1008 || r.CloseReason != "stalled" {
		t.Errorf("result = %+v; want the server's 1008 \"stalled\" after the frames", r)
	}
	if r.StallEnded.Sub(r.Connected) < stall || r.FirstFrame.Before(r.StallEnded) || r.Ended.Before(r.FirstFrame) {
		t.Errorf("connected %v, stall ended %v, first frame %v, ended %v; want the stall (%v) before any read",
			r.Connected, r.StallEnded, r.FirstFrame, r.Ended, stall)
	}
}

// A connection that ended during the stall without a close frame (a server that gave up on a
// socket that takes nothing) is seen once the client reads: the frames before, then the end.
func TestStallForConnectionCut(t *testing.T) {
	hk, dist, coll, _ := signers(t)
	srv := firehosetest.Start(t, hk, receipts(t, dist, 10, firehosetest.Message{Cut: true}))
	c, r := run(t, collector.Options{Addr: srv.Addr, Signer: coll, StallFor: 200 * time.Millisecond})
	if r.End != collector.EndError || r.CloseCode != -1 || r.StallEnded.IsZero() || c.Counters("receipt").Frames.Load() != 10 {
		t.Errorf("result = %+v, frames %d; want 10 frames after the stall, then an end without a close frame",
			r, c.Counters("receipt").Frames.Load())
	}
}

// The caller's context ends a stall at once (the client closes with 1000, as it does when stopped
// while reading).
func TestStallForCancelled(t *testing.T) {
	hk, _, coll, _ := signers(t)
	srv := firehosetest.Start(t, hk, []firehosetest.Message{{Wait: true}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := collector.New(collector.Options{Addr: srv.Addr, Signer: coll, StallFor: time.Hour, OnConnect: cancel})
	r := c.Run(ctx)
	if r.End != collector.EndCancelled || r.Connected.IsZero() || !r.StallEnded.IsZero() {
		t.Errorf("result = %+v; want cancelled during the stall", r)
	}
	if code := <-srv.ClientClose; code != websocket.StatusNormalClosure {
		t.Errorf("client closed with %d, want 1000", code)
	}
}
