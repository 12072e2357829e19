package main

import (
	"github.com/urfave/cli/v2"

	"github.com/shardeum/distributor/child"
	"github.com/shardeum/distributor/fanout"
)

// childCommand is the hidden command a parent spawns for each child process: package child's
// contract, serving package fanout's engine.
// It takes its configuration from the parent over RPC, not from flags or files.
func childCommand() *cli.Command {
	return &cli.Command{
		Name:            "child",
		Usage:           "serve WebSocket clients handed over by the parent (started by 'distributor start', not by hand)",
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(*cli.Context) error {
			return child.Serve(fanout.New)
		},
	}
}
