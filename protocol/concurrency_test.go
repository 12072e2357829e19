package protocol

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
)

// Frames made concurrently (sharing the pooled arenas, buffers and hashers) are identical to
// frames made one at a time.
func TestFrameConcurrent(t *testing.T) {
	s := testSigner(t, "distributor")
	other := Signer{HashKey: HashKey{1}, Keys: s.Keys} // a second hash key exercises the hasher pool
	lines := make([][]byte, 50)
	want := make([][]byte, len(lines))
	wantOther := make([][]byte, len(lines))
	for i := range lines {
		lines[i] = []byte(fmt.Sprintf(`{"n":%d,"s":"x\u00e9\ud800%d","b":{"dataType":"bb","value":"AQID"},"big":{"dataType":"bi","value":"0%X"}}`, i, i, i))
		var err error
		if want[i], err = s.Frame(KindReceipt, lines[i], fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
		if wantOther[i], err = other.Frame(KindReceipt, lines[i], fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			buf := make([]byte, 0, 1024)
			for r := 0; r < 20; r++ {
				for i, l := range lines {
					signer, exp := s, want[i]
					if (g+i)%2 == 1 {
						signer, exp = other, wantOther[i]
					}
					var err error
					buf, err = signer.AppendFrame(buf[:0], KindReceipt, l, fmt.Sprint(i))
					if err != nil || !bytes.Equal(buf, exp) {
						errs <- fmt.Errorf("goroutine %d line %d: %s (%v)", g, i, buf, err)
						return
					}
					if err := VerifyJSON(signer.HashKey, buf); err != nil {
						errs <- err
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
