package collector

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/shardeum/distributor/logreader"
	"github.com/shardeum/distributor/logwriter"
	"github.com/shardeum/distributor/protocol"
)

func TestParseFrame(t *testing.T) {
	f, err := ParseFrame([]byte(`{"cursor":"a\"b","receipt":{"x":{"seq":99},"seq":7,"writtenAt":1700000000000001,"s":"}{\\","t":"\\\"]"},"sign":{"owner":"ab","sig":"cd"}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := Frame{Stream: "receipt", Cursor: `a"b`, Owner: "ab", Seq: 7, HasSeq: true, WrittenAtUS: 1700000000000001, HasWrittenAt: true}
	if f != want {
		t.Errorf("got %+v\nwant %+v", f, want)
	}
	for _, bad := range []string{
		``, `[]`, `{"receipt":{}}`, `{"receipt":{},"cycle":{},"sign":{"owner":"a"}}`,
		`{"sign":{"owner":"a"}}`, `{"receipt":{"a":"unterminated},"sign":{}}`, `{"receipt":{}} x`,
		`{"receipt":{},"sign":{"owner":1}}`, `{"receipt" {}}`,
	} {
		if _, err := ParseFrame([]byte(bad)); err == nil {
			t.Errorf("ParseFrame(%q) succeeded, want an error", bad)
		}
	}
}

// A canonical frame goes through parseCanonical, unless its entry ends with "seq" before
// "writtenAt": then the full parse reads the seq.
func TestParseCanonicalFrame(t *testing.T) {
	owner, sig := strings.Repeat("a1", 32), strings.Repeat("0f", 96)
	frame := func(entry string) []byte {
		return []byte(`{"cursor":"1.2.3.00000000000000ff","receipt":` + entry + `,"sign":{"owner":"` + owner + `","sig":"` + sig + `"}}`)
	}
	for _, c := range []struct {
		entry     string
		fast      bool
		seq       int64
		writtenAt int64
	}{
		{`{"receiptId":"r1","writtenAt":42}`, true, 0, 42},
		{`{"receiptId":"r1","seq":7,"writtenAt":42}`, false, 7, 42},
		{`{"seq":7,"writtenAt":42}`, false, 7, 42},
		{`{"receiptId":"seq","writtenAt":42}`, true, 0, 42},
	} {
		data := frame(c.entry)
		_, fast := viewCanonical(data)
		f, err := ParseFrame(data)
		if err != nil || fast != c.fast || f.Seq != c.seq || f.HasSeq != (c.seq != 0) || f.WrittenAtUS != c.writtenAt ||
			f.Owner != owner || f.Cursor != "1.2.3.00000000000000ff" || f.Stream != "receipt" {
			t.Errorf("%s: fast path %v (want %v), %+v, %v", c.entry, fast, c.fast, f, err)
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	for us := int64(1); us <= 100000; us++ {
		h.Record(us)
	}
	check := func(name string, got time.Duration, want int64) {
		t.Helper()
		g := got.Microseconds()
		if d := float64(g-want) / float64(want); d > 0.02 || d < -0.02 {
			t.Errorf("%s = %d µs, want %d ±2%%", name, g, want)
		}
	}
	check("p50", h.Quantile(0.5), 50000)
	check("p99", h.Quantile(0.99), 99000)
	check("p1", h.Quantile(0.01), 1000)
	if h.Max() != 100*time.Millisecond || h.Count() != 100000 {
		t.Errorf("max %v count %d", h.Max(), h.Count())
	}
	var small Histogram
	small.Record(-5)
	small.Record(3)
	if small.Quantile(0.5) != 0 || small.Quantile(1) != 3*time.Microsecond {
		t.Errorf("small quantiles %v %v", small.Quantile(0.5), small.Quantile(1))
	}
	var big Histogram
	big.Record(1 << 62)
	if big.Quantile(0.5) != big.Max() {
		t.Errorf("big quantile %v max %v", big.Quantile(0.5), big.Max())
	}
}

func TestSeqTracker(t *testing.T) {
	var tr seqTracker
	steps := []struct {
		seq     int64
		verdict seqVerdict
		skipped int64
	}{
		{100, seqNext, 0}, {101, seqNext, 0}, {105, seqGap, 3}, {103, seqLate, 0}, {103, seqDuplicate, 0},
		{99, seqLate, 0}, {106, seqNext, 0}, {300, seqGap, 193},
	}
	for _, s := range steps {
		v, sk := tr.add(s.seq)
		if v != s.verdict || sk != s.skipped {
			t.Errorf("add(%d) = %v,%d; want %v,%d", s.seq, v, sk, s.verdict, s.skipped)
		}
	}
	// 100..300 is 201 numbers; seen 100,101,103,105,106,300 = 6.
	if m := tr.missing(); m != 195 {
		t.Errorf("missing = %d, want 195", m)
	}
}

// The client's per-frame cost when it does not verify: one scan of a ~1.3 KB frame.
func BenchmarkParseFrame(b *testing.B) {
	entry := `{"receiptId":"` + strings.Repeat("ab", 32) + `","seq":123456,"tx":{"data":"` + strings.Repeat("x", 900) +
		`","txId":"` + strings.Repeat("cd", 32) + `"},"writtenAt":1700000000000001}`
	frame := []byte(`{"cursor":"3.1200.1228800.5f1d3c0a9b2e4d71","receipt":` + entry + `,"sign":{"owner":"` +
		strings.Repeat("ef", 32) + `","sig":"` + strings.Repeat("01", 96) + `"}}`)
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, err := ParseFrame(frame); err != nil {
			b.Fatal(err)
		}
	}
}

// TestParseCanonical: on frames the distributor signs over generated entries of every stream, the
// quick reading agrees with the full one; frames outside its layout fall back to the full one.
func TestParseCanonical(t *testing.T) {
	hk, _ := protocol.ParseHashKey(DefaultHashKey)
	kp, _ := protocol.ParseKeyPair(DistributorPublicKey, DistributorSecretKey)
	signer := protocol.Signer{HashKey: hk, Keys: kp}
	g := logwriter.NewGenerator(7, time.Now)
	for i := 0; i < 300; i++ {
		st := logreader.Streams[i%3]
		data, err := signer.Frame(protocol.Kind(st), g.Append(nil, st), fmt.Sprintf("1.%d.%d.00000000000000aa", i+1, i*1500))
		if err != nil {
			t.Fatal(err)
		}
		view, ok := viewCanonical(data)
		quick := view.frame()
		full, err := parseAny(data)
		if !ok || err != nil || quick != full || !quick.HasWrittenAt {
			t.Fatalf("frame %d (%s): quick %+v (ok %v), full %+v (err %v)", i, st, quick, ok, full, err)
		}
	}
	for _, other := range []string{
		`{"cursor":"a\"b","receipt":{"writtenAt":1},"sign":{"owner":"ab","sig":"cd"}}`,      // escaped cursor
		`{"cursor":"c","receipt":{"seq":7,"writtenAt":1},"sign":{"owner":"ab","sig":"cd"}}`, // a seq
		`{"cursor":"c","receipt":{"z":{"writtenAt":1}},"sign":{"owner":"ab","sig":"cd"}}`,   // nested writtenAt
		`{"cursor":"c","receipt":{"writtenAt":1},"sign":{"owner":"ab","sig":"cd"},"x":1}`,   // more after sign
		`{"cursor":"c","receipt":{"writtenAt":1},"sign":{"owner":"AB","sig":"cd"}}`,         // not lower hex
		`{"cursor":"c", "receipt":{"writtenAt":1},"sign":{"owner":"ab","sig":"cd"}}`,        // a space
		`{"cursor":"c","receipts":{"writtenAt":1},"sign":{"owner":"ab","sig":"cd"}}`,        // unknown stream
		`{"cursor":"c","receipt":{"writtenAt":1.5},"sign":{"owner":"ab","sig":"cd"}}`,       // not an integer
	} {
		if f, ok := viewCanonical([]byte(other)); ok {
			t.Errorf("viewCanonical(%s) = %+v, want a fallback", other, f.frame())
		}
	}
}

// BenchmarkParseCanonical is ParseFrame on a frame the distributor signed over a generated receipt.
func BenchmarkParseCanonical(b *testing.B) {
	hk, _ := protocol.ParseHashKey(DefaultHashKey)
	kp, _ := protocol.ParseKeyPair(DistributorPublicKey, DistributorSecretKey)
	g := logwriter.NewGenerator(7, time.Now)
	frame, err := protocol.Signer{HashKey: hk, Keys: kp}.Frame(protocol.KindReceipt, g.Append(nil, logreader.Receipt), "3.1200.1228800.5f1d3c0a9b2e4d71")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if f, err := ParseFrame(frame); err != nil || !f.HasWrittenAt {
			b.Fatal(f, err)
		}
	}
}

// A subscriber checks a canonical frame without allocating (a thousand of them share the bench
// harness, whose collections made bursts of late frames): parse, owner, order by cursor, latency.
func TestClientFrameAllocatesNothing(t *testing.T) {
	hk, _ := protocol.ParseHashKey(DefaultHashKey)
	kp, _ := protocol.ParseKeyPair(DistributorPublicKey, DistributorSecretKey)
	signer := protocol.Signer{HashKey: hk, Keys: kp}
	g := logwriter.NewGenerator(7, time.Now)
	frames := make([][]byte, 102)
	for i := range frames {
		data, err := signer.Frame(protocol.KindReceipt, g.Append(nil, logreader.Receipt), fmt.Sprintf("1.%d.%d.00000000000000aa", i+1, (i+1)*1500))
		if err != nil {
			t.Fatal(err)
		}
		frames[i] = data
	}
	c := New(Options{Signer: protocol.Signer{HashKey: hk}, ExpectOwner: DistributorPublicKey, VerifyEvery: 1 << 30, MaxEntries: 1000,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	i := 0
	allocs := testing.AllocsPerRun(100, func() { // one warm-up run, then 100
		if !c.frame(frames[i], time.Now()) {
			t.Fatalf("frame %d rejected: %v", i, c.errs)
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations a frame, want none", allocs)
	}
	sc := c.Counters("receipt")
	if sc.Frames.Load() != 101 || sc.Gaps.Load()+sc.Duplicates.Load()+sc.OutOfOrder.Load() != 0 || c.LastCursors()["receipt"] != "1.101.151500.00000000000000aa" {
		t.Errorf("counters %d frames, %d gaps, %d dup, %d ooo, last cursor %q", sc.Frames.Load(), sc.Gaps.Load(), sc.Duplicates.Load(), sc.OutOfOrder.Load(), c.LastCursors()["receipt"])
	}
}
