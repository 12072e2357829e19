package collector

// seqTracker checks one stream's sequence numbers: it remembers which it has seen (a bitset from
// the first one received), so it can tell a gap (a jump forward), a duplicate (seen before) and an
// out-of-order frame (older than the newest, not seen before: it fills an earlier gap).
type seqTracker struct {
	started  bool
	base     int64 // first seq received; the bitset starts here
	max      int64
	seen     []uint64
	distinct int64
}

type seqVerdict int

const (
	seqNext      seqVerdict = iota // the one after the newest (or the first)
	seqGap                         // skipped some: gap frames missing (so far)
	seqDuplicate                   // received before
	seqLate                        // older than the newest but new: out of order
)

func (t *seqTracker) add(seq int64) (v seqVerdict, skipped int64) {
	if !t.started {
		t.started, t.base, t.max = true, seq, seq
		t.mark(seq)
		return seqNext, 0
	}
	if seq < t.base {
		// Before the first frame we saw: out of order; the bitset cannot hold it.
		return seqLate, 0
	}
	if seq <= t.max {
		if t.isSeen(seq) {
			return seqDuplicate, 0
		}
		t.mark(seq)
		return seqLate, 0
	}
	skipped = seq - t.max - 1
	t.max = seq
	t.mark(seq)
	if skipped > 0 {
		return seqGap, skipped
	}
	return seqNext, 0
}

// missing is how many sequence numbers between the first and the newest were never received.
func (t *seqTracker) missing() int64 {
	if !t.started {
		return 0
	}
	return t.max - t.base + 1 - t.distinct
}

func (t *seqTracker) mark(seq int64) {
	off := seq - t.base
	w := int(off / 64)
	for w >= len(t.seen) {
		t.seen = append(t.seen, 0)
	}
	t.seen[w] |= 1 << uint(off%64)
	t.distinct++
}

func (t *seqTracker) isSeen(seq int64) bool {
	off := seq - t.base
	w := int(off / 64)
	return w < len(t.seen) && t.seen[w]&(1<<uint(off%64)) != 0
}
