package redisstream_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shardeum/distributor/logreader"
	"github.com/shardeum/distributor/logwriter"
	"github.com/shardeum/distributor/redisstream"
	"github.com/shardeum/distributor/redisstream/redistest"
)

// BenchmarkIngressCatchUp measures how fast one ingress signs and appends lines already on
// disk (realistic receipts from logreader.Generator) and a Reader reads them back.
func BenchmarkIngressCatchUp(b *testing.B) {
	srv := redistest.Start(b)
	c := client(b, srv)
	dir := b.TempDir()
	w, err := logwriter.NewWriter(dir, logreader.Receipt, 10000, 100)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	gen := logwriter.NewGenerator(1, time.Now)
	var line []byte
	for range b.N {
		line = gen.Append(line[:0], logreader.Receipt)
		if err := w.Append(line); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	r, err := redisstream.Open(ctx, c, prefix, logreader.Receipt, "", redisstream.ReaderOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	startIngress(b, redisstream.IngressOptions{Client: c, Dir: dir, Streams: []logreader.Stream{logreader.Receipt}})
	var bytes int64
	for range b.N {
		rec, err := r.Next(ctx)
		if err != nil {
			b.Fatal(err)
		}
		bytes += int64(len(rec.Frame))
	}
	el := time.Since(start)
	b.ReportMetric(float64(b.N)/el.Seconds(), "lines/s")
	b.ReportMetric(float64(bytes)/float64(b.N), "frame-bytes")
}

// BenchmarkIngressLatency writes receipts at 2,000 a second (rotating every 1,000) and measures,
// for each, the time from its write to a Reader handing it out: the ingress's wake-up, signing,
// the append and the reader's XREAD wake-up. b.N is ignored beyond running once per round.
func BenchmarkIngressLatency(b *testing.B) {
	const lines, rate = 10000, 2000
	for range b.N {
		srv := redistest.Start(b)
		c := client(b, srv)
		dir := b.TempDir()
		w := newWriter(b, dir, logreader.Receipt, 1000, 10)
		ctx := context.Background()
		r, err := redisstream.Open(ctx, c, prefix, logreader.Receipt, "", redisstream.ReaderOptions{})
		if err != nil {
			b.Fatal(err)
		}
		w.write(1)
		startIngress(b, redisstream.IngressOptions{Client: c, Dir: dir, Streams: []logreader.Stream{logreader.Receipt}})
		if _, err := r.Next(ctx); err != nil {
			b.Fatal(err)
		}
		written := make([]time.Time, lines)
		var mu sync.Mutex
		got := make(chan time.Duration, lines)
		go func() {
			defer close(got)
			for i := range lines {
				if _, err := r.Next(ctx); err != nil {
					return
				}
				now := time.Now()
				mu.Lock()
				got <- now.Sub(written[i])
				mu.Unlock()
			}
		}()
		tick := time.NewTicker(time.Second / rate)
		began := time.Now()
		for i := range lines {
			<-tick.C
			mu.Lock()
			written[i] = time.Now()
			mu.Unlock()
			w.write(1)
		}
		tick.Stop()
		b.ReportMetric(float64(lines)/time.Since(began).Seconds(), "written/s")
		var lat []time.Duration
		for d := range got {
			lat = append(lat, d)
		}
		if len(lat) != lines {
			b.Fatalf("received %d of %d", len(lat), lines)
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	}
}
