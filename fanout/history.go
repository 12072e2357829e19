package fanout

// lagHistory keeps, while clients lag behind a stream, the newest frames the hub published, by the
// hub's line number: a client that fell behind in a burst takes the very frames the others were
// sent (shared, not copied), without reading the data log or signing again. It holds consecutive
// lines, at most historyBytes of frames. When a line does not fit, the oldest lines go: the
// history serves the lagging clients nearest the live end, which rejoin soonest and whose delay is
// the burst's latency; a client further behind reads the data log until it reaches the history
// (a stalled client would otherwise hold the history at its position, useful to no one). Lines
// every lagging client is past are dropped too (trim). The zero value is empty; the hub's lock
// guards it.
type lagHistory struct {
	first  int64    // hub line number of frames[head]
	frames []*frame // a skipped line is a frame without data
	head   int
	bytes  int
}

// historyBytes bounds a stream's history (about 9,000 receipts).
const historyBytes = 16 << 20

func (h *lagHistory) len() int { return len(h.frames) - h.head }

// add records line number n, the hub's next line, dropping the oldest lines to make room.
func (h *lagHistory) add(n int64, f *frame) {
	if h.len() > 0 && n != h.first+int64(h.len()) {
		h.reset() // not the next line: start again from this one
	}
	for h.len() > 0 && h.bytes+len(f.data) > historyBytes {
		h.dropFirst()
	}
	if len(f.data) > historyBytes {
		return // a line larger than the whole history: the next one starts it again
	}
	if h.len() == 0 {
		h.first = n
	}
	h.frames = append(h.frames, f)
	h.bytes += len(f.data)
	h.compact()
}

// get returns line number n's frame, if the history has it.
func (h *lagHistory) get(n int64) (*frame, bool) {
	if n < h.first || n >= h.first+int64(h.len()) {
		return nil, false
	}
	return h.frames[h.head+int(n-h.first)], true
}

// trim drops the lines up to n (every lagging client is past them).
func (h *lagHistory) trim(n int64) {
	for h.len() > 0 && h.first <= n {
		h.dropFirst()
	}
	h.compact()
}

func (h *lagHistory) dropFirst() {
	h.bytes -= len(h.frames[h.head].data)
	h.frames[h.head] = nil
	h.head++
	h.first++
}

// compact moves the lines kept to the front of frames once most of it is spent.
func (h *lagHistory) compact() {
	if h.len() == 0 {
		h.frames, h.head = h.frames[:0], 0
	} else if h.head > 1024 && h.head*2 > len(h.frames) {
		n := copy(h.frames, h.frames[h.head:])
		clear(h.frames[n:])
		h.frames, h.head = h.frames[:n], 0
	}
}

// reset empties the history.
func (h *lagHistory) reset() {
	clear(h.frames)
	*h = lagHistory{frames: h.frames[:0]}
}
