package dbstore

import (
	"encoding/binary"
	"hash/maphash"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// shmWatch reads the WAL-index header SQLite keeps at the start of the -shm file, through a
// read-only shared mapping of our own: the cheapest exact "has anyone committed?" test there is.
//
// The writer updates the header at every commit (iChange, mxFrame, checksums; a WAL restart
// changes the salts), writing copy 2 then copy 1; readers read copy 1 then copy 2 and trust them
// only when equal. That is SQLite's own read protocol (walIndexTryHdr), so two equal readings mean
// no commit in between. The -shm cannot be deleted and replaced under us while our dedicated
// version connection holds it open (SQLite removes it only when the last connection closes), and
// we re-check its identity every recheck interval anyway. Anything unusual (no -shm: rollback
// journal or immutable fallback; copies differ; header not initialised) answers !ok, and the
// caller falls back to PRAGMA data_version.
type shmWatch struct {
	path string
	seed maphash.Seed

	mu      sync.Mutex // serialises remapping
	cur     atomic.Pointer[shmMap]
	checked atomic.Int64 // unix nanos of the last identity check
	old     []*shmMap    // replaced mappings stay mapped: a reader may still hold one
	gens    uint64       // mappings made so far; tokens of different mappings never compare equal
}

type shmMap struct {
	data     []byte
	dev, ino uint64
	gen      uint64
}

const (
	shmHeaderCopy = 48 // sizeof(WalIndexHdr)
	shmRecheck    = 100 * time.Millisecond
)

func newShmWatch(dbPath string) *shmWatch {
	return &shmWatch{path: dbPath + "-shm", seed: maphash.MakeSeed()}
}

// token returns a value that changes with every commit, or ok false.
func (w *shmWatch) token() (tok int64, ok bool) {
	if now, last := time.Now().UnixNano(), w.checked.Load(); now-last > int64(shmRecheck) && w.checked.CompareAndSwap(last, now) {
		w.recheck()
	}
	m := w.cur.Load()
	if m == nil {
		return 0, false
	}
	// A file truncated under the mapping raises SIGBUS on access; turn that into a fallback.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			tok, ok = 0, false
		}
	}()
	var a, b [shmHeaderCopy]byte
	copy(a[:], m.data[:shmHeaderCopy])
	copy(b[:], m.data[shmHeaderCopy:2*shmHeaderCopy])
	if a != b || a[12] == 0 { // copies differ (a commit in progress) or isInit unset
		return 0, false
	}
	var h maphash.Hash
	h.SetSeed(w.seed)
	var g [8]byte
	binary.LittleEndian.PutUint64(g[:], m.gen)
	h.Write(g[:])
	h.Write(a[:])
	return int64(h.Sum64() | 1<<63), true // top bit set: never equal to a data_version token
}

// recheck maps the -shm if it exists and is not the file already mapped.
func (w *shmWatch) recheck() {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer w.checked.Store(time.Now().UnixNano())
	var st syscall.Stat_t
	if err := syscall.Stat(w.path, &st); err != nil || st.Size < 2*shmHeaderCopy {
		w.retire(nil)
		return
	}
	if m := w.cur.Load(); m != nil && m.dev == uint64(st.Dev) && m.ino == st.Ino {
		return
	}
	f, err := os.Open(w.path)
	if err != nil {
		w.retire(nil)
		return
	}
	defer f.Close()
	data, err := syscall.Mmap(int(f.Fd()), 0, 2*shmHeaderCopy, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		w.retire(nil)
		return
	}
	w.gens++
	w.retire(&shmMap{data: data, dev: uint64(st.Dev), ino: st.Ino, gen: w.gens})
}

func (w *shmWatch) retire(next *shmMap) {
	if prev := w.cur.Swap(next); prev != nil {
		w.old = append(w.old, prev)
	}
}

// close stops using the mapping. The pages stay mapped (a request may be reading them; they are
// 96 bytes of one page per file and store, and a Store lives as long as the process).
func (w *shmWatch) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.retire(nil)
	w.checked.Store(1 << 62) // no more rechecks
}
