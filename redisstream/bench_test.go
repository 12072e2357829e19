package redisstream_test

import (
	"context"
	"testing"
	"time"

	"github.com/shardeum/distributor/logreader"
	"github.com/shardeum/distributor/redisstream"
	"github.com/shardeum/distributor/redisstream/redistest"
)

// BenchmarkIngressCatchUp measures how fast one ingress signs and appends lines already on
// disk (realistic receipts from logreader.Generator) and a Reader reads them back.
func BenchmarkIngressCatchUp(b *testing.B) {
	srv := redistest.Start(b)
	c := client(b, srv)
	dir := b.TempDir()
	w, err := logreader.NewWriter(dir, logreader.Receipt, 10000, 100)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	gen := logreader.NewGenerator(1, time.Now)
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
