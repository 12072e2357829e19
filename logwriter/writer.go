package logwriter

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/shardeum/distributor/logreader"
)

// Writer writes one stream of a data-log directory exactly as the archiver's and collector's
// DataLogWriter does (archive-server src/Data/DataLogWriter.ts):
//
//   - on start, if active-K-log.txt exists it continues the file it names (and rotates at
//     once if that file is full); otherwise it writes the pointer and creates K-log1.txt;
//   - each entry is one line; when a file holds maxEntries entries the next Append first
//     appends "End: Number of entries: N", closes the file, rotates, creates the next file and
//     then rewrites the pointer (truncate, then write: readers can see it empty for a moment);
//   - rotating to number maxFiles/2 deletes every old-K-log file and, when there were some,
//     renames K-log(maxFiles/2+1..maxFiles) to old-; rotating to maxFiles deletes the old- files
//     and renames K-log(1..maxFiles/2) to old-; after maxFiles the number wraps to 1.
//
// Each Append is one write(2), so a reader sees whole lines as soon as Append returns.
// A Writer is not safe for concurrent use.
type Writer struct {
	dir        string
	s          logreader.Stream
	maxEntries int
	maxFiles   int
	counter    int
	entries    int
	f          *os.File
	line       []byte
}

// NewWriter opens (creating if needed) dir for writing stream s. maxFiles must be even, as the
// reference's half-and-half renaming assumes.
func NewWriter(dir string, s logreader.Stream, maxEntries, maxFiles int) (*Writer, error) {
	if _, err := logreader.ParseStream(string(s)); err != nil {
		return nil, err
	}
	if maxEntries < 1 || maxFiles < 2 || maxFiles%2 != 0 {
		return nil, fmt.Errorf("logwriter: writer needs maxEntries >= 1 and an even maxFiles >= 2 (got %d, %d)", maxEntries, maxFiles)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("logwriter: create data-log directory: %w", err)
	}
	w := &Writer{dir: dir, s: s, maxEntries: maxEntries, maxFiles: maxFiles, counter: 1}
	b, err := os.ReadFile(filepath.Join(dir, s.PointerName()))
	switch {
	case err == nil:
		if n := s.ParseFileName(strings.TrimSpace(string(b))); n > 0 {
			w.counter = n
			data, err := os.ReadFile(w.filePath())
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("logwriter: %w", err)
			}
			w.entries = bytes.Count(data, []byte{'\n'})
			if w.f, err = os.OpenFile(w.filePath(), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err != nil {
				return nil, fmt.Errorf("logwriter: %w", err)
			}
			if w.entries >= w.maxEntries {
				if err := w.rotate(); err != nil {
					return nil, err
				}
			}
			return w, nil
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("logwriter: %w", err)
	default:
		if err := os.WriteFile(filepath.Join(dir, s.PointerName()), []byte(s.FileName(1)), 0o644); err != nil {
			return nil, fmt.Errorf("logwriter: %w", err)
		}
	}
	if err := w.setActive(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Writer) filePath() string { return filepath.Join(w.dir, w.s.FileName(w.counter)) }

// File returns the number of the file being written.
func (w *Writer) File() int { return w.counter }

// Append writes one entry (a line without newline; a trailing "\n" is tolerated).
func (w *Writer) Append(line []byte) error {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	if bytes.IndexByte(line, '\n') >= 0 {
		return errors.New("logwriter: entry contains a newline")
	}
	if w.f == nil {
		return errors.New("logwriter: writer closed")
	}
	if w.entries >= w.maxEntries {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	w.line = append(append(w.line[:0], line...), '\n')
	if _, err := w.f.Write(w.line); err != nil {
		return fmt.Errorf("logwriter: %w", err)
	}
	w.entries++
	return nil
}

// rotate ends the current file with the End marker and moves to the next.
func (w *Writer) rotate() error {
	if _, err := w.f.WriteString(logreader.EndMarkerPrefix + strconv.Itoa(w.entries) + "\n"); err != nil {
		return fmt.Errorf("logwriter: %w", err)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("logwriter: %w", err)
	}
	w.f = nil
	w.entries = 0
	w.counter++
	half := w.maxFiles / 2
	if w.counter == half {
		if err := w.rotateOld(half+1, w.maxFiles, true); err != nil {
			return err
		}
	}
	if w.counter == w.maxFiles {
		if err := w.rotateOld(1, half, false); err != nil {
			return err
		}
	}
	if w.counter > w.maxFiles {
		w.counter = 1
	}
	return w.setActive()
}

// rotateOld deletes the old- files, then renames files start..end to old- (only when there
// were old- files, if onlyIfOld: the first time round files start..end do not exist yet).
func (w *Writer) rotateOld(start, end int, onlyIfOld bool) error {
	ents, err := os.ReadDir(w.dir)
	if err != nil {
		return fmt.Errorf("logwriter: %w", err)
	}
	prefix := "old-" + string(w.s) + "-log" // the reference deletes by this prefix
	found := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			found++
			if err := os.Remove(filepath.Join(w.dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("logwriter: %w", err)
			}
		}
	}
	if onlyIfOld && found == 0 {
		return nil
	}
	for i := start; i <= end; i++ {
		err := os.Rename(filepath.Join(w.dir, w.s.FileName(i)), filepath.Join(w.dir, w.s.OldFileName(i)))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("logwriter: %w", err)
		}
	}
	return nil
}

// setActive creates the current file and then points active-K-log.txt at it.
func (w *Writer) setActive() error {
	f, err := os.OpenFile(w.filePath(), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("logwriter: %w", err)
	}
	if w.f != nil {
		w.f.Close()
	}
	w.f = f
	// os.WriteFile truncates and then writes, as Node's fs.writeFile does.
	if err := os.WriteFile(filepath.Join(w.dir, w.s.PointerName()), []byte(w.s.FileName(w.counter)), 0o644); err != nil {
		return fmt.Errorf("logwriter: %w", err)
	}
	return nil
}

// Close closes the current file. The directory stays as a collector would leave it.
func (w *Writer) Close() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
