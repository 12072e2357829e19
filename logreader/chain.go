package logreader

import (
	"errors"
	"io/fs"
	"os"
	"strings"
)

// fileRef is one data file of a stream as found on disk.
type fileRef struct {
	num  int
	old  bool // found as old-K-logN.txt
	path string
	fi   os.FileInfo // from stat: its identity (dev, inode) tells generations apart
}

// readPointer returns the file number active-K-log.txt names. ok is false when the pointer is
// missing, empty or half-rewritten (the writer truncates then writes it); err is set only for
// errors other than "does not exist" (permissions, I/O).
func readPointer(dir string, s Stream) (n int, ok bool, err error) {
	b, err := os.ReadFile(s.pathPointer(dir))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, false, nil
		}
		return 0, false, err
	}
	n = s.ParseFileName(strings.TrimSpace(string(b)))
	return n, n > 0, nil
}

// chain lists the stream's files on disk from oldest to newest, given the file number the
// pointer names. It relies on how the archiver's DataLogWriter rotates (see doc.go):
//
//   - every K-logN.txt is created fresh: before a number is reused its previous file is
//     renamed to old-K-logN.txt, and earlier old- files are deleted;
//   - so walking back from the active file through K-logN.txt, N-1, ... (wrapping at
//     maxFiles) visits the newest files, newest first, until a number is missing; the walk
//     then continues through old-K-logN.txt files, which are all older.
//
// The walk stays right while renames are in flight: each number is looked up as K-logN.txt
// before old-K-logN.txt, and a rename is atomic. If the pointer names a file not created yet,
// the walk starts before it; if it names one set aside as old- since (a reader that found the
// pointer mid-rewrite walks from the last one it read), the walk starts there, among the old-
// files.
//
// The walk stays right while files are created, too. The writer creates K-logN.txt before it
// rewrites the pointer and goes on writing while the reader walks, so files newer than the
// pointer's can be on disk. When maxFiles is unknown, the top the walk wraps to from 1 is the
// directory's highest number, learned when the walk gets to 1; so before the first wrap-around
// (and with maxFiles known, when the writer reaches it during the walk) the walk wraps into
// those newer files and goes down through them back to the file it started from. A walk that
// comes back to its first file has therefore listed, after its wrap, files newer than that
// file, and keeps only what it listed before the wrap; the next look finds the newer files, in
// order. Older files never lead back to the first file: the writer renames a number's file to
// old- before it reuses the number, so a walk through older files has turned to old- names
// before it comes back to the first file's number, and finds another file there, or none. Any
// other file found again (renamed to old- during the walk) just ends the walk.
//
// maxFiles is where numbers wrap; 0 means unknown: the highest number found in the directory
// is used (after one full round, file maxFiles or old-maxFiles is always there when needed).
// wrapSeen is a wrap point learned earlier, used when higher than the directory's highest.
func chain(dir string, s Stream, active, maxFiles, wrapSeen int) []fileRef {
	prev := func(n int) int {
		if n > 1 {
			return n - 1
		}
		if maxFiles == 0 {
			maxFiles = max(highestFile(dir, s), wrapSeen)
		}
		return max(maxFiles, 1)
	}
	var rev []fileRef
	seen := func(fi os.FileInfo) bool {
		for _, r := range rev {
			if os.SameFile(r.fi, fi) {
				return true
			}
		}
		return false
	}
	n := active
	old := false
	wrapped := -1 // len(rev) when the walk, having listed a file, wrapped from 1 to the top
	for steps := 0; steps < 2*max(maxFiles, active, 10)+1; steps++ {
		p := s.path(dir, n, old)
		fi, err := os.Stat(p)
		if err != nil && !old {
			old = true
			p = s.path(dir, n, true)
			fi, err = os.Stat(p)
			if err != nil && steps == 0 {
				// The pointer may name a file about to be created: look before it.
				old = false
				n = prev(n)
				continue
			}
		}
		if err != nil || !fi.Mode().IsRegular() {
			break
		}
		if seen(fi) {
			if wrapped >= 0 && os.SameFile(rev[0].fi, fi) {
				// All the way round: what came after the wrap is newer than the start.
				rev = rev[:wrapped]
			}
			break
		}
		rev = append(rev, fileRef{num: n, old: old, path: p, fi: fi})
		if n == 1 && wrapped < 0 {
			wrapped = len(rev)
		}
		n = prev(n)
	}
	out := make([]fileRef, len(rev))
	for i, r := range rev {
		out[len(rev)-1-i] = r
	}
	return out
}

// indexOf returns the index in c of the file fi describes, or -1.
func indexOf(c []fileRef, fi os.FileInfo) int {
	for i, r := range c {
		if os.SameFile(r.fi, fi) {
			return i
		}
	}
	return -1
}

// highestFile returns the highest N of K-logN.txt or old-K-logN.txt in dir (0 if none).
func highestFile(dir string, s Stream) int {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	hi := 0
	for _, e := range ents {
		if n := s.ParseFileName(strings.TrimPrefix(e.Name(), "old-")); n > hi {
			hi = n
		}
	}
	return hi
}

// Files lists the files of stream s in dir, oldest first (old- files included), as a reader
// with Start Oldest would read them. maxFiles 0 learns the wrap point from the directory.
func Files(dir string, s Stream, maxFiles int) ([]string, error) {
	n, ok, err := readPointer(dir, s)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	var paths []string
	for _, f := range chain(dir, s, n, maxFiles, 0) {
		paths = append(paths, f.path)
	}
	return paths, nil
}
