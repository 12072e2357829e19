package fanout

// lagHistory keeps, while clients lag behind a stream, the frames the hub published for them, by
// the hub's line number: a client that fell behind in a burst takes the very frames the others
// were sent (shared, not copied), without reading the data log or signing again. It holds
// consecutive lines, from the slowest lagging client's next line on, up to historyBytes of
// frames; lines past that come from the data log. The zero value is empty; the hub's lock
// guards it.
type lagHistory struct {
	first  int64    // hub line number of frames[head]
	frames []*frame // a skipped line is a frame without data
	head   int
	bytes  int
	full   bool // a line was left out for want of room: later ones would not follow on
}

// historyBytes bounds a stream's history (about 8,000 receipts).
const historyBytes = 16 << 20

func (h *lagHistory) len() int { return len(h.frames) - h.head }

// add records line number n (the hub's next line) unless the history is full.
// Once full it adds nothing more until the lagging clients have taken everything it holds:
// the lines it keeps must follow one another.
func (h *lagHistory) add(n int64, f *frame) {
	if h.full {
		if h.len() > 0 {
			return
		}
		h.full = false
	}
	if h.len() > 0 && n != h.first+int64(h.len()) {
		h.reset() // not the next line: start again from this one
	}
	if h.bytes+len(f.data) > historyBytes {
		h.full = true
		return
	}
	if h.len() == 0 {
		h.first = n
	}
	h.frames = append(h.frames, f)
	h.bytes += len(f.data)
}

// get returns line number n's frame, if the history has it.
func (h *lagHistory) get(n int64) (*frame, bool) {
	if n < h.first || n >= h.first+int64(h.len()) {
		return nil, false
	}
	return h.frames[h.head+int(n-h.first)], true
}

// trim drops the lines up to n (every lagging client is past them); room is made for more.
func (h *lagHistory) trim(n int64) {
	for h.len() > 0 && h.first <= n {
		h.bytes -= len(h.frames[h.head].data)
		h.frames[h.head] = nil
		h.head++
		h.first++
	}
	if h.len() == 0 {
		h.frames, h.head = h.frames[:0], 0
	} else if h.head > 1024 && h.head*2 > len(h.frames) {
		h.frames = append(h.frames[:0], h.frames[h.head:]...)
		h.head = 0
	}
}

// reset empties the history.
func (h *lagHistory) reset() {
	clear(h.frames)
	*h = lagHistory{frames: h.frames[:0]}
}
