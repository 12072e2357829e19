package fanout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shardeum/distributor/logreader"
	"github.com/shardeum/distributor/redisstream"
)

// Entry is one line of a stream, as a Source hands it out.
type Entry struct {
	Cursor string // the line's data-log position: its frame's "cursor"
	Line   []byte // the line, to be signed here; nil when Frame is set
	Frame  []byte // the frame as an ingress signed it (FIREHOSE_SOURCE=redis): sent as it is
}

// Source is the child's input for one stream: the data-log files (a logreader.Reader) or, on an
// edge, the stream an ingress fills in Redis. Next blocks until the next entry or ctx is done;
// Close releases it and unblocks Next.
type Source interface {
	Next(ctx context.Context) (Entry, error)
	Close() error
}

// errGone is wrapped by a Source's error when the lines after its position are no longer in the
// log: rotated off disk, or trimmed from the Redis stream. Its client gets 4404.
var errGone = errors.New("position no longer in the log")

// goneAs wraps err with errGone when it is the source's own sentinel for a position that is gone.
func goneAs(err, sentinel error) error {
	if errors.Is(err, sentinel) {
		return fmt.Errorf("%w: %w", errGone, err)
	}
	return err
}

// sourceOpener opens a stream's Source just after the cursor after ("": at the live end). live is
// true for the stream's shared reader, whose problems are reported; catch-up readers re-read
// what the shared reader already reported, and fail with errGone where lines they had still to
// send are gone.
type sourceOpener func(stream logreader.Stream, after string, live bool) (Source, error)

// cursorer is a Source that knows where it stands before its first entry.
type cursorer interface{ Cursor() string }

// paceable is a Source that can be read in rounds (the files).
type paceable interface{ SetReadEvery(time.Duration) }

// fileSource reads the data-log files.
type fileSource struct {
	r    *logreader.Reader
	lost *logreader.Problem // a catch-up's: lines it had still to send are gone (set inside Next)
}

func (s *fileSource) Next(ctx context.Context) (Entry, error) {
	e, err := s.r.Next(ctx)
	if err == nil && s.lost != nil {
		err = fmt.Errorf("%w: %v", errGone, s.lost)
	}
	if err != nil {
		return Entry{}, goneAs(err, logreader.ErrPositionGone)
	}
	return Entry{Cursor: e.Pos.String(), Line: e.Line}, nil
}

func (s *fileSource) Close() error                     { return s.r.Close() }
func (s *fileSource) Cursor() string                   { return s.r.Position().String() }
func (s *fileSource) SetReadEvery(every time.Duration) { s.r.SetReadEvery(every) }

// linesLost reports whether a problem a reader stepped over means lines were lost to it (the
// writer rotated them away, or replaced or truncated their file).
func linesLost(k logreader.ProblemKind) bool {
	return k == logreader.ProblemGap || k == logreader.ProblemReplaced || k == logreader.ProblemTruncated
}

func dataLogOpener(dir string, poll time.Duration, log *slog.Logger, onProblem func(logreader.Stream, error)) sourceOpener {
	quiet := slog.New(&minLevel{Handler: log.Handler(), min: slog.LevelError})
	return func(stream logreader.Stream, after string, live bool) (Source, error) {
		start := logreader.Live
		if after != "" {
			pos, err := logreader.ParsePosition(after)
			if err != nil {
				return nil, err
			}
			start = logreader.After(pos)
		}
		s := &fileSource{}
		o := logreader.Options{Dir: dir, Stream: stream, Start: start, Poll: poll, Logger: quiet}
		if live {
			o.Logger = log
			o.OnProblem = func(err error) { onProblem(stream, err) }
			o.WaitForDir = true // a child may start before the collector created its directory
		} else {
			o.OnProblem = func(err error) { // called inside Next, on the catch-up's goroutine
				var p *logreader.Problem
				if s.lost == nil && errors.As(err, &p) && linesLost(p.Kind) {
					s.lost = p
				}
			}
		}
		r, err := logreader.Open(o)
		if err != nil {
			return nil, goneAs(err, logreader.ErrPositionGone)
		}
		s.r = r
		return s, nil
	}
}

// streamSource reads an ingress's stream in Redis: frames arrive signed.
type streamSource struct {
	r    *redisstream.Reader
	key  string
	last atomic.Value // string: the ID of the last entry handed out (read by stats)
}

func (s *streamSource) Next(ctx context.Context) (Entry, error) {
	rec, err := s.r.Next(ctx)
	if err != nil {
		return Entry{}, goneAs(err, redisstream.ErrCursorGone)
	}
	s.last.Store(rec.ID)
	return Entry{Cursor: rec.Cursor, Frame: rec.Frame}, nil
}

func (s *streamSource) Close() error                     { return s.r.Close() }
func (s *streamSource) SetReadEvery(every time.Duration) { s.r.SetReadEvery(every) }
func (s *streamSource) Cursor() string                   { return s.r.Cursor() }
func (s *streamSource) LastID() string                   { id, _ := s.last.Load().(string); return id }
func (s *streamSource) Key() string                      { return s.key }

// redisOpener opens readers of the streams under prefix. A live reader tells onDown when Redis
// becomes unreachable (err) and reachable again (nil).
func redisOpener(c redis.UniversalClient, prefix string, log *slog.Logger, onDown func(logreader.Stream, error)) sourceOpener {
	quiet := slog.New(&minLevel{Handler: log.Handler(), min: slog.LevelError})
	return func(stream logreader.Stream, after string, live bool) (Source, error) {
		o := redisstream.ReaderOptions{Logger: quiet}
		if live {
			o.Logger = log
			o.OnDown = func(err error) { onDown(stream, err) }
		}
		// Open asks Redis where the cursor is: bounded, so that a child's start or a client's
		// catch-up does not hang on a Redis that does not answer (Next then waits for it).
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r, err := redisstream.Open(ctx, c, prefix, stream, after, o)
		if err != nil {
			return nil, goneAs(err, redisstream.ErrCursorGone)
		}
		return &streamSource{r: r, key: redisstream.KeysFor(prefix, stream).Stream}, nil
	}
}

// minLevel drops records below min.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h *minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h *minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return &minLevel{Handler: h.Handler.WithAttrs(as), min: h.min}
}

func (h *minLevel) WithGroup(name string) slog.Handler {
	return &minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}
