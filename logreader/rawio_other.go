//go:build !linux || !(amd64 || arm64)

package logreader

import (
	"errors"
	"io"
	"io/fs"
	"os"
)

// Where the raw system calls are not wired up (see rawio_linux.go), the quiet calls are the
// usual ones.

func preadQuiet(f *os.File, b []byte, off int64) (int, error) {
	n, err := f.ReadAt(b, off)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}

func fstatSizeQuiet(f *os.File) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func missingQuiet(path string) bool {
	_, err := os.Stat(path)
	return errors.Is(err, fs.ErrNotExist)
}
