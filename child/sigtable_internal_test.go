package child

import (
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"testing"
)

// Two mappings of one table stand for two children: what one stores, the other loads.
func mapTwice(t *testing.T) (*SigTable, *SigTable) {
	t.Helper()
	f, err := NewSigTable()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := mapSigTable(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := mapSigTable(f)
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

func fakeSig(pub, h *[32]byte) (sig [64]byte) {
	x := sha256.Sum256(append(pub[:], h[:]...))
	y := sha256.Sum256(x[:])
	copy(sig[:32], x[:])
	copy(sig[32:], y[:])
	return sig
}

func TestSigTableSharesAcrossMappings(t *testing.T) {
	a, b := mapTwice(t)
	pub, other := [32]byte{1}, [32]byte{2}
	h := sha256.Sum256([]byte("frame"))
	var got [64]byte
	if b.Load(&pub, &h, &got) {
		t.Fatal("an empty table found a signature")
	}
	sig := fakeSig(&pub, &h)
	a.Store(&pub, &h, &sig)
	if !b.Load(&pub, &h, &got) || got != sig {
		t.Fatalf("the other mapping did not find the stored signature")
	}
	if b.Load(&other, &h, &got) {
		t.Fatal("found a signature stored under another key")
	}
	// A hash that falls in the same slot replaces it: the first is then a miss, never a wrong answer.
	h2 := h
	h2[31] ^= 1
	sig2 := fakeSig(&pub, &h2)
	b.Store(&pub, &h2, &sig2)
	if a.Load(&pub, &h, &got) {
		t.Fatal("found a signature whose slot was reused")
	}
	if !a.Load(&pub, &h2, &got) || got != sig2 {
		t.Fatal("the replacing signature is not found")
	}
	// A slot left odd (a writer killed mid-write) is never read.
	s := a.slot(&h2)
	s[0]++
	if b.Load(&pub, &h2, &got) {
		t.Fatal("read a slot that is being written")
	}
}

// Writers and readers on colliding slots, under -race: a load returns the right signature or none.
func TestSigTableConcurrentNeverWrong(t *testing.T) {
	a, b := mapTwice(t)
	pub := [32]byte{7}
	var wg sync.WaitGroup
	var hits atomic.Int64
	for g := range 4 {
		tab := a
		if g%2 == 1 {
			tab = b
		}
		wg.Go(func() {
			for i := range 20000 {
				var h [32]byte
				h[0], h[8] = byte(i>>1), byte(i>>9) // 128 slots (h[:8] picks one), many hashes each
				sig := fakeSig(&pub, &h)
				if i%2 == 0 { // store a hash; the next round loads it, often after another's store
					tab.Store(&pub, &h, &sig)
					continue
				}
				var got [64]byte
				if tab.Load(&pub, &h, &got) {
					hits.Add(1)
					if got != sig {
						t.Errorf("wrong signature for hash %x", h[:9])
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if hits.Load() == 0 {
		t.Fatal("no load found a stored signature: the test tested nothing")
	}
}
