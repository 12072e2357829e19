package dbstore_test

import (
	"context"
	"testing"

	"github.com/shardeum/distributor/dbstore"
	"github.com/shardeum/distributor/dbstore/archivegen"
)

// TestDataVersion: equal readings while nobody commits, a new reading after every commit of the
// archiver, in WAL mode and in rollback mode, the archiver writing through its own connection.
func TestDataVersion(t *testing.T) {
	for _, wal := range []bool{true, false} {
		name := map[bool]string{true: "wal", false: "rollback"}[wal]
		t.Run(name, func(t *testing.T) {
			dir := archive(t)
			writer := walWriterTB(t, dir, "receipts.sqlite3")
			if !wal {
				if _, err := writer.Exec("PRAGMA journal_mode=DELETE"); err != nil {
					t.Fatal(err)
				}
			}
			s := open(t, dir)
			ctx := context.Background()
			prev, err := s.DataVersion(ctx, dbstore.Receipts)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[int64]bool{prev: true}
			o := archivegen.Options{}
			for c := 50; c < 80; c++ {
				for k := 0; k < 3; k++ {
					v, err := s.DataVersion(ctx, dbstore.Receipts)
					if err != nil || v != prev {
						t.Fatalf("cycle %d: version moved without a commit: %x -> %x (%v)", c, prev, v, err)
					}
				}
				if _, err := writer.Exec(archivegen.InsertSQL["receipts.sqlite3"], archivegen.Row("receipts.sqlite3", o, c, 0)...); err != nil {
					t.Fatal(err)
				}
				v, err := s.DataVersion(ctx, dbstore.Receipts)
				if err != nil {
					t.Fatal(err)
				}
				if seen[v] {
					t.Fatalf("cycle %d: version %x after a commit was seen before", c, v)
				}
				seen[v] = true
				prev = v
			}
			// Reading the other tables' versions works too (rollback files).
			if _, err := s.DataVersion(ctx, dbstore.Cycles); err != nil {
				t.Fatal(err)
			}
		})
	}
}
