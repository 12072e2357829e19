package logreader

import (
	"os"
	"path/filepath"
	"testing"
)

// The quiet calls read, size and look up files as their usual counterparts do.
func TestQuietCalls(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	if n, err := preadQuiet(f, b, 3); n != 4 || err != nil || string(b) != "3456" {
		t.Errorf("preadQuiet at 3 = %d %q %v, want 4 \"3456\" nil", n, b[:n], err)
	}
	if n, err := preadQuiet(f, b, 8); n != 2 || err != nil || string(b[:n]) != "89" {
		t.Errorf("preadQuiet at 8 = %d %q %v, want 2 \"89\" nil", n, b[:n], err)
	}
	if n, err := preadQuiet(f, b, 10); n != 0 || err != nil {
		t.Errorf("preadQuiet at the end = %d %v, want 0 nil", n, err)
	}
	if size, err := fstatSizeQuiet(f); size != 10 || err != nil {
		t.Errorf("fstatSizeQuiet = %d %v, want 10 nil", size, err)
	}
	if missingQuiet(path) || !missingQuiet(filepath.Join(dir, "nothing")) {
		t.Errorf("missingQuiet: %v for a file, %v for none; want false, true", missingQuiet(path), missingQuiet(filepath.Join(dir, "nothing")))
	}
	f.Close()
	if _, err := preadQuiet(f, b, 0); err == nil {
		t.Error("preadQuiet of a closed file succeeded")
	}
	if _, err := fstatSizeQuiet(f); err == nil {
		t.Error("fstatSizeQuiet of a closed file succeeded")
	}
}
