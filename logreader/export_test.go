package logreader

import "time"

// Internals for the external tests (package logreader_test), which are external because they
// write their data with logwriter, which imports this package.

var ValidJSON = validJSON

const BufSize = bufSize

var NextRound = nextRound

func RoundPhase() time.Duration { return roundPhase }

func (s Stream) Owns(base string) bool { return s.owns(base) }

// WatchedDirs is what the process's shared watcher watches; nil when there is none.
func WatchedDirs() []string {
	hubMu.Lock()
	defer hubMu.Unlock()
	if hub == nil {
		return nil
	}
	return hub.w.WatchList()
}

// SharedWatcher reports whether the process's shared watcher exists.
func SharedWatcher() bool {
	hubMu.Lock()
	defer hubMu.Unlock()
	return hub != nil
}

// BufLen is the size of r's read buffer.
func (r *Reader) BufLen() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.buf)
}

// Reported is how many once-only problems r remembers for its current file.
func (r *Reader) Reported() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reported)
}

// SetRoundHook sets r's hook for paced waits (see Reader.roundHook); call it before Next.
func (r *Reader) SetRoundHook(f func(round time.Time)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.roundHook = f
}
