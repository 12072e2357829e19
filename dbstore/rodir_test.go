package dbstore_test

import (
	"context"
	"database/sql"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/shardeum/distributor/dbstore"
)

// TestWALInReadOnlyDirectory: the archiver stopped cleanly (WAL file header, no -wal, no -shm) and
// we may not write the directory, so SQLite cannot create the -shm a read-only WAL reader needs.
// The store must still open and answer (immutable fallback). As root, the check runs in a child
// process of this test binary under uid/gid 65534 (nobody), since root may write anywhere.
func TestWALInReadOnlyDirectory(t *testing.T) {
	if dir := os.Getenv("DBSTORE_RO_DIR"); dir != "" {
		roHelper(t, dir)
		return
	}
	base, err := os.MkdirTemp("", "dbstore-ro-")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { os.Chmod(filepath.Join(base, "db"), 0o755); os.RemoveAll(base) }()
	os.Chmod(base, 0o755)
	dir := filepath.Join(base, "db")
	os.Mkdir(dir, 0o755)
	src := archive(t)
	for _, f := range []string{"cycles.sqlite3", "accounts.sqlite3", "transactions.sqlite3", "receipts.sqlite3", "originalTxsData.sqlite3"} {
		b, _ := os.ReadFile(filepath.Join(src, f))
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
		w, err := sql.Open("sqlite", "file:"+filepath.Join(dir, f)+"?_pragma=journal_mode(WAL)")
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Ping(); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		roHelper(t, dir)
		return
	}
	// Root: run the helper as nobody from a copy of this binary nobody can execute.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "dbstore.test")
	in, _ := os.Open(exe)
	out, _ := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	io.Copy(out, in)
	in.Close()
	out.Close()
	cmd := exec.Command(bin, "-test.run=^TestWALInReadOnlyDirectory$", "-test.v")
	cmd.Env = append(os.Environ(), "DBSTORE_RO_DIR="+dir, "HOME="+base, "GOCOVERDIR=")
	cmd.Dir = base
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	b, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(b), "--- PASS") {
		t.Fatalf("helper as nobody: %v\n%s", err, b)
	}
	t.Logf("helper as nobody:\n%s", b)
}

func roHelper(t *testing.T, dir string) {
	// Plain SQLite cannot read it: this is the case the fallback exists for.
	plain, _ := sql.Open("sqlite", "file:"+filepath.Join(dir, "receipts.sqlite3")+"?mode=ro")
	var n int
	err := plain.QueryRow("SELECT COUNT(*) FROM receipts").Scan(&n)
	plain.Close()
	t.Logf("plain mode=ro read: n=%d err=%v", n, err)

	s, err := dbstore.Open(dir, dbstore.DefaultFiles())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Count(context.Background(), dbstore.Receipts)
	if err != nil || got != 350 {
		t.Fatalf("count %d %v", got, err)
	}
	if _, err := s.DataVersion(context.Background(), dbstore.Receipts); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "receipts.sqlite3-shm")); err == nil {
		t.Error("a -shm appeared in a read-only directory")
	}
}
