package logreader

import "os"

// Files ahead of the reader are held open.
//
// The writer deletes old- files when it has gone about maxFiles/2 files further, so a reader
// that falls that far behind (a burst, a busy machine) would lose whole files. An unlinked file
// stays readable through an open descriptor, so the reader opens the files that follow the one
// it reads as soon as they appear, and moves on through those descriptors: it can then only be
// lapped if it does not run at all while the writer rotates several times.

// holdEvery is how many bytes the reader reads between two looks for new files when it is
// behind (and so never waits for the fsnotify events that announce them).
const holdEvery = 256 << 10

// heldFile is an open file that comes after the one being read.
type heldFile struct {
	f   *os.File
	ref fileRef
}

// maxHeld bounds the descriptors one reader holds.
func (r *Reader) maxHeld() int { return 2*max(r.maxFiles(), 10) + 2 }

// holdAhead opens the files that follow the current one (or the last one held) and are not
// held yet, in order.
func (r *Reader) holdAhead() {
	r.sinceHold, r.created = 0, false
	if r.f == nil {
		return
	}
	n, ok, _ := readPointer(r.o.Dir, r.o.Stream)
	if !ok {
		return
	}
	c := r.chain(n)
	last := r.cur.fi
	if k := len(r.held); k > 0 {
		last = r.held[k-1].ref.fi
	}
	idx := indexOf(c, last)
	if idx < 0 {
		return // the last file we know is gone from the chain: follow reports the gap
	}
	for _, ref := range c[idx+1:] {
		if len(r.held) >= r.maxHeld() {
			return
		}
		f, err := os.Open(ref.path)
		if err != nil {
			return // renamed or deleted meanwhile, or unreadable: follow deals with it
		}
		fi, err := f.Stat()
		if err != nil || !os.SameFile(fi, ref.fi) {
			f.Close()
			return
		}
		ref.fi = fi
		r.held = append(r.held, heldFile{f: f, ref: ref})
	}
}

// takeHeld returns the held file that comes right after the current one, if any.
func (r *Reader) takeHeld() (heldFile, bool) {
	if len(r.held) == 0 {
		return heldFile{}, false
	}
	return r.held[0], true
}

// adoptHeld moves the reader to the next held file, from its first line.
func (r *Reader) adoptHeld(h heldFile) bool {
	r.adopt(h.f, h.ref, 0, 0, 0, false)
	return true
}

// releaseHeld keeps the held files only when f is the first of them (the reader moved on in
// order); any other move makes them meaningless.
func (r *Reader) releaseHeld(f *os.File) {
	if len(r.held) > 0 && r.held[0].f == f {
		r.held[0] = heldFile{}
		r.held = r.held[1:]
		return
	}
	r.dropHeld()
}

func (r *Reader) dropHeld() {
	for _, h := range r.held {
		h.f.Close()
	}
	clear(r.held)
	r.held = r.held[:0]
}
