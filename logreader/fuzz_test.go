package logreader_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/shardeum/distributor/logreader"
)

// FuzzReaderFileContent: whatever bytes a data file holds, the reader does not panic and emits
// exactly the complete lines that are valid JSON (CR stripped), up to an End marker.
func FuzzReaderFileContent(f *testing.F) {
	for _, seed := range []string{
		"{\"a\":1}\n{\"b\":2}\r\n", "{\"a\":1}\nEnd: Number of entries: 1\n{\"x\":1}\n", "\n\n\r\n[1,2]\n\"s\"\n",
		"{\"a\":\n1}\n", "{\"half\":", "End: Number of entries: x\n{}\n", "\x00\xff\n{}\n", "{}\r\r\n{}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		var want [][]byte
		rest := content
		for {
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				break
			}
			line := bytes.TrimSuffix(rest[:i], []byte{'\r'})
			rest = rest[i+1:]
			if bytes.HasPrefix(line, []byte(EndMarkerPrefix)) {
				break
			}
			if json.Valid(line) {
				want = append(want, line)
			}
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "receipt-log1.txt"), content, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "active-receipt-log.txt"), []byte("receipt-log1.txt"), 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Open(Options{Dir: dir, Stream: Receipt, Start: Oldest, OnProblem: func(error) {}, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for i, w := range want {
			e := next(t, r, wait)
			if !bytes.Equal(e.Line, w) {
				t.Fatalf("entry %d: %q, want %q", i, e.Line, w)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		defer cancel()
		if e, err := r.Next(ctx); err == nil {
			t.Fatalf("extra entry %q", e.Line)
		}
	})
}
