// Command testchild is the child side of the distributor alone: the child package's tests spawn it,
// so they do not depend on the whole CLI compiling.
package main

import (
	"fmt"
	"os"

	"github.com/shardeum/distributor/child"
)

func main() {
	if err := child.Main(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
