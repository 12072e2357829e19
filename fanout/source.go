package fanout

import (
	"context"
	"log/slog"
	"time"

	"github.com/shardeum/distributor/logreader"
)

// Source is the child's input for one stream: a logreader.Reader, later also a Redis Streams consumer.
// Next blocks until the next entry or ctx is done; Close releases it and unblocks Next.
type Source interface {
	Next(ctx context.Context) (logreader.Entry, error)
	Close() error
}

// sourceOpener opens a stream's Source at start. live is true for the stream's shared reader (its
// problems are reported); catch-up readers re-read lines the shared reader already reported, so
// their problems are only passed to onProblem (nil: dropped), where a catch-up learns that lines
// it had still to send are gone.
type sourceOpener func(stream logreader.Stream, start logreader.Start, live bool, onProblem func(error)) (Source, error)

func dataLogOpener(dir string, poll time.Duration, log *slog.Logger, onProblem func(logreader.Stream, error)) sourceOpener {
	quiet := slog.New(&minLevel{Handler: log.Handler(), min: slog.LevelError})
	return func(stream logreader.Stream, start logreader.Start, live bool, catchUpProblem func(error)) (Source, error) {
		o := logreader.Options{Dir: dir, Stream: stream, Start: start, Poll: poll, Logger: quiet, OnProblem: catchUpProblem}
		if live {
			o.Logger = log
			o.OnProblem = func(err error) { onProblem(stream, err) }
			o.WaitForDir = true // a child may start before the collector created its directory
		}
		r, err := logreader.Open(o)
		if err != nil {
			return nil, err
		}
		return r, nil
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

// positioner is a Source that knows where it stands before its first entry (logreader.Reader does).
type positioner interface{ Position() logreader.Position }
