package fanout

// recentFrames keeps the frames catch-up readers signed lately, by cursor, up to recentBytes of
// them, oldest out first. Clients that fell behind in the same burst read the same lines of the
// data log one after another: the first signs each line, the others take its frame. The zero
// value is ready to use; it is guarded by its hub's lock.
type recentFrames struct {
	byCursor map[string][]byte
	order    []string // cursors, oldest first, from head on
	head     int
	bytes    int
}

// recentBytes bounds a stream's recent frames: about 2,000 receipts.
const recentBytes = 4 << 20

func (r *recentFrames) get(cursor string) []byte { return r.byCursor[cursor] }

func (r *recentFrames) put(cursor string, data []byte) {
	if r.byCursor == nil {
		r.byCursor = make(map[string][]byte)
	}
	if _, ok := r.byCursor[cursor]; ok {
		return
	}
	r.byCursor[cursor] = data
	r.order = append(r.order, cursor)
	r.bytes += len(data)
	for r.bytes > recentBytes && r.head < len(r.order) {
		old := r.order[r.head]
		r.order[r.head] = ""
		r.head++
		r.bytes -= len(r.byCursor[old])
		delete(r.byCursor, old)
	}
	if r.head > 1024 && r.head*2 > len(r.order) {
		r.order = append(r.order[:0], r.order[r.head:]...)
		r.head = 0
	}
}
