package logreader_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	. "github.com/shardeum/distributor/logreader"
	"github.com/shardeum/distributor/logwriter"
)

// line1KB is a valid JSON line of exactly 1024 bytes shaped like a small receipt.
func line1KB(i int) []byte {
	b := []byte(`{"receiptId":"`)
	b = strconv.AppendInt(b, int64(i), 16)
	b = append(b, `","cycle":1234,"timestamp":1767225600000,"afterStates":[{"accountId":"ab12","data":{"balance":{"dataType":"bi","value":"1f"}}}],"pad":"`...)
	for len(b) < 1024-2 {
		b = append(b, 'x')
	}
	return append(b, `"}`...)
}

// BenchmarkReadParse1KB: lines/s read from disk, split, validated and copied by one reader
// (run with -cpu 1 for one core). The file holds 50,000 lines; the reader is reopened at its end.
func BenchmarkReadParse1KB(b *testing.B) {
	dir := b.TempDir()
	const lines = 50000
	var buf bytes.Buffer
	for i := 0; i < lines; i++ {
		buf.Write(line1KB(i))
		buf.WriteByte('\n')
	}
	if err := os.WriteFile(filepath.Join(dir, "receipt-log1.txt"), buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "active-receipt-log.txt"), []byte("receipt-log1.txt"), 0o644); err != nil {
		b.Fatal(err)
	}
	open := func() *Reader {
		r, err := Open(Options{Dir: dir, Stream: Receipt, Start: Oldest})
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	ctx := context.Background()
	r := open()
	n := 0
	b.SetBytes(1025)
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		if n == lines {
			r.Close()
			r = open()
			n = 0
		}
		if _, err := r.Next(ctx); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lines/s")
	// Lines per second of CPU time the process used (user+sys, GC included): what one core
	// sustains, independent of how much of a shared machine the benchmark got.
	b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "lines/cpu-s")
	r.Close()
}

// BenchmarkValidate1KB compares the reader's JSON check with encoding/json.Valid.
func BenchmarkValidate1KB(b *testing.B) {
	line := line1KB(1)
	b.Run("ValidJSON", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for i := 0; i < b.N; i++ {
			if !ValidJSON(line) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("encoding-json-Valid", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for i := 0; i < b.N; i++ {
			if !json.Valid(line) {
				b.Fatal("invalid")
			}
		}
	})
}

// BenchmarkAppendToEmit measures the time from a Writer.Append returning to Next returning the
// line in another goroutine that was blocked waiting (the fsnotify wake-up path). Appends are
// spaced 200 µs apart so the reader is asleep each time; rotate-100 rotates every 100 entries.
func BenchmarkAppendToEmit(b *testing.B) {
	for _, bc := range []struct {
		name       string
		maxEntries int
	}{{"no-rotation", 1 << 30}, {"rotate-100", 100}} {
		b.Run(bc.name, func(b *testing.B) {
			dir := b.TempDir()
			w, err := logwriter.NewWriter(dir, Receipt, bc.maxEntries, 10)
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			r, err := Open(Options{Dir: dir, Stream: Receipt})
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			lat := make([]time.Duration, 0, b.N)
			done := make(chan error, 1)
			go func() {
				ctx := context.Background()
				for i := 0; i < b.N; i++ {
					e, err := r.Next(ctx)
					if err != nil {
						done <- err
						return
					}
					t, _ := strconv.ParseInt(string(e.Line[len(`{"t":`):bytes.IndexByte(e.Line, ',')]), 10, 64)
					lat = append(lat, time.Duration(time.Now().UnixNano()-t))
				}
				done <- nil
			}()
			pad := bytes.Repeat([]byte("x"), 900)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				time.Sleep(200 * time.Microsecond)
				line := strconv.AppendInt([]byte(`{"t":`), time.Now().UnixNano(), 10)
				line = append(append(append(line, `,"pad":"`...), pad...), `"}`...)
				if err := w.Append(line); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
		})
	}
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
