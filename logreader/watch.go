package logreader

import (
	"path/filepath"
	"slices"
	"sync"

	"github.com/fsnotify/fsnotify"
)

// Every Reader of a process shares one fsnotify watcher (one inotify instance, one watch per
// directory). Per-reader watchers would hit fs.inotify.max_user_instances (128 by default) once
// a child runs a few dozen catch-up readers, and every reader would wake for every other
// stream's writes. The watcher and its goroutine exist while at least one Reader is open. A
// directory is watched while one of its subscribers wants events: readers paced in rounds
// (SetReadEvery) do not, and a child whose readers all read in rounds is not woken by every line.

type watchHub struct {
	w    *fsnotify.Watcher
	subs map[string]map[*watchSub]struct{} // directory -> subscribers
	done chan struct{}                     // closed when loop has returned
}

var (
	hubMu sync.Mutex
	hub   *watchHub
)

// watchSub receives the events of one directory that concern one stream.
type watchSub struct {
	dir    string
	stream Stream
	wake   chan struct{} // capacity 1: "events pending"
	paused bool          // under hubMu: this subscriber does not need the directory watched

	mu   sync.Mutex
	evs  []fsnotify.Event
	lost bool // events were dropped (queue overflow): look at everything
}

const maxPendingEvents = 256

// subscribe starts delivering dir's events for stream s.
func subscribe(dir string, s Stream) (*watchSub, error) {
	hubMu.Lock()
	defer hubMu.Unlock()
	if hub == nil {
		w, err := fsnotify.NewWatcher()
		if err != nil {
			return nil, err
		}
		hub = &watchHub{w: w, subs: map[string]map[*watchSub]struct{}{}, done: make(chan struct{})}
		go hub.loop()
	}
	sub := &watchSub{dir: dir, stream: s, wake: make(chan struct{}, 1)}
	set := hub.subs[dir]
	if set == nil {
		set = map[*watchSub]struct{}{}
		hub.subs[dir] = set
	}
	set[sub] = struct{}{}
	hub.rewatch(dir) // may not exist yet: ensure retries
	return sub, nil
}

// pause says whether s needs the directory watched (events still reach it while some other
// subscriber keeps the watch).
func (s *watchSub) pause(p bool) {
	hubMu.Lock()
	defer hubMu.Unlock()
	if s.paused == p {
		return
	}
	s.paused = p
	if hub != nil {
		hub.rewatch(s.dir)
	}
}

// rewatch watches dir if one of its subscribers is not paused, and stops watching it if none
// is. hubMu is held.
func (h *watchHub) rewatch(dir string) {
	want := false
	for s := range h.subs[dir] {
		if !s.paused {
			want = true
			break
		}
	}
	watched := slices.Contains(h.w.WatchList(), dir)
	switch {
	case want && !watched:
		_ = h.w.Add(dir)
	case !want && watched:
		_ = h.w.Remove(dir)
	}
}

// ensure re-adds the directory watch if it is gone (directory deleted or replaced), and
// reports whether the directory is watched now.
func (s *watchSub) ensure() bool {
	hubMu.Lock()
	h, paused := hub, s.paused
	hubMu.Unlock()
	if h == nil || paused {
		return false
	}
	if slices.Contains(h.w.WatchList(), s.dir) {
		return true
	}
	return h.w.Add(s.dir) == nil
}

// unsubscribe stops delivery; the last one closes the watcher and waits for its goroutine.
func (s *watchSub) unsubscribe() {
	hubMu.Lock()
	h := hub
	if h == nil {
		hubMu.Unlock()
		return
	}
	set := h.subs[s.dir]
	delete(set, s)
	if len(set) == 0 {
		delete(h.subs, s.dir)
	}
	h.rewatch(s.dir)
	last := len(h.subs) == 0
	if last {
		hub = nil
	}
	hubMu.Unlock()
	if last {
		h.w.Close()
		<-h.done
	}
}

// take returns the pending events and whether some were lost.
func (s *watchSub) take() ([]fsnotify.Event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	evs, lost := s.evs, s.lost
	s.evs, s.lost = nil, false
	return evs, lost
}

func (s *watchSub) deliver(ev fsnotify.Event, lost bool) {
	s.mu.Lock()
	if lost || len(s.evs) >= maxPendingEvents {
		s.lost = true
	} else {
		s.evs = append(s.evs, ev)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (h *watchHub) loop() {
	defer close(h.done)
	for {
		select {
		case ev, ok := <-h.w.Events:
			if !ok {
				return
			}
			h.dispatch(ev)
		case _, ok := <-h.w.Errors:
			if !ok {
				return
			}
			// Overflow or a read error: events were lost, every subscriber re-checks.
			hubMu.Lock()
			for _, set := range h.subs {
				for s := range set {
					s.deliver(fsnotify.Event{}, true)
				}
			}
			hubMu.Unlock()
		}
	}
}

func (h *watchHub) dispatch(ev fsnotify.Event) {
	name := filepath.Clean(ev.Name)
	dir, base := filepath.Dir(name), filepath.Base(name)
	hubMu.Lock()
	defer hubMu.Unlock()
	for s := range h.subs[name] { // the directory itself was removed or renamed
		s.deliver(ev, false)
	}
	for s := range h.subs[dir] {
		if s.stream.owns(base) {
			s.deliver(ev, false)
		}
	}
}
