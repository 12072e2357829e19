package logwriter

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shardeum/distributor/logreader"
)

// Source yields the entries of one stream for Replay: one JSON line per call (without its
// newline; the slice may be reused by the next call), io.EOF at the end.
type Source func() ([]byte, error)

// ReplayOptions configure Replay.
type ReplayOptions struct {
	Dir     string                      // data-log directory to write
	Sources map[logreader.Stream]Source // what to write, per stream
	// MaxEntries per file before rotation; 0 uses the archiver's default for the stream
	// (cycle 500, receipt and originalTx 10000).
	MaxEntries int
	MaxFiles   int     // files before wrap-around; 0 means 10
	Rate       float64 // entries per second per stream; 0 writes as fast as possible
	// Clean first removes the replayed streams' pointer, K-log and old-K-log files from Dir,
	// so the result does not depend on what was there (reproducible test data).
	Clean bool
	// Progress, when set, is called about every ProgressEvery (default 1 s) and at the end.
	Progress      func(ReplayStats)
	ProgressEvery time.Duration
}

// ReplayStats count what Replay wrote.
type ReplayStats struct {
	Written  map[logreader.Stream]int
	Total    int
	Elapsed  time.Duration
	Finished bool
}

// Rate is the overall entries per second so far.
func (s ReplayStats) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Total) / s.Elapsed.Seconds()
}

func (s ReplayStats) String() string {
	var parts []string
	for _, st := range logreader.Streams {
		if n, ok := s.Written[st]; ok {
			parts = append(parts, fmt.Sprintf("%s %d", st, n))
		}
	}
	return fmt.Sprintf("%d entries (%s) in %s, %.0f entries/s", s.Total, strings.Join(parts, ", "), s.Elapsed.Round(time.Millisecond), s.Rate())
}

// Replay writes the sources into o.Dir with one Writer per stream, taking one entry from each
// stream in turn (logreader.Streams order), paced at o.Rate entries per second per stream.
func Replay(ctx context.Context, o ReplayOptions) (ReplayStats, error) {
	if o.MaxFiles == 0 {
		o.MaxFiles = logreader.DefaultMaxFiles
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = time.Second
	}
	type lane struct {
		s   logreader.Stream
		src Source
		w   *Writer
	}
	var lanes []*lane
	for _, s := range logreader.Streams {
		src, ok := o.Sources[s]
		if !ok {
			continue
		}
		if o.Clean {
			if err := removeStream(o.Dir, s); err != nil {
				return ReplayStats{}, err
			}
		}
		maxEntries := o.MaxEntries
		if maxEntries == 0 {
			maxEntries = logreader.DefaultMaxEntries(s)
		}
		w, err := NewWriter(o.Dir, s, maxEntries, o.MaxFiles)
		if err != nil {
			return ReplayStats{}, err
		}
		defer w.Close()
		lanes = append(lanes, &lane{s: s, src: src, w: w})
	}
	st := ReplayStats{Written: map[logreader.Stream]int{}}
	for _, l := range lanes {
		st.Written[l.s] = 0
	}
	start := time.Now()
	lastProgress := start
	for round := 0; len(lanes) > 0; round++ {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if o.Rate > 0 {
			due := start.Add(time.Duration(float64(round) / o.Rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				select {
				case <-ctx.Done():
					return st, ctx.Err()
				case <-time.After(d):
				}
			}
		}
		live := lanes[:0]
		for _, l := range lanes {
			line, err := l.src()
			if err == io.EOF {
				continue
			}
			if err != nil {
				return st, fmt.Errorf("replay %s: %w", l.s, err)
			}
			if err := l.w.Append(line); err != nil {
				return st, fmt.Errorf("replay %s: %w", l.s, err)
			}
			st.Written[l.s]++
			st.Total++
			live = append(live, l)
		}
		lanes = live
		if o.Progress != nil && time.Since(lastProgress) >= o.ProgressEvery {
			lastProgress = time.Now()
			st.Elapsed = lastProgress.Sub(start)
			o.Progress(st)
		}
	}
	st.Elapsed = time.Since(start)
	st.Finished = true
	if o.Progress != nil {
		o.Progress(st)
	}
	return st, nil
}

// removeStream deletes one stream's files from dir (nothing else).
func removeStream(dir string, s logreader.Stream) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		name := e.Name()
		if name == s.PointerName() || s.ParseFileName(strings.TrimPrefix(name, "old-")) > 0 {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// GeneratedSource yields n entries of stream s from g (n < 0: without end).
func GeneratedSource(g *Generator, s logreader.Stream, n int) Source {
	var buf []byte
	i := 0
	return func() ([]byte, error) {
		if n >= 0 && i >= n {
			return nil, io.EOF
		}
		i++
		buf = g.Append(buf[:0], s)
		return buf, nil
	}
}

// LinesSource yields the lines of r, skipping blank lines and End markers, dropping "\r".
// Lines longer than 64 MiB are an error.
func LinesSource(r io.Reader) Source {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256<<10), 64<<20)
	return func() ([]byte, error) {
		for sc.Scan() {
			line := bytes.TrimSuffix(sc.Bytes(), []byte{'\r'})
			if len(bytes.TrimSpace(line)) == 0 || bytes.HasPrefix(line, []byte(logreader.EndMarkerPrefix)) {
				continue
			}
			return line, nil
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
}

// DirSource yields every entry of stream s in a data-log directory, oldest file first.
// The files are listed when it is created and each is opened when reached.
func DirSource(dir string, s logreader.Stream) (Source, error) {
	paths, err := logreader.Files(dir, s, 0)
	if err != nil {
		return nil, err
	}
	var f *os.File
	var lines Source
	return func() ([]byte, error) {
		for {
			if lines != nil {
				line, err := lines()
				if err != io.EOF {
					return line, err
				}
				f.Close()
				lines = nil
			}
			if len(paths) == 0 {
				return nil, io.EOF
			}
			f, err = os.Open(paths[0])
			if err != nil {
				return nil, err
			}
			paths = paths[1:]
			lines = LinesSource(f)
		}
	}, nil
}
