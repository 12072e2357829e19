package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shardeum/distributor/logreader"
	"github.com/shardeum/distributor/logwriter"
)

// The bundled data logs that `distributor start` reads by default (DATA_LOG_DIR in the shipped
// distributor-config.json). Regenerate with `go generate` in the repository root.
//go:generate go run . replay --dir testdata/data-logs --clean --generate 40 --max-entries 25 --seed 1 --clock 2026-01-01T00:00:00Z

func replayCommand() *cli.Command {
	return &cli.Command{
		Name:  "replay",
		Usage: "write a data-log directory as a collector does, from recorded logs, a JSONL file or generated entries",
		Description: `Writes the files a distributor reads (active-K-log.txt, K-logN.txt with End markers,
wrap-around with old- renames) into --dir, default DATA_LOG_DIR from the configuration.
Give exactly one of:
  --from DIR          replay the cycle, receipt and originalTx streams of another data-log directory
  --jsonl FILE        replay the lines of FILE (- for stdin) into --stream
  --generate N        generate N realistic entries per stream of --streams, each with "writtenAt"
                      (Unix microseconds at generation) for latency measurement
Entries are written one per stream in turn, --rate entries per second per stream (0: as fast as
possible). A progress line goes to stderr every second.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Usage: "data-log directory to write (default: DATA_LOG_DIR)"},
			&cli.StringFlag{Name: "from", Usage: "data-log directory to replay (all three streams, oldest file first)"},
			&cli.StringFlag{Name: "jsonl", Usage: "JSON-lines file to replay into --stream (- for stdin)"},
			&cli.StringFlag{Name: "stream", Value: "receipt", Usage: "stream for --jsonl: cycle, receipt or originalTx"},
			&cli.IntFlag{Name: "generate", Usage: "generate N entries per stream"},
			&cli.StringFlag{Name: "streams", Value: "receipt,cycle,originalTx", Usage: "streams for --generate"},
			&cli.Float64Flag{Name: "rate", Usage: "entries per second per stream (0: as fast as possible)"},
			&cli.IntFlag{Name: "max-entries", Usage: "entries per file before rotation (default: the archiver's, cycle 500, receipt and originalTx 10000)"},
			&cli.IntFlag{Name: "max-files", Value: logreader.DefaultMaxFiles, Usage: "files before wrap-around (maxLogFiles; even)"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed for --generate"},
			&cli.StringFlag{Name: "clock", Usage: "RFC 3339 start of a fake clock for --generate that advances 1 ms per entry (reproducible output); default: the real clock"},
			&cli.BoolFlag{Name: "clean", Usage: "first delete the written streams' files from --dir"},
			&cli.BoolFlag{Name: "quiet", Usage: "no progress lines"},
		},
		Action: runReplay,
	}
}

func runReplay(c *cli.Context) error {
	if err := requireNoArgs(c); err != nil {
		return err
	}
	dir := c.String("dir")
	if dir == "" {
		cfg, err := loadConfig(c)
		if err != nil {
			return err
		}
		dir = cfg.DataLogDir
	}
	modes := 0
	for _, f := range []string{"from", "jsonl", "generate"} {
		if c.IsSet(f) {
			modes++
		}
	}
	if modes != 1 {
		return usageErrorf("replay needs exactly one of --from, --jsonl, --generate")
	}
	if c.Float64("rate") < 0 || c.Int("max-entries") < 0 || c.Int("generate") < 0 {
		return usageErrorf("--rate, --max-entries and --generate must not be negative")
	}
	sources := map[logreader.Stream]logwriter.Source{}
	switch {
	case c.IsSet("from"):
		for _, s := range logreader.Streams {
			src, err := logwriter.DirSource(c.String("from"), s)
			if err != nil {
				return fmt.Errorf("replay --from %s: %w", c.String("from"), err)
			}
			sources[s] = src
		}
	case c.IsSet("jsonl"):
		s, err := logreader.ParseStream(c.String("stream"))
		if err != nil {
			return usageErrorf("--stream: %v", err)
		}
		in := c.App.Reader
		if name := c.String("jsonl"); name != "-" {
			f, err := os.Open(name)
			if err != nil {
				return fmt.Errorf("replay --jsonl: %w", err)
			}
			defer f.Close()
			in = f
		}
		sources[s] = logwriter.LinesSource(in)
	default:
		now := time.Now
		if v := c.String("clock"); v != "" {
			t0, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return usageErrorf("--clock: %v", err)
			}
			n := 0
			now = func() time.Time { n++; return t0.Add(time.Duration(n) * time.Millisecond) }
		}
		g := logwriter.NewGenerator(c.Uint64("seed"), now)
		for _, name := range strings.Split(c.String("streams"), ",") {
			s, err := logreader.ParseStream(strings.TrimSpace(name))
			if err != nil {
				return usageErrorf("--streams: %v", err)
			}
			sources[s] = logwriter.GeneratedSource(g, s, c.Int("generate"))
		}
	}
	o := logwriter.ReplayOptions{
		Dir: dir, Sources: sources, MaxEntries: c.Int("max-entries"), MaxFiles: c.Int("max-files"),
		Rate: c.Float64("rate"), Clean: c.Bool("clean"),
	}
	if !c.Bool("quiet") {
		o.Progress = func(st logwriter.ReplayStats) {
			fmt.Fprintf(c.App.ErrWriter, "replay: %s into %s\n", st, dir)
		}
	}
	_, err := logwriter.Replay(c.Context, o)
	return err
}
