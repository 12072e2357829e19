package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/shardeum/distributor/protocol"
	"github.com/shardeum/distributor/scripts/internal/collector"
)

func (s *settings) run(ctx context.Context, stdout, stderr io.Writer) int {
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if s.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.duration)
		defer cancel()
	}
	hc := collector.HTTPClient()
	clients := make([]*collector.Client, s.clients)
	for i := range clients {
		clients[i] = collector.New(collector.Options{
			Addr: s.addr, Signer: protocol.Signer{HashKey: s.hashKey, Keys: s.keys[i]},
			ExpectOwner: s.expectOwner, Cursor: s.cursor, VerifyEvery: s.verifyEvery,
			MaxFiles: s.maxFiles, MaxEntries: s.maxEntries, ExpectStream: s.stream, ExpectFrames: s.expect, HTTPClient: hc, Logger: logger,
		})
	}
	results := make([]collector.Result, len(clients))
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() { results[i] = c.Run(ctx) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	if s.interval > 0 {
		live(stderr, clients, s.interval, start, done)
	}
	<-done
	sum := collector.Summarize(clients, results, time.Since(start))

	if s.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(sum)
	} else {
		sum.WriteText(stdout)
	}
	if s.saveCursor != "" {
		cur := map[string]string{}
		for k, v := range s.cursor {
			cur[k] = v
		}
		for k, v := range clients[0].LastCursors() {
			cur[k] = v
		}
		if err := collector.SaveCursorFile(s.saveCursor, cur); err != nil {
			fmt.Fprintf(stderr, "fake-collector: %v\n", err)
			return exitProblems
		}
	}
	short := 0
	for _, r := range results {
		if s.expect > 0 && r.End != collector.EndExpected {
			short++
		}
	}
	if short > 0 {
		fmt.Fprintf(stderr, "fake-collector: %d of %d clients ended before receiving --expect %d %s frames\n", short, len(results), s.expect, s.stream)
	}
	if !sum.OK() || short > 0 {
		return exitProblems
	}
	return exitOK
}

// live prints one count line per interval on w until done: frames/s per stream (summed over
// clients), totals, invalid and gaps.
func live(w io.Writer, clients []*collector.Client, every time.Duration, start time.Time, done <-chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	prev := map[string]int64{}
	last := start
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			var b strings.Builder
			fmt.Fprintf(&b, "%6.1fs", now.Sub(start).Seconds())
			var invalid, gaps, dups, ooo int64
			secs := now.Sub(last).Seconds()
			for _, c := range clients {
				invalid += c.UnknownInvalid()
			}
			for _, name := range collector.Streams {
				var frames int64
				for _, c := range clients {
					sc := c.Counters(name)
					frames += sc.Frames.Load()
					invalid += sc.Invalid.Load()
					gaps += sc.Gaps.Load()
					dups += sc.Duplicates.Load()
					ooo += sc.OutOfOrder.Load()
				}
				fmt.Fprintf(&b, "  %s %.0f/s (%d)", name, float64(frames-prev[name])/secs, frames)
				prev[name] = frames
			}
			fmt.Fprintf(&b, "  invalid %d  gaps %d  dup %d  ooo %d\n", invalid, gaps, dups, ooo)
			io.WriteString(w, b.String())
			last = now
		}
	}
}
