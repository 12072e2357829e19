// Command testchild is the child side of the distributor alone: the fanout package's tests spawn it,
// so they do not depend on the whole CLI compiling.
package main

import (
	"fmt"
	"os"

	"github.com/shardeum/distributor/child"
	"github.com/shardeum/distributor/fanout"
)

func main() {
	if err := child.Serve(fanout.New); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
