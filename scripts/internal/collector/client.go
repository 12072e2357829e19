package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/coder/websocket"

	"github.com/shardeum/distributor/logreader"
	"github.com/shardeum/distributor/protocol"
)

// Options configure one subscriber.
type Options struct {
	Addr   string          // host:port or ws://host:port of the distributor
	Signer protocol.Signer // the collector's key pair; its HashKey also verifies frames
	// ExpectOwner is the distributor public key frames must be signed by; "" accepts any owner
	// whose signature verifies.
	ExpectOwner string
	Cursor      map[string]string // resume position per stream; nil = live
	// VerifyEvery verifies the signature of every Nth frame of each stream (the first included);
	// 0 or 1 verifies all. The owner and the structure are checked on every frame.
	VerifyEvery int
	// MaxFiles is the writers' maxLogFiles (file numbers wrap after it; 0 = 10, the default) and
	// MaxEntries their entries per file (0 = unknown): with them, frames without a seq are checked
	// across rotations too (the next file's number, and the previous file ended at MaxEntries).
	MaxFiles   int
	MaxEntries int
	// ExpectStream/ExpectFrames end the subscription normally once ExpectFrames valid frames of
	// ExpectStream arrived (0 = never).
	ExpectStream string
	ExpectFrames int64
	HTTPClient   *http.Client // nil = http.DefaultClient
	ReadLimit    int64        // largest frame accepted; 0 = 64 MiB
	Logger       *slog.Logger
	// OnConnect, when set, is called once the upgrade succeeded, before the first read.
	OnConnect func()
	// MaxRate, when > 0, is the most frames per second the client reads, as a collector whose
	// processing takes 1/MaxRate per frame: after each message, if it is ahead of the schedule
	// first message + n/MaxRate, it waits until then before reading the next.
	MaxRate int
	// StallFor, when > 0, makes the client read nothing for this long after connecting (a stuck
	// collector), then read as usual until the connection ends (or ExpectFrames arrived).
	StallFor time.Duration
}

// End says why a subscription ended.
type End string

const (
	EndExpected  End = "expected"  // received ExpectFrames
	EndCancelled End = "cancelled" // the caller's context ended it (duration, signal)
	EndClosed    End = "closed"    // the server closed the connection
	EndDialError End = "dial"      // the upgrade failed
	EndError     End = "error"     // the connection failed without a close frame
)

// Result is the outcome of one subscription.
type Result struct {
	End         End
	CloseCode   int // the server's close code; -1 if none was received
	CloseReason string
	Err         error
	DialStart   time.Time
	Connected   time.Time // upgrade completed; zero if it did not
	FirstFrame  time.Time // first valid frame received; zero if none
	StallEnded  time.Time // with StallFor: when the client started reading; zero if it never did
	Ended       time.Time // when Run returned
}

// Abnormal reports a subscription that ended in a way a test run should fail on: a failed dial,
// a broken connection, or a server close with a code other than 1000/1001.
func (r Result) Abnormal() bool {
	switch r.End {
	case EndExpected, EndCancelled:
		return false
	case EndClosed:
		return r.CloseCode != int(websocket.StatusNormalClosure) && r.CloseCode != int(websocket.StatusGoingAway)
	}
	return true
}

// StreamCounters are the live counts of one stream, safe to read while the client runs.
type StreamCounters struct {
	Frames     atomic.Int64 // valid frames
	Bytes      atomic.Int64 // bytes of valid frames
	Invalid    atomic.Int64
	Verified   atomic.Int64 // signatures checked
	Gaps       atomic.Int64 // jumps forward in seq
	Duplicates atomic.Int64
	OutOfOrder atomic.Int64
}

// streamState is the reader goroutine's own per-stream state.
type streamState struct {
	seq          seqTracker
	lastCursor   []byte // of the last frame (a buffer reused frame after frame)
	latency      Histogram
	minWrittenAt int64 // µs; 0 = none yet
	lastReceive  time.Time
	noSeq        int64 // valid frames without a seq (order checked by cursor continuity)
	lastPos      logreader.Position
	missing      int64 // lines known to be skipped (cursor checks)
}

// Client is one subscriber. Create with New, call Run once; read Counters at any time and the
// rest after Run returns.
type Client struct {
	o        Options
	counters map[string]*StreamCounters
	unknown  StreamCounters // invalid frames whose stream could not be told
	state    map[string]*streamState
	mu       sync.Mutex
	errs     []string // first few problems, for the summary
}

const maxErrs = 5

// New returns a client for o.
func New(o Options) *Client {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ReadLimit == 0 {
		o.ReadLimit = 64 << 20
	}
	if o.VerifyEvery < 1 {
		o.VerifyEvery = 1
	}
	if o.MaxFiles < 1 {
		o.MaxFiles = logreader.DefaultMaxFiles
	}
	c := &Client{o: o, counters: map[string]*StreamCounters{}, state: map[string]*streamState{}}
	for _, s := range Streams {
		c.counters[s] = &StreamCounters{}
		c.state[s] = &streamState{}
	}
	return c
}

// Key is the client's public key.
func (c *Client) Key() string { return c.o.Signer.Keys.PublicHex }

// UnknownInvalid counts invalid messages whose stream could not be told (binary, not JSON, …).
func (c *Client) UnknownInvalid() int64 { return c.unknown.Invalid.Load() }

// Counters returns the live counters of stream ("cycle", "receipt", "originalTx"); nil for others.
func (c *Client) Counters(stream string) *StreamCounters { return c.counters[stream] }

// Run subscribes and reads frames until the server closes, the connection fails, ctx ends, or
// ExpectFrames arrived. Only one Run per Client.
func (c *Client) Run(ctx context.Context) Result {
	r := c.run(ctx)
	r.Ended = time.Now()
	return r
}

func (c *Client) run(ctx context.Context) Result {
	r := Result{CloseCode: -1, DialStart: time.Now()}
	hs, err := Handshake(c.o.Signer, r.DialStart, c.o.Cursor)
	if err != nil {
		r.End, r.Err = EndDialError, err
		return r
	}
	conn, err := Dial(ctx, c.o.Addr, hs, c.o.HTTPClient)
	if err != nil {
		r.End, r.Err = EndDialError, err
		if ctx.Err() != nil {
			r.End = EndCancelled
		}
		return r
	}
	r.Connected = time.Now()
	conn.SetReadLimit(c.o.ReadLimit)
	defer conn.CloseNow()
	if c.o.OnConnect != nil {
		c.o.OnConnect()
	}

	// Ending by ctx (duration, signal) closes with a close frame, as a collector shutting down
	// does, rather than cutting the TCP connection.
	stop := context.AfterFunc(ctx, func() { conn.Close(websocket.StatusNormalClosure, "fake collector stopping") })
	defer stop()
	if c.o.StallFor > 0 {
		if !wait(ctx, time.Now().Add(c.o.StallFor)) {
			// Close here, not only in the AfterFunc: the deferred CloseNow must not cut the
			// connection before the close frame is out.
			conn.Close(websocket.StatusNormalClosure, "fake collector stopping")
			r.End = EndCancelled
			return r
		}
		r.StallEnded = time.Now()
	}
	var buf bytes.Buffer
	expect := c.counters[c.o.ExpectStream]
	var paceStart time.Time // first message, for MaxRate
	var read int64          // messages read since paceStart
	for {
		typ, rd, err := conn.Reader(context.Background())
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(rd)
		}
		if err != nil {
			c.ended(ctx, &r, err)
			return r
		}
		now := time.Now()
		if c.o.MaxRate > 0 {
			if read == 0 {
				paceStart = now
			}
			read++
		}
		if typ != websocket.MessageText {
			c.invalidf(&c.unknown, "binary message")
			continue
		}
		if c.frame(buf.Bytes(), now) && r.FirstFrame.IsZero() {
			r.FirstFrame = now
		}
		if expect != nil && c.o.ExpectFrames > 0 && expect.Frames.Load() >= c.o.ExpectFrames {
			r.End = EndExpected
			conn.Close(websocket.StatusNormalClosure, "received what was expected")
			return r
		}
		if c.o.MaxRate > 0 {
			// The client's own pace, not synchronisation: it is busy with each frame for 1/MaxRate.
			next := paceStart.Add(time.Duration(read) * time.Second / time.Duration(c.o.MaxRate))
			if time.Now().Before(next) && !wait(ctx, next) {
				// ctx ended: the AfterFunc is closing the connection; the next read reports it.
				continue
			}
		}
	}
}

// wait returns true at t, or false as soon as ctx ends.
func wait(ctx context.Context, t time.Time) bool {
	tm := time.NewTimer(time.Until(t))
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (c *Client) ended(ctx context.Context, r *Result, err error) {
	r.Err = err
	var ce websocket.CloseError
	switch {
	case ctx.Err() != nil: // we closed it
		r.End, r.Err = EndCancelled, nil
	case errors.As(err, &ce):
		r.End, r.CloseCode, r.CloseReason = EndClosed, int(ce.Code), ce.Reason
	case errors.Is(err, io.ErrUnexpectedEOF):
		r.End = EndError
		r.Err = fmt.Errorf("connection cut in the middle of a frame, without a close frame: %w", err)
	case errors.Is(err, io.EOF):
		r.End = EndError
		r.Err = fmt.Errorf("connection closed without a close frame: %w", err)
	default:
		r.End = EndError
	}
}

// frame checks and counts one text message; it reports whether the frame was valid.
func (c *Client) frame(data []byte, now time.Time) bool {
	fv, err := viewFrame(data)
	f := fv.Frame
	if err != nil {
		c.invalidf(c.streamOr(f.Stream), "malformed frame (%d bytes, starting %q, ending %q): %v",
			len(data), data[:min(len(data), 80)], data[max(0, len(data)-40):], err)
		return false
	}
	sc, st := c.counters[f.Stream], c.state[f.Stream]
	if c.o.ExpectOwner != "" && string(fv.owner) != c.o.ExpectOwner {
		c.invalidf(sc, "%s frame signed by %s, want %s", f.Stream, fv.owner, c.o.ExpectOwner)
		return false
	}
	if (sc.Frames.Load()+sc.Invalid.Load())%int64(c.o.VerifyEvery) == 0 {
		sc.Verified.Add(1)
		if err := protocol.VerifyJSON(c.o.Signer.HashKey, data); err != nil {
			c.invalidf(sc, "%s frame (cursor %q): bad signature: %v", f.Stream, fv.cursor, err)
			return false
		}
	}
	sc.Frames.Add(1)
	sc.Bytes.Add(int64(len(data)))
	if f.HasWrittenAt {
		st.latency.Record(now.UnixMicro() - f.WrittenAtUS)
		if st.minWrittenAt == 0 || f.WrittenAtUS < st.minWrittenAt {
			st.minWrittenAt = f.WrittenAtUS
		}
	}
	st.lastReceive = now
	if f.HasSeq {
		switch v, skipped := st.seq.add(f.Seq); v {
		case seqGap:
			sc.Gaps.Add(1)
			c.notef("%s gap: seq %d after %d (%d missing), cursor %q after %q",
				f.Stream, f.Seq, f.Seq-skipped-1, skipped, fv.cursor, st.lastCursor)
		case seqDuplicate:
			sc.Duplicates.Add(1)
			c.notef("%s duplicate: seq %d, cursor %q", f.Stream, f.Seq, fv.cursor)
		case seqLate:
			sc.OutOfOrder.Add(1)
			c.notef("%s out of order: seq %d after newest %d", f.Stream, f.Seq, st.seq.max)
		}
	} else {
		st.noSeq++
		c.cursorOrder(fv, sc, st)
	}
	if len(fv.cursor) > 0 {
		st.lastCursor = append(st.lastCursor[:0], fv.cursor...)
	}
	return true
}

// cursorOrder checks frames without a seq by their cursors (logreader positions): within one file
// (same number and fingerprint) lines must follow one another; a new file must start at line 1,
// be the next number (wrapping after MaxFiles), and, when MaxEntries is known, follow a file whose
// last line we received was line MaxEntries. A malformed line the distributor skipped also shows
// as a one-line jump: on real data a gap here is a lead to check, on generated data a loss.
func (c *Client) cursorOrder(f frameView, sc *StreamCounters, st *streamState) {
	// A view of the cursor's bytes, not a copy: ParsePosition keeps nothing of it but in the
	// error, which is dropped here.
	pos, err := logreader.ParsePosition(unsafe.String(unsafe.SliceData(f.cursor), len(f.cursor)))
	if err != nil || pos.IsZero() {
		if len(f.cursor) > 0 && bytes.Equal(f.cursor, st.lastCursor) {
			sc.Duplicates.Add(1)
			c.notef("%s duplicate: cursor %q repeated", f.Stream, f.cursor)
		}
		return
	}
	last := st.lastPos
	if last.IsZero() {
		st.lastPos = pos
		return
	}
	gap := func(missing int64, format string, args ...any) {
		sc.Gaps.Add(1)
		st.missing += missing
		c.notef("%s gap: cursor %s after %s: %s", f.Stream, f.cursor, last, lazy{format, args})
	}
	sameFile := pos.File == last.File && pos.FP == last.FP
	switch {
	case sameFile && pos.Line == last.Line:
		sc.Duplicates.Add(1)
		c.notef("%s duplicate: cursor %s repeated", f.Stream, f.cursor)
		return // keep lastPos
	case sameFile && pos.Line < last.Line:
		sc.OutOfOrder.Add(1)
		c.notef("%s out of order: cursor %s after %s", f.Stream, f.cursor, last)
		return
	case sameFile && pos.Line > last.Line+1:
		gap(pos.Line-last.Line-1, "lines %d..%d not received", last.Line+1, pos.Line-1)
	case !sameFile:
		if next := last.File%c.o.MaxFiles + 1; pos.File != next {
			// Whole files were skipped: at least those between, more if the writer wrapped.
			files := int64((pos.File - next + c.o.MaxFiles) % c.o.MaxFiles)
			missing := files*int64(c.o.MaxEntries) + max(int64(c.o.MaxEntries)-last.Line, 0)
			gap(missing, "file %d follows file %d, want %d (maxFiles %d): at least %d files skipped", pos.File, last.File, next, c.o.MaxFiles, files)
		} else if c.o.MaxEntries > 0 && last.Line < int64(c.o.MaxEntries) {
			gap(int64(c.o.MaxEntries)-last.Line, "file %d ended at line %d, want %d", last.File, last.Line, c.o.MaxEntries)
		}
		if pos.Line != 1 {
			gap(pos.Line-1, "a new file starts at line %d, want 1", pos.Line)
		}
	}
	st.lastPos = pos
}

func (c *Client) streamOr(stream string) *StreamCounters {
	if sc := c.counters[stream]; sc != nil {
		return sc
	}
	return &c.unknown
}

func (c *Client) invalidf(sc *StreamCounters, format string, args ...any) {
	sc.Invalid.Add(1)
	c.notef(format, args...)
}

// notef records a problem for the summary and logs it, for the first few only: a broken stream
// can produce one per frame, and formatting each would cost more than receiving it.
func (c *Client) notef(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.errs) < maxErrs {
		msg := fmt.Sprintf(format, args...)
		c.errs = append(c.errs, msg)
		c.o.Logger.Warn("fake collector: "+msg, "client", c.Key())
	}
}

// lazy formats only when printed.
type lazy struct {
	format string
	args   []any
}

func (l lazy) String() string { return fmt.Sprintf(l.format, l.args...) }

// LastCursors returns the cursor of the last valid frame of each stream that had one; read it
// after Run returns.
func (c *Client) LastCursors() map[string]string {
	m := map[string]string{}
	for s, st := range c.state {
		if len(st.lastCursor) > 0 {
			m[s] = string(st.lastCursor)
		}
	}
	return m
}
