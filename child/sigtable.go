package child

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A signature table lets the children of one parent sign each frame once between them. Every
// child reads the same data log and signs the same frames with the same key: with 20 children,
// signing was a fifth of their CPU, nineteen twentieths of it repeated. The parent creates the
// table (an anonymous memfd) and every child maps it shared; a child that signs a frame stores the
// signature, the others find it. It is a cache: a miss only costs a signing, so a slot is simply
// overwritten by the next frame that hashes to it.
//
// Each slot is guarded by a sequence number (a seqlock across processes): a writer makes it odd
// while it writes, a reader keeps what it copied only if the number was even and unchanged. Every
// word is read and written atomically, so readers never see torn values and the race detector has
// nothing to say. A child killed mid-write leaves its slot odd: that slot stays unused.

const (
	sigSlotWords = 1 + 4 + 4 + 8 // seq, hash, public key, signature
	// The children read the same lines within milliseconds of one another, so a table of a few
	// thousand recent frames finds nearly every signature; every child maps every page of it, and
	// each mapping counts in that child's RSS.
	sigSlots     = 2048 // 272 KiB; a slot is reused after ~2,000 frames
	sigTableSize = sigSlots * sigSlotWords * 8
)

// sigTableEnv names the child's fd of the table (set by the runner when the parent passes one).
const sigTableEnv = "DISTRIBUTOR_SIGTABLE_FD"

// NewSigTable creates the table a parent passes to its children (SpawnOptions.SigTable).
func NewSigTable() (*os.File, error) {
	fd, err := unix.MemfdCreate("distributor-signatures", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("signature table: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "distributor-signatures")
	if err := f.Truncate(sigTableSize); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("signature table: %w", err)
	}
	return f, nil
}

// SigTable is a child's mapping of the table; it implements protocol.SigCache.
type SigTable struct {
	words          []uint64
	reused, signed atomic.Uint64 // this process's loads that found a signature; its stores
}

// mapSigTable maps the table open as f (the mapping outlives f).
func mapSigTable(f *os.File) (*SigTable, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("signature table: %w", err)
	}
	if fi.Size() != sigTableSize {
		return nil, fmt.Errorf("signature table: %d bytes, want %d", fi.Size(), sigTableSize)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, sigTableSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("signature table: mmap: %w", err)
	}
	return &SigTable{words: unsafe.Slice((*uint64)(unsafe.Pointer(&mem[0])), len(mem)/8)}, nil
}

func (t *SigTable) slot(h *[32]byte) []uint64 {
	i := binary.LittleEndian.Uint64(h[:8]) % sigSlots
	return t.words[i*sigSlotWords : (i+1)*sigSlotWords]
}

// Load implements protocol.SigCache.
func (t *SigTable) Load(pub, h *[32]byte, sig *[64]byte) bool {
	s := t.slot(h)
	seq := atomic.LoadUint64(&s[0])
	if seq == 0 || seq&1 != 0 {
		return false
	}
	if !wordsEqual(s[1:5], h[:]) || !wordsEqual(s[5:9], pub[:]) {
		return false
	}
	for i := range 8 {
		binary.LittleEndian.PutUint64(sig[8*i:], atomic.LoadUint64(&s[9+i]))
	}
	if atomic.LoadUint64(&s[0]) != seq {
		return false
	}
	t.reused.Add(1)
	return true
}

// Store implements protocol.SigCache. A slot another process is writing is left to it.
func (t *SigTable) Store(pub, h *[32]byte, sig *[64]byte) {
	t.signed.Add(1)
	s := t.slot(h)
	seq := atomic.LoadUint64(&s[0])
	if seq&1 != 0 || !atomic.CompareAndSwapUint64(&s[0], seq, seq+1) {
		return
	}
	storeWords(s[1:5], h[:])
	storeWords(s[5:9], pub[:])
	storeWords(s[9:17], sig[:])
	atomic.StoreUint64(&s[0], seq+2)
}

// Counts returns how many signatures this process found in the table (reused) and stored in it
// (signed).
func (t *SigTable) Counts() (reused, signed uint64) { return t.reused.Load(), t.signed.Load() }

func wordsEqual(w []uint64, b []byte) bool {
	for i := range w {
		if atomic.LoadUint64(&w[i]) != binary.LittleEndian.Uint64(b[8*i:]) {
			return false
		}
	}
	return true
}

func storeWords(w []uint64, b []byte) {
	for i := range w {
		atomic.StoreUint64(&w[i], binary.LittleEndian.Uint64(b[8*i:]))
	}
}
