// Command gen writes the deterministic test archive (package archivegen) into a directory,
// by default testdata/archiver-db at the repository root: go run ./dbstore/gen [-out DIR].
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/shardeum/distributor/dbstore/archivegen"
)

func main() {
	out := flag.String("out", "testdata/archiver-db", "directory to write the five .sqlite3 files into")
	cycles := flag.Int("cycles", 50, "number of cycles")
	perCycle := flag.Int("per-cycle", 7, "transactions (and accounts) per cycle")
	flag.Parse()
	if err := archivegen.Generate(*out, archivegen.Options{Cycles: *cycles, TxPerCycle: *perCycle}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
