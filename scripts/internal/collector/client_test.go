package collector_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shardeum/distributor/protocol"
	"github.com/shardeum/distributor/scripts/internal/collector"
	"github.com/shardeum/distributor/scripts/internal/firehosetest"
)

func signers(t *testing.T) (hk protocol.HashKey, distributor, coll, stranger protocol.Signer) {
	t.Helper()
	hk, err := protocol.ParseHashKey(collector.DefaultHashKey)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(pub, sec string) protocol.Signer {
		kp, err := protocol.ParseKeyPair(pub, sec)
		if err != nil {
			t.Fatal(err)
		}
		return protocol.Signer{HashKey: hk, Keys: kp}
	}
	return hk, mk(collector.DistributorPublicKey, collector.DistributorSecretKey),
		mk(collector.CollectorPublicKey, collector.CollectorSecretKey),
		mk(collector.StrangerPublicKey, collector.StrangerSecretKey)
}

func run(t *testing.T, o collector.Options) (*collector.Client, collector.Result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := collector.New(o)
	r := c.Run(ctx)
	if ctx.Err() != nil {
		t.Fatalf("subscription did not end by itself: %+v", r)
	}
	return c, r
}

// A script of valid frames with a forged one (stranger's key), a tampered one (bytes changed
// after signing), a gap (seq 11 never sent), a duplicate and a binary message, then close 4404.
func TestCountsForgedGapDuplicateAndCloseCode(t *testing.T) {
	hk, dist, coll, stranger := signers(t)
	now := time.Now()
	var script []firehosetest.Message
	send := func(s protocol.Signer, seq int64) []byte {
		f := firehosetest.Frame(t, s, protocol.KindReceipt, firehosetest.Entry(seq, now), "pos-"+string(rune('a'+seq)))
		script = append(script, firehosetest.Text(f))
		return f
	}
	for seq := int64(1); seq <= 10; seq++ {
		send(dist, seq)
	}
	send(stranger, 11) // forged: wrong owner
	tampered := bytes.Replace(firehosetest.Frame(t, dist, protocol.KindReceipt, firehosetest.Entry(11, now), "x"),
		[]byte(`r000011`), []byte(`r000099`), 1)
	script = append(script, firehosetest.Text(tampered))
	for seq := int64(12); seq <= 15; seq++ {
		send(dist, seq)
	}
	send(dist, 5) // duplicate
	script = append(script,
		firehosetest.Text(firehosetest.Frame(t, dist, protocol.KindCycle, []byte(`{"counter":1}`), "")),
		firehosetest.Text([]byte(`{"receipt":{"seq":16}`)), // truncated JSON
		firehosetest.Message{Data: []byte("x"), Binary: true},
		firehosetest.Message{Close: 4404, Reason: "cursor gone"})
	srv := firehosetest.Start(t, hk, script)

	c, r := run(t, collector.Options{Addr: srv.Addr, Signer: coll, ExpectOwner: dist.Keys.PublicHex})
	s := collector.Summarize([]*collector.Client{c}, []collector.Result{r}, time.Second)
	rc := s.Streams["receipt"]
	if rc.Frames != 15 || rc.Invalid != 3 || rc.Gaps != 1 || rc.Missing != 1 || rc.Duplicates != 1 || rc.OutOfOrder != 0 {
		t.Errorf("receipt counts = %+v; want frames 15, invalid 3, gaps 1, missing 1, duplicates 1, ooo 0", rc)
	}
	if s.Streams["cycle"].Frames != 1 {
		t.Errorf("cycle frames = %d, want 1", s.Streams["cycle"].Frames)
	}
	if s.Invalid != 4 { // 3 receipt (the truncated one too) + the binary message (stream unknown)
		t.Errorf("total invalid = %d, want 4 (problems %q)", s.Invalid, s.Problems)
	}
	if r.End != collector.EndClosed || r.CloseCode != 4404 || r.CloseReason != "cursor gone" || !r.Abnormal() {
		t.Errorf("result = %+v; want closed 4404 \"cursor gone\", abnormal", r)
	}
	if s.OK() || s.Abnormal != 1 {
		t.Errorf("summary OK = %v, abnormal = %d; want not OK, 1 abnormal", s.OK(), s.Abnormal)
	}
	if s.Latency.Count != 15 || s.Latency.MaxMs <= 0 {
		t.Errorf("latency = %+v; want 15 samples (every valid receipt) with positive max", s.Latency)
	}
	if got := c.LastCursors()["receipt"]; got != "pos-"+string(rune('a'+5)) {
		t.Errorf("last receipt cursor = %q, want the duplicate's", got)
	}
}

func TestOutOfOrderFillsGap(t *testing.T) {
	hk, dist, coll, _ := signers(t)
	var script []firehosetest.Message
	for _, seq := range []int64{1, 2, 4, 3, 5} {
		script = append(script, firehosetest.Text(firehosetest.Frame(t, dist, protocol.KindReceipt,
			firehosetest.Entry(seq, time.Now()), "")))
	}
	srv := firehosetest.Start(t, hk, script)
	c, r := run(t, collector.Options{Addr: srv.Addr, Signer: coll, ExpectOwner: dist.Keys.PublicHex})
	s := collector.Summarize([]*collector.Client{c}, []collector.Result{r}, time.Second)
	rc := s.Streams["receipt"]
	if rc.Frames != 5 || rc.Gaps != 1 || rc.OutOfOrder != 1 || rc.Missing != 0 || rc.Duplicates != 0 {
		t.Errorf("counts = %+v; want 5 frames, 1 gap, 1 out of order, 0 missing", rc)
	}
	// The server closed with 1000 after its script: a normal end.
	if r.End != collector.EndClosed || r.CloseCode != 1000 || r.Abnormal() {
		t.Errorf("result = %+v; want a normal 1000 close", r)
	}
}

// Verifying every 4th frame: tampered frames at unverified positions pass, the verified ones do not.
func TestVerifyEvery(t *testing.T) {
	hk, dist, coll, _ := signers(t)
	var script []firehosetest.Message
	for seq := int64(1); seq <= 10; seq++ {
		f := firehosetest.Frame(t, dist, protocol.KindReceipt, firehosetest.Entry(seq, time.Now()), "")
		f = bytes.Replace(f, []byte(`"r0000`), []byte(`"R0000`), 1) // every frame tampered
		script = append(script, firehosetest.Text(f))
	}
	srv := firehosetest.Start(t, hk, script)
	c, r := run(t, collector.Options{Addr: srv.Addr, Signer: coll, ExpectOwner: dist.Keys.PublicHex, VerifyEvery: 4})
	s := collector.Summarize([]*collector.Client{c}, []collector.Result{r}, time.Second)
	// Positions 0, 4 and 8 (counting valid and invalid frames) are verified and fail.
	if rc := s.Streams["receipt"]; rc.Verified != 3 || rc.Invalid != 3 || rc.Frames != 7 {
		t.Errorf("counts = %+v; want 3 verified, 3 invalid, 7 passed unverified", rc)
	}
}

// The handshake is signed by the collector key, says FIREHOSE, and carries the resume cursor;
// with ExpectFrames the client closes normally (1000) once it has them.
func TestHandshakeResumeAndExpect(t *testing.T) {
	hk, dist, coll, _ := signers(t)
	var script []firehosetest.Message
	for seq := int64(1); seq <= 3; seq++ {
		script = append(script, firehosetest.Text(firehosetest.Frame(t, dist, protocol.KindReceipt,
			firehosetest.Entry(seq, time.Now()), "")))
	}
	script = append(script, firehosetest.Message{Wait: true})
	srv := firehosetest.Start(t, hk, script)
	cursor := map[string]string{"receipt": "3:receipt-log2.txt:1234"}
	c, r := run(t, collector.Options{Addr: srv.Addr, Signer: coll, Cursor: cursor,
		ExpectStream: "receipt", ExpectFrames: 3})
	if r.End != collector.EndExpected || r.Abnormal() || r.FirstFrame.IsZero() || r.FirstFrame.Before(r.Connected) {
		t.Errorf("result = %+v; want expected end with a first-frame time after connect", r)
	}
	if n := c.Counters("receipt").Frames.Load(); n != 3 {
		t.Errorf("frames = %d, want 3", n)
	}
	hs := <-srv.Handshakes
	if hs.Object["sender"] != coll.Keys.PublicHex {
		t.Errorf("sender = %v, want collector key", hs.Object["sender"])
	}
	cur, _ := hs.Object["cursor"].(map[string]any)
	if cur["receipt"] != cursor["receipt"] {
		t.Errorf("handshake cursor = %v, want %v", hs.Object["cursor"], cursor)
	}
	if code := <-srv.ClientClose; code != websocket.StatusNormalClosure {
		t.Errorf("client closed with %d, want 1000", code)
	}
}

// A connection dropped without a close frame is an abnormal end, with the frames before it counted.
func TestConnectionCut(t *testing.T) {
	hk, dist, coll, _ := signers(t)
	srv := firehosetest.Start(t, hk, []firehosetest.Message{
		firehosetest.Text(firehosetest.Frame(t, dist, protocol.KindReceipt, firehosetest.Entry(1, time.Now()), "")),
		{Cut: true},
	})
	c, r := run(t, collector.Options{Addr: srv.Addr, Signer: coll})
	if r.End != collector.EndError || r.CloseCode != -1 || !r.Abnormal() || c.Counters("receipt").Frames.Load() != 1 {
		t.Errorf("result = %+v; want an abnormal error end after 1 frame", r)
	}
}

func TestDialRefused(t *testing.T) {
	hk, _, coll, _ := signers(t)
	srv := firehosetest.Start(t, hk, nil)
	bad := coll
	bad.HashKey[0] ^= 1 // signs with another hash key: the server refuses the signature
	_, r := run(t, collector.Options{Addr: srv.Addr, Signer: bad})
	var de *collector.DialError
	if r.End != collector.EndDialError || !errors.As(r.Err, &de) || de.Status != 401 || !r.Abnormal() {
		t.Errorf("result = %+v; want a 401 dial error", r)
	}
}

// Frames without a seq (real data) are checked by cursor continuity: consecutive lines within a
// file, line 1 of a new file.
func TestCursorContinuityWithoutSeq(t *testing.T) {
	hk, dist, coll, _ := signers(t)
	const a, b = "00000000000000aa", "00000000000000bb"
	var script []firehosetest.Message
	for _, cur := range []string{
		"9.7.700." + a, "9.8.800." + a, // consecutive
		"10.1.90." + b,  // new file, line 1
		"10.3.290." + b, // gap: line 2 missing
		"10.3.290." + b, // duplicate
		"10.2.190." + b, // out of order
		"1.5.500." + a,  // new file not at line 1: gap
	} {
		script = append(script, firehosetest.Text(firehosetest.Frame(t, dist, protocol.KindReceipt,
			[]byte(`{"receiptId":"x"}`), cur)))
	}
	srv := firehosetest.Start(t, hk, script)
	c, r := run(t, collector.Options{Addr: srv.Addr, Signer: coll, ExpectOwner: dist.Keys.PublicHex})
	s := collector.Summarize([]*collector.Client{c}, []collector.Result{r}, time.Second)
	rc := s.Streams["receipt"]
	if rc.Frames != 7 || rc.Gaps != 2 || rc.Missing != 5 || rc.Duplicates != 1 || rc.OutOfOrder != 1 || rc.ClientsWithoutSeq != 1 {
		t.Errorf("counts = %+v; want 7 frames, 2 gaps (5 lines missing), 1 duplicate, 1 out of order, checked without seq", rc)
	}
}

// With the writer's maxEntries known, a file that ended early and a skipped file number are gaps.
func TestCursorRotationChecks(t *testing.T) {
	hk, dist, coll, _ := signers(t)
	var script []firehosetest.Message
	for _, cur := range []string{
		"9.7.700.00000000000000aa", "9.8.800.00000000000000aa", // file 9 complete (8 entries)
		"10.1.90.00000000000000bb", "10.2.190.00000000000000bb",
		"2.1.50.00000000000000cc", // file 1 skipped
		"3.1.50.00000000000000dd", // file 2 ended at line 1 of 8
	} {
		script = append(script, firehosetest.Text(firehosetest.Frame(t, dist, protocol.KindReceipt,
			[]byte(`{"receiptId":"x"}`), cur)))
	}
	srv := firehosetest.Start(t, hk, script)
	c, r := run(t, collector.Options{Addr: srv.Addr, Signer: coll, MaxEntries: 8})
	rc := collector.Summarize([]*collector.Client{c}, []collector.Result{r}, time.Second).Streams["receipt"]
	// File 10 ended after line 2 (6 lines) and file 1 was skipped (8); file 2 ended after line 1 (7).
	if rc.Frames != 6 || rc.Gaps != 2 || rc.Missing != 21 {
		t.Errorf("counts = %+v; want 6 frames, 2 gaps, 21 lines known missing", rc)
	}
}
