package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxLineBytes bounds one input line of sign and verify, so a stream without newlines cannot
// exhaust memory. Data-log lines are far smaller.
const maxLineBytes = 64 << 20

var errLineTooLong = fmt.Errorf("line longer than %d MiB", maxLineBytes>>20)

// lineReader reads newline-terminated lines of any length up to maxLineBytes.
type lineReader struct {
	r   *bufio.Reader
	buf []byte
	n   int // number of the line last returned, from 1
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 256<<10)}
}

// next returns the next line without its "\n" or "\r\n" (valid until the next call), or
// errLineTooLong for an oversized line (which is skipped), or io.EOF.
func (l *lineReader) next() ([]byte, error) {
	l.buf = l.buf[:0]
	tooLong := false
	for {
		chunk, err := l.r.ReadSlice('\n')
		if !tooLong {
			if len(l.buf)+len(chunk) > maxLineBytes+2 { // +2: the "\r\n" that is not part of the line
				tooLong = true
				l.buf = l.buf[:0]
			} else {
				l.buf = append(l.buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF && len(l.buf) == 0 && !tooLong {
			return nil, io.EOF
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		break
	}
	l.n++
	if tooLong {
		return nil, errLineTooLong
	}
	line := bytes.TrimSuffix(l.buf, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), nil
}

// moreReady reports whether a whole further line is already buffered, i.e. whether output can
// wait: when it is not, the caller flushes so that a line out follows each line in at once.
func (l *lineReader) moreReady() bool {
	b, _ := l.r.Peek(l.r.Buffered())
	return bytes.IndexByte(b, '\n') >= 0
}

// blank reports a line that holds nothing but whitespace; sign and verify skip those.
func blank(line []byte) bool { return len(bytes.TrimSpace(line)) == 0 }

// eachLine runs fn on every non-blank line and writes its output through w, flushing whenever
// no further complete line is waiting. fn's error ends the stream.
func eachLine(in io.Reader, out io.Writer, fn func(n int, line []byte, tooLong bool, w *bufio.Writer) error) error {
	lr := newLineReader(in)
	w := bufio.NewWriterSize(out, 64<<10)
	for {
		line, err := lr.next()
		if err == io.EOF {
			return w.Flush()
		}
		tooLong := errors.Is(err, errLineTooLong)
		if err != nil && !tooLong {
			_ = w.Flush()
			return fmt.Errorf("reading line %d: %w", lr.n+1, err)
		}
		if tooLong || !blank(line) {
			if err := fn(lr.n, line, tooLong, w); err != nil {
				return err
			}
		}
		if !lr.moreReady() {
			if err := w.Flush(); err != nil {
				return err
			}
		}
	}
}
