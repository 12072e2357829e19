package logreader

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Options configure a Reader. Dir and Stream are required; the rest have useful zero values.
type Options struct {
	Dir    string // the data-log directory (config DATA_LOG_DIR)
	Stream Stream
	Start  Start // Live (zero value), Oldest or After(pos)
	// Poll is the fallback poll interval (config FILE_STREAM_INTERVAL_MS; default 100 ms).
	// fsnotify wakes the reader on every change; the poll only covers lost events and a
	// directory that is missing or replaced.
	Poll   time.Duration
	Logger *slog.Logger // nil: slog.Default()
	// OnProblem is called with a *Problem for every fault stepped over, on the goroutine
	// calling Next (or Open); it must not call Next or Close. May be nil.
	OnProblem func(error)
	// MaxFiles is the writer's maxLogFiles: file numbers wrap from MaxFiles to 1. Zero (the
	// default) learns it from the directory: the highest file number ever seen there.
	MaxFiles int
	// MaxLineBytes bounds one line (default 16 MiB); longer lines are reported and skipped.
	MaxLineBytes int
	// WaitForDir makes Open succeed when Dir does not exist yet: Next waits for it to appear
	// and then reads the stream from its first line. Without it Open fails.
	WaitForDir bool
}

// Entry is one complete data-log line.
type Entry struct {
	Stream Stream
	Pos    Position // where this line ends: resume with After(Pos) to read what follows
	Line   []byte   // the JSON line without its line end; owned by the caller
}

const (
	defaultPoll      = 100 * time.Millisecond
	defaultMaxLine   = 16 << 20
	bufSize          = 256 << 10
	pointerGraceTime = time.Second // a bad pointer is reported when it lasts this long
)

// Reader follows one stream of a data-log directory. Next and Close may be called from
// different goroutines; Next from one goroutine at a time.
type Reader struct {
	o    Options
	log  *slog.Logger
	done chan struct{}
	once sync.Once

	mu sync.Mutex // held by Next and Close: everything below

	posMu sync.Mutex
	pos   Position // last emitted (or the start position)

	sub      *watchSub // shared fsnotify watcher; nil: polling only
	watching bool
	timer    *time.Timer

	readEvery atomic.Int64 // SetReadEvery, in nanoseconds
	subPaused bool         // sub is paused: this reader reads in rounds
	woke      time.Time    // when a paced wait last ended
	// Test hook, nil in service: runs when a paced wait is about to wait for the round that
	// starts at round (already begun when the reader is behind). It may block.
	roundHook func(round time.Time)
	lastTick  time.Time // when a paced wait last ran onTick

	started   bool
	fromStart bool // Live found no stream files: read everything once they appear

	// The file being read. f stays open across renames: the writer renames files to old-
	// before reuse and the descriptor keeps reading the same bytes.
	f        *os.File
	cur      fileRef  // cur.fi is from fstat of f: the file's identity
	retry    *fileRef // set when opening a file failed: retried
	retryNow bool     // ... at once (it vanished between stat and open)

	buf        []byte
	start, end int   // buf[start:end] is read but not consumed
	scan       int   // buf[start:scan] holds no newline
	readOff    int64 // file offset of buf[end]
	lineNo     int64 // lines consumed from this file
	fp         uint64
	haveFP     bool
	ended      bool // End marker consumed
	afterEnd   bool // bytes after the End marker already reported
	discarding bool // inside an over-long line, dropping bytes until its newline

	held      []heldFile // files after the current one, held open (see held.go)
	sinceHold int        // bytes read since holdAhead last looked
	created   bool       // fsnotify: a file of this stream was created

	otherEvent bool // fsnotify: something other than the current file's data changed
	tick       bool // the poll fired, or events were lost: check everything

	lastPointer int
	dirFI       os.FileInfo // identity of the directory whose files are being read
	maxSeen     int         // highest file number seen: where numbers wrap, unless Options.MaxFiles
	pointerBad  time.Time
	dirMissing  bool
	reported    map[string]bool // once-only problems for the current file / state
}

// Open starts following o.Stream in o.Dir from o.Start.
//
// It fails when Dir is missing (unless WaitForDir) or unreadable, and, for After(pos), when
// pos is no longer on disk (the error wraps ErrPositionGone). It does not wait for the stream's
// files: a directory with no active-K-log.txt yet is followed from the first line written.
func Open(o Options) (*Reader, error) {
	if o.Dir == "" {
		return nil, errors.New("logreader: no data-log directory given (config DATA_LOG_DIR)")
	}
	if _, err := ParseStream(string(o.Stream)); err != nil {
		return nil, err
	}
	if o.Poll <= 0 {
		o.Poll = defaultPoll
	}
	if o.MaxFiles < 0 {
		o.MaxFiles = 0
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = defaultMaxLine
	}
	// One spelling per directory: the shared watcher routes events by path.
	if abs, err := filepath.Abs(o.Dir); err == nil {
		o.Dir = abs
	}
	o.Dir = filepath.Clean(o.Dir)
	r := &Reader{o: o, log: o.Logger, done: make(chan struct{}), reported: map[string]bool{}}
	if r.log == nil {
		r.log = slog.Default()
	}
	r.log = r.log.With("component", "logreader", "stream", string(o.Stream))

	fi, err := os.Stat(o.Dir)
	switch {
	case err == nil && !fi.IsDir():
		return nil, fmt.Errorf("logreader: data-log directory %q (DATA_LOG_DIR) is not a directory", o.Dir)
	case err != nil && errors.Is(err, fs.ErrNotExist) && o.WaitForDir:
		r.dirMissing = true
		r.fromStart = true
	case err != nil:
		return nil, fmt.Errorf("logreader: data-log directory %q (DATA_LOG_DIR): %w", o.Dir, err)
	}
	if !r.dirMissing {
		// An unreadable directory or pointer is a configuration error: say so now.
		if _, err := os.ReadDir(o.Dir); err != nil {
			return nil, fmt.Errorf("logreader: data-log directory %q (DATA_LOG_DIR): %w", o.Dir, err)
		}
		if _, _, err := readPointer(o.Dir, o.Stream); err != nil {
			return nil, fmt.Errorf("logreader: data-log directory %q (DATA_LOG_DIR): %w", o.Dir, err)
		}
	}

	r.sub, err = subscribe(o.Dir, o.Stream)
	if err != nil {
		r.sub = nil
		r.problem(&Problem{Kind: ProblemWatch, File: o.Dir, Detail: "fsnotify unavailable, polling every " + o.Poll.String() + ": " + err.Error()})
	} else {
		r.addWatch()
	}
	r.timer = time.NewTimer(time.Hour)
	r.timer.Stop()

	if !r.dirMissing {
		r.dirFI, _ = os.Stat(o.Dir)
		if err := r.resolveStart(); err != nil {
			r.Close()
			return nil, err
		}
	}
	return r, nil
}

func (r *Reader) addWatch() {
	if r.sub != nil && !r.watching {
		r.watching = r.sub.ensure()
	}
}

// Position returns the position of the last line Next returned, or the start position before
// the first. It may be called from any goroutine.
func (r *Reader) Position() Position {
	r.posMu.Lock()
	defer r.posMu.Unlock()
	return r.pos
}

func (r *Reader) setPos(p Position) {
	r.posMu.Lock()
	r.pos = p
	r.posMu.Unlock()
}

// Close stops the reader, releasing its file, watch and timer. Next returns ErrClosed after it.
func (r *Reader) Close() error {
	r.once.Do(func() { close(r.done) })
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sub != nil {
		r.sub.unsubscribe()
		r.sub = nil
	}
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
	r.dropHeld()
	if r.timer != nil {
		r.timer.Stop()
	}
	r.buf = nil
	return nil
}

func (r *Reader) closed() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// Next returns the next complete, valid JSON line, waiting for one as long as ctx allows.
// Faults in the data are reported (Options.OnProblem) and stepped over; Next returns an error
// only for ctx, Close, and a resume position found gone when the directory appeared late.
func (r *Reader) Next(ctx context.Context) (Entry, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		if r.closed() {
			return Entry{}, ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return Entry{}, err
		}
		switch {
		case !r.started:
			if !r.dirMissing {
				if err := r.resolveStart(); err != nil {
					return Entry{}, err
				}
				if r.started {
					continue
				}
			}
		case r.f == nil:
			if r.reopen() {
				continue
			}
		default:
			if e, ok := r.take(); ok {
				return e, nil
			}
			if r.fill() > 0 {
				continue
			}
			if r.atEOF() {
				continue
			}
		}
		if err := r.wait(ctx); err != nil {
			return Entry{}, err
		}
	}
}

// wait blocks until something relevant to this stream changes, the poll fires, or ctx ends.
func (r *Reader) wait(ctx context.Context) error {
	if every := time.Duration(r.readEvery.Load()); every > 0 {
		return r.waitPaced(ctx, every)
	}
	if r.subPaused {
		r.sub.pause(false)
		r.subPaused = false
		r.tick = true // events went unwatched: look at everything
		r.watching = r.sub.ensure()
		return nil
	}
	r.timer.Reset(r.o.Poll)
	defer r.timer.Stop()
	var wake <-chan struct{}
	if r.sub != nil {
		wake = r.sub.wake
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.done:
			return ErrClosed
		case <-r.timer.C:
			r.onTick()
			return nil
		case <-wake:
			if r.takeEvents() {
				return nil
			}
		}
	}
}

// takeEvents notes the subscription's pending events and reports whether any concerns this
// stream (lost events do: they make the next look check everything).
func (r *Reader) takeEvents() bool {
	evs, lost := r.sub.take()
	if lost {
		r.tick = true
	}
	relevant := lost
	for _, ev := range evs {
		relevant = r.note(ev) || relevant
	}
	return relevant
}

// note records an fsnotify event and says whether it concerns this stream.
func (r *Reader) note(ev fsnotify.Event) bool {
	if filepath.Clean(ev.Name) == r.o.Dir {
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			r.watching = false
			r.tick = true
			return true
		}
		return false
	}
	base := filepath.Base(ev.Name)
	if !r.o.Stream.owns(base) {
		return false
	}
	if r.f == nil || r.cur.old || base != r.o.Stream.FileName(r.cur.num) || !ev.Has(fsnotify.Write) {
		r.otherEvent = true
	}
	if ev.Has(fsnotify.Create) {
		r.created = true
	}
	return true
}

func (r *Reader) onTick() {
	r.tick = true
	_, err := os.Stat(r.o.Dir)
	if err != nil {
		r.watching = false
		if !r.dirMissing && errors.Is(err, fs.ErrNotExist) {
			r.problem(&Problem{Kind: ProblemDirMissing, File: r.o.Dir, Detail: "data-log directory (DATA_LOG_DIR) disappeared; waiting for it"})
		}
		r.dirMissing = errors.Is(err, fs.ErrNotExist)
		return
	}
	r.dirMissing = false
	if r.sub != nil {
		r.watching = r.sub.ensure()
	}
}

// ---- starting ----

// resolveStart positions the reader according to o.Start. It leaves r.started false when the
// stream has nothing on disk yet (or the pointer is mid-rewrite), to be retried on the next wake.
func (r *Reader) resolveStart() error {
	s, dir := r.o.Stream, r.o.Dir
	mode := r.o.Start.mode
	if r.fromStart && mode == modeLive {
		mode = modeOldest
	}
	if mode == modeAfter {
		return r.locate(r.o.Start.pos)
	}
	n, ok, err := readPointer(dir, s)
	if err != nil {
		r.problem(&Problem{Kind: ProblemPointer, File: s.pathPointer(dir), Detail: err.Error()})
		return nil
	}
	if !ok {
		if _, statErr := os.Stat(s.pathPointer(dir)); errors.Is(statErr, fs.ErrNotExist) {
			// Nothing written yet: everything that comes is new.
			r.fromStart = true
		}
		r.pointerTrouble()
		return nil
	}
	r.lastPointer, r.pointerBad = n, time.Time{}
	c := r.chain(n)
	if len(c) == 0 {
		r.fromStart = true
		return nil
	}
	if mode == modeOldest {
		if !r.open(c[0], 0, 0, 0, false) {
			return nil
		}
	} else {
		if !r.open(c[len(c)-1], 0, 0, 0, false) {
			return nil
		}
		r.skipToEnd()
	}
	r.started = true
	r.setPos(Position{File: r.cur.num, Line: r.lineNo, Offset: r.readOff - int64(r.end-r.start), FP: r.fpIfAny()})
	return nil
}

func (r *Reader) fpIfAny() uint64 {
	if r.lineNo == 0 {
		return 0
	}
	return r.fp
}

// skipToEnd consumes every complete line present now without emitting it (Live start).
func (r *Reader) skipToEnd() {
	for {
		if _, _, ok := r.consume(true); !ok && r.fill() == 0 {
			return
		}
	}
}

// locate finds p on disk (K-logN.txt or old-K-logN.txt with p's fingerprint) and opens it there.
func (r *Reader) locate(p Position) error {
	s, dir := r.o.Stream, r.o.Dir
	var why []string
	for _, old := range []bool{false, true} {
		path := s.path(dir, p.File, old)
		f, err := os.Open(path)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				why = append(why, err.Error())
			}
			continue
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			continue
		}
		ok, reason := matchPosition(f, fi, p)
		if !ok {
			f.Close()
			why = append(why, path+": "+reason)
			continue
		}
		r.adopt(f, fileRef{num: p.File, old: old, path: path, fi: fi}, p.Offset, p.Line, p.FP, p.Line > 0)
		r.started = true
		r.setPos(p)
		return nil
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) && r.o.WaitForDir {
		r.dirMissing = true
		return nil // not an answer yet: wait for the directory
	}
	detail := fmt.Sprintf("neither %s nor %s holds it", s.FileName(p.File), s.OldFileName(p.File))
	if len(why) > 0 {
		detail += " (" + joinShort(why) + ")"
	}
	return fmt.Errorf("logreader %s: resume from %s in %s: %w: %s", s, p, dir, ErrPositionGone, detail)
}

func joinShort(xs []string) string {
	var b bytes.Buffer
	for i, x := range xs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(x)
	}
	return b.String()
}

// matchPosition checks that f is the file generation p was taken in and that p ends a line.
func matchPosition(f *os.File, fi os.FileInfo, p Position) (bool, string) {
	if p.Line == 0 {
		if p.FP == 0 {
			return true, ""
		}
	}
	head := make([]byte, fingerprintLimit+2)
	n, _ := f.ReadAt(head, 0)
	head = head[:n]
	first := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		first = bytes.TrimSuffix(head[:i], []byte{'\r'})
	} else if len(head) <= fingerprintLimit {
		return false, "first line not complete"
	}
	if fingerprint(first) != p.FP {
		return false, "another generation (first-line fingerprint differs)"
	}
	if p.Offset > fi.Size() {
		return false, fmt.Sprintf("shorter (%d bytes) than the position", fi.Size())
	}
	if p.Offset > 0 {
		var b [1]byte
		if _, err := f.ReadAt(b[:], p.Offset-1); err != nil || b[0] != '\n' {
			return false, "position does not end a line"
		}
	}
	return true, ""
}

// ---- files ----

// open opens ref and positions the reader at off (line lineNo). When the file cannot be
// opened it returns false and leaves r.f nil with r.retry set: a file that vanished or was
// replaced between stat and open is looked for again at once, any other failure (permissions)
// is reported once and retried on the next poll or change in the directory.
func (r *Reader) open(ref fileRef, off, lineNo int64, fp uint64, haveFP bool) bool {
	f, err := os.Open(ref.path)
	if err == nil {
		fi, serr := f.Stat()
		if serr == nil && os.SameFile(fi, ref.fi) {
			ref.fi = fi
			r.adopt(f, ref, off, lineNo, fp, haveFP)
			return true
		}
		f.Close()
		err = fs.ErrNotExist // another file under that name now: look again
	}
	r.closeFile()
	r.retry = &ref
	if errors.Is(err, fs.ErrNotExist) {
		r.retryNow = true
	} else {
		r.problemOnce("open:"+ref.path, &Problem{Kind: ProblemOpen, File: ref.path, Detail: "cannot open, retrying: " + err.Error()})
	}
	return false
}

func (r *Reader) adopt(f *os.File, ref fileRef, off, lineNo int64, fp uint64, haveFP bool) {
	if r.f != f {
		r.closeFile()
		r.releaseHeld(f)
	}
	r.f, r.cur, r.retry, r.retryNow = f, ref, nil, false
	if r.buf == nil || len(r.buf) > bufSize {
		r.buf = make([]byte, bufSize)
	}
	r.start, r.end, r.scan = 0, 0, 0
	r.readOff, r.lineNo, r.fp, r.haveFP = off, lineNo, fp, haveFP
	r.ended, r.afterEnd, r.discarding = false, false, false
	clear(r.reported)
}

func (r *Reader) closeFile() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

// reopen retries a file that could not be opened: at once when it vanished (renamed to old-
// or deleted: follow finds it or what comes after it), else when the directory changed or the
// poll fired.
func (r *Reader) reopen() bool {
	if r.retry == nil || !(r.retryNow || r.tick || r.otherEvent) {
		return false
	}
	ref := *r.retry
	vanished := r.retryNow
	r.retryNow, r.tick, r.otherEvent = false, false, false
	if vanished {
		return r.follow(&ref)
	}
	return r.open(ref, 0, 0, 0, false)
}

// ---- reading ----

// fill reads more of the current file into the buffer and returns how many bytes it read.
func (r *Reader) fill() int {
	if r.f == nil {
		return 0
	}
	if r.discarding && r.start == r.end {
		r.start, r.end, r.scan = 0, 0, 0
	}
	if r.start > 0 && (r.end == len(r.buf) || r.start >= len(r.buf)/2) {
		n := copy(r.buf, r.buf[r.start:r.end])
		r.scan -= r.start
		r.start, r.end = 0, n
	}
	if r.end-r.start < bufSize/2 && len(r.buf) > bufSize && r.start == 0 {
		small := make([]byte, bufSize)
		r.end = copy(small, r.buf[:r.end])
		r.buf = small
	}
	if r.end == len(r.buf) { // a line longer than the buffer
		if len(r.buf) > r.o.MaxLineBytes {
			if r.lineNo == 0 && !r.haveFP {
				r.fp, r.haveFP = fingerprint(r.buf[r.start:r.end]), true
			}
			r.discarding = true
			r.problem(&Problem{Kind: ProblemLineTooLong, File: r.cur.path, Line: r.lineNo + 1,
				Detail: fmt.Sprintf("line longer than %d bytes, skipped", r.o.MaxLineBytes), Sample: sample(r.buf[r.start:r.end])})
			r.start, r.end, r.scan = 0, 0, 0
		} else {
			grown := make([]byte, min(2*len(r.buf), r.o.MaxLineBytes+1))
			r.end = copy(grown, r.buf[r.start:r.end])
			r.scan -= r.start
			r.start = 0
			r.buf = grown
		}
	}
	if r.created || r.sinceHold >= holdEvery {
		r.holdAhead()
	}
	n, err := r.f.ReadAt(r.buf[r.end:], r.readOff)
	r.end += n
	r.readOff += int64(n)
	r.sinceHold += n
	if err != nil && err != io.EOF {
		r.problemOnce("read:"+r.cur.path, &Problem{Kind: ProblemRead, File: r.cur.path, Detail: err.Error()})
	}
	return n
}

// take returns the next line to emit from the buffer, if there is one.
func (r *Reader) take() (Entry, bool) {
	for {
		e, emit, ok := r.consume(false)
		if !ok {
			return Entry{}, false
		}
		if emit {
			return e, true
		}
	}
}

// consume takes one complete line off the buffer; ok is false when there is none. emit says
// the line is a valid entry (returned in e unless silent, which Live uses to skip history).
func (r *Reader) consume(silent bool) (e Entry, emit, ok bool) {
	i := bytes.IndexByte(r.buf[r.scan:r.end], '\n')
	if i < 0 {
		r.scan = r.end
		if r.discarding {
			r.start, r.end, r.scan = 0, 0, 0
		}
		return Entry{}, false, false
	}
	nl := r.scan + i
	line := r.buf[r.start:nl]
	r.start, r.scan = nl+1, nl+1
	lineEnd := r.readOff - int64(r.end-r.start)
	r.lineNo++
	if r.discarding {
		r.discarding = false
		return Entry{}, false, true
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if r.lineNo == 1 && !r.haveFP {
		r.fp, r.haveFP = fingerprint(line), true
	}
	if r.ended {
		if !silent && !r.afterEnd && !bytes.HasPrefix(line, []byte(EndMarkerPrefix)) {
			r.afterEnd = true
			r.problem(&Problem{Kind: ProblemAfterEnd, File: r.cur.path, Line: r.lineNo,
				Detail: "data after the End marker, ignored (the writer never appends after it)", Sample: sample(line)})
		}
		return Entry{}, false, true
	}
	if bytes.HasPrefix(line, []byte(EndMarkerPrefix)) {
		r.ended = true
		want := r.lineNo - 1
		got, err := strconv.ParseInt(string(bytes.TrimSpace(line[len(EndMarkerPrefix):])), 10, 64)
		if !silent && (err != nil || got != want) {
			r.problem(&Problem{Kind: ProblemCountMismatch, File: r.cur.path, Line: r.lineNo,
				Detail: fmt.Sprintf("End marker counts %s entries, the file has %d lines before it", bytes.TrimSpace(line[len(EndMarkerPrefix):]), want)})
		}
		return Entry{}, false, true
	}
	if silent {
		return Entry{}, false, true
	}
	if !validJSON(line) {
		r.problem(&Problem{Kind: ProblemInvalidJSON, File: r.cur.path, Line: r.lineNo, Detail: "not valid JSON, skipped", Sample: sample(line)})
		return Entry{}, false, true
	}
	pos := Position{File: r.cur.num, Line: r.lineNo, Offset: lineEnd, FP: r.fp}
	r.setPos(pos)
	return Entry{Stream: r.o.Stream, Pos: pos, Line: bytes.Clone(line)}, true, true
}

// atEOF runs when the current file has nothing more to read. It notices truncation, rotation
// (the End marker read and the next file on disk), files replaced or deleted under the reader
// and a writer that moved on without an End marker. It returns true when the reader moved.
func (r *Reader) atEOF() bool {
	if fi, err := r.f.Stat(); err == nil && fi.Size() < r.readOff {
		r.problem(&Problem{Kind: ProblemTruncated, File: r.cur.path, Line: r.lineNo,
			Detail: fmt.Sprintf("file shrank from %d to %d bytes under the reader; reading it again from its start", r.readOff, fi.Size())})
		r.adopt(r.f, r.cur, 0, 0, 0, false)
		return true
	}
	if !r.ended && !r.otherEvent && !r.tick {
		return false
	}
	r.otherEvent, r.tick = false, false
	return r.follow(&r.cur)
}

// follow looks at what is on disk and moves to the file after cur (nil: after a failed open,
// to the oldest file). It returns true when the reader moved or has more to read.
func (r *Reader) follow(cur *fileRef) bool {
	s, dir := r.o.Stream, r.o.Dir
	n, ok, _ := readPointer(dir, s)
	if ok {
		r.lastPointer, r.pointerBad = n, time.Time{}
	} else {
		r.pointerTrouble()
		n = r.lastPointer
		if n == 0 {
			return false
		}
	}
	c := r.chain(n)
	if len(c) == 0 {
		return false
	}
	idx := -1
	if cur != nil {
		idx = indexOf(c, cur.fi)
	}
	if r.f == nil && idx >= 0 { // cur was never opened: it is still there, under another name
		return r.open(c[idx], 0, 0, 0, false)
	}
	switch {
	case cur != nil && idx == len(c)-1:
		return false // the newest file: wait for more lines (or for the next file to appear)
	case cur != nil && idx >= 0:
		if !r.ended && r.f != nil {
			if r.fill() > 0 { // the End marker may have landed since the last read
				return true
			}
			r.problem(&Problem{Kind: ProblemNoEndMarker, File: cur.path, Line: r.lineNo,
				Detail: fmt.Sprintf("the writer moved on to %s without an End marker", c[idx+1].path)})
		}
		if h, ok := r.takeHeld(); ok && os.SameFile(h.ref.fi, c[idx+1].fi) {
			return r.adoptHeld(h)
		}
		return r.open(c[idx+1], 0, 0, 0, false)
	}
	// cur is no longer on disk (or unknown).
	if cur != nil && !r.ended && r.f != nil {
		if r.fill() > 0 { // drain what the descriptor still holds
			return true
		}
	}
	if h, ok := r.takeHeld(); ok && cur != nil && r.ended && r.f != nil {
		return r.adoptHeld(h) // deleted from disk, but held open: nothing is lost
	}
	target := c[0]
	switch {
	case cur == nil:
	case r.dirReplaced():
		r.problem(&Problem{Kind: ProblemReplaced, File: r.o.Dir,
			Detail: fmt.Sprintf("data-log directory replaced; reading the new one from %s", target.path)})
	case r.ended && r.f != nil:
		if target.num != nextNum(cur.num, r.maxFiles()) {
			r.problem(&Problem{Kind: ProblemGap, File: cur.path,
				Detail: fmt.Sprintf("files after this one were deleted before they were read (writer lapped the reader); continuing at %s", target.path)})
		}
	case r.f == nil:
		// Never opened, and gone before it could be: the oldest file on disk comes next.
		r.problem(&Problem{Kind: ProblemGap, File: cur.path,
			Detail: fmt.Sprintf("file deleted before it could be read; continuing at %s", target.path)})
		return r.open(target, 0, 0, 0, false)
	default:
		for _, ref := range c {
			if ref.num == cur.num {
				target = ref
			}
		}
		r.problem(&Problem{Kind: ProblemReplaced, File: cur.path, Line: r.lineNo,
			Detail: fmt.Sprintf("file replaced or deleted under the reader; continuing at the start of %s", target.path)})
	}
	return r.open(target, 0, 0, 0, false)
}

func nextNum(n, maxFiles int) int {
	if n >= maxFiles {
		return 1
	}
	return n + 1
}

// pointerTrouble notes an unusable pointer; it is reported only when it lasts: this reader has
// found it unusable for pointerGraceTime, and it has not been written meanwhile. The writer
// rewrites the pointer by truncating it and then writing it, so a reader can find it empty at
// any rotation; two such finds a second apart are not a pointer stuck for a second.
func (r *Reader) pointerTrouble() {
	now := time.Now()
	if r.pointerBad.IsZero() {
		r.pointerBad = now
		return
	}
	if now.Sub(r.pointerBad) < pointerGraceTime {
		return
	}
	path := r.o.Stream.pathPointer(r.o.Dir)
	if fi, err := os.Stat(path); err == nil && now.Sub(fi.ModTime()) < pointerGraceTime {
		return
	}
	r.problemOnce("pointer", &Problem{Kind: ProblemPointer, File: path,
		Detail: "active-log pointer missing, empty or not naming a " + string(r.o.Stream) + " log file for over " + pointerGraceTime.String()})
}

func (r *Reader) problemOnce(key string, p *Problem) {
	if r.reported[key] {
		return
	}
	r.reported[key] = true
	r.problem(p)
}

func (r *Reader) problem(p *Problem) {
	p.Stream = r.o.Stream
	attrs := []any{"kind", string(p.Kind), "detail", p.Detail}
	if p.File != "" {
		attrs = append(attrs, "file", p.File)
	}
	if p.Line > 0 {
		attrs = append(attrs, "line", p.Line)
	}
	if p.Sample != "" {
		attrs = append(attrs, "sample", p.Sample)
	}
	r.log.Warn("data-log problem", attrs...)
	if r.o.OnProblem != nil {
		r.o.OnProblem(p)
	}
}

// chain lists the stream's files (see chain), learning where numbers wrap.
func (r *Reader) chain(active int) []fileRef {
	c := chain(r.o.Dir, r.o.Stream, active, r.o.MaxFiles, r.maxSeen)
	for _, f := range c {
		r.maxSeen = max(r.maxSeen, f.num)
	}
	return c
}

// maxFiles is the wrap point for messages: configured, else learned.
func (r *Reader) maxFiles() int {
	if r.o.MaxFiles > 0 {
		return r.o.MaxFiles
	}
	return r.maxSeen
}

// dirReplaced reports (once per change) whether the directory is another one than before.
func (r *Reader) dirReplaced() bool {
	fi, err := os.Stat(r.o.Dir)
	if err != nil {
		return false
	}
	if r.dirFI == nil || os.SameFile(fi, r.dirFI) {
		r.dirFI = fi
		return false
	}
	r.dirFI = fi
	return true
}
