package dbstore_test

import (
	"context"
	"testing"

	"github.com/shardeum/distributor/dbstore"
)

// BenchmarkCount is one COUNT(*) of a WAL file the archiver holds open: the unit of /totalData.
func BenchmarkCount(b *testing.B) {
	dir := archive(b)
	for _, f := range []string{"receipts.sqlite3"} {
		walWriterTB(b, dir, f)
	}
	s := open(b, dir)
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Count(ctx, dbstore.Receipts); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDataVersion is the freshness check of a cached reply.
func BenchmarkDataVersion(b *testing.B) {
	dir := archive(b)
	walWriterTB(b, dir, "receipts.sqlite3")
	s := open(b, dir)
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.DataVersion(ctx, dbstore.Receipts); err != nil {
				b.Fatal(err)
			}
		}
	})
}
