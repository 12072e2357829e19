// Command fake-collector subscribes to a distributor's firehose the way a Shardeum collector does
// and checks what arrives: every frame's signature and owner (or every Nth), per-stream order and
// gaps, and append->receive latency when entries carry writtenAt. It prints a count line every
// second on stderr and a summary on stdout (--json for harnesses), and exits 1 on any invalid frame,
// gap, duplicate, reordering or abnormal close, 2 on bad usage.
//
//	go run ./scripts/fake-collector --addr 127.0.0.1:6100 --duration 30s
//	go run ./scripts/fake-collector --clients 10 --expect 20000 --verify-every 100 --json
//	go run ./scripts/fake-collector --save-cursor cur.json ... ; then --cursor-file cur.json to resume
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK       = 0
	exitProblems = 1 // invalid frames, gaps, duplicates, reordering or abnormal close
	exitUsage    = 2 // bad flags, unreadable files, or no client could subscribe... see run
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if err != errHelp {
			fmt.Fprintf(stderr, "fake-collector: %v\n", err)
			return exitUsage
		}
		return exitOK
	}
	return cfg.run(ctx, stdout, stderr)
}
