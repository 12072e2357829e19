package dbstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shardeum/distributor/dbstore"
	"github.com/shardeum/distributor/dbstore/archivegen"
)

// archive copies the repository's generated archive into a fresh directory.
func archive(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range archivegen.FileNames {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "archiver-db", f))
		if err != nil {
			t.Fatalf("testdata missing (run go run ./dbstore/gen): %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func open(t testing.TB, dir string) *dbstore.Store {
	t.Helper()
	s, err := dbstore.Open(dir, dbstore.DefaultFiles())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func col(t *testing.T, r dbstore.Rows, row int, name string) any {
	t.Helper()
	for i, c := range r.Columns {
		if c == name {
			return r.Values[row][i]
		}
	}
	t.Fatalf("no column %q in %v", name, r.Columns)
	return nil
}

func TestCounts(t *testing.T) {
	s := open(t, archive(t))
	ctx := context.Background()
	want := map[dbstore.Table]int64{dbstore.Cycles: 50, dbstore.Accounts: 350, dbstore.Transactions: 350,
		dbstore.Receipts: 350, dbstore.OriginalTxs: 350}
	for tb, n := range want {
		got, err := s.Count(ctx, tb)
		if err != nil || got != n {
			t.Errorf("Count(%s) = %d, %v; want %d", tb, got, err, n)
		}
	}
}

func TestQueries(t *testing.T) {
	s := open(t, archive(t))
	ctx := context.Background()
	o := archivegen.Options{}

	r, err := s.Newest(ctx, dbstore.Cycles, 3)
	if err != nil || r.Len() != 3 {
		t.Fatalf("Newest cycles: %v %v", r.Len(), err)
	}
	if got := col(t, r, 0, "counter"); got != int64(49) {
		t.Errorf("newest cycle counter = %v", got)
	}
	if got := col(t, r, 2, "cycleMarker"); got != archivegen.CycleMarker(47) {
		t.Errorf("third newest marker = %v", got)
	}

	r, err = s.CyclesBetween(ctx, 2.5, 5)
	if err != nil || r.Len() != 3 || col(t, r, 0, "counter") != int64(3) {
		t.Fatalf("CyclesBetween(2.5,5) = %d rows, %v", r.Len(), err)
	}

	r, err = s.Newest(ctx, dbstore.Receipts, 2)
	if err != nil || r.Len() != 2 {
		t.Fatal(r.Len(), err)
	}
	if col(t, r, 0, "receiptId") != archivegen.TxID(49, 6) || col(t, r, 1, "receiptId") != archivegen.TxID(49, 5) {
		t.Errorf("newest receipts order wrong")
	}
	if len(r.Columns) != 11 {
		t.Errorf("receipt columns %v", r.Columns)
	}

	r, err = s.Offset(ctx, dbstore.OriginalTxs, 8, 3)
	if err != nil || r.Len() != 3 || col(t, r, 0, "txId") != archivegen.TxID(1, 1) {
		t.Fatalf("Offset: %d %v", r.Len(), err)
	}
	if col(t, r, 0, "timestamp") != o.Timestamp(1, 1) {
		t.Errorf("timestamp %v", col(t, r, 0, "timestamp"))
	}

	r, err = s.InCycles(ctx, dbstore.Accounts, 3, 4, 5, 100)
	if err != nil || r.Len() != 9 || col(t, r, 0, "accountId") != archivegen.AccountID(3, 5) {
		t.Fatalf("InCycles page: %d %v", r.Len(), err)
	}

	n, err := s.CountInCycles(ctx, dbstore.Transactions, 10, 19)
	if err != nil || n != 70 {
		t.Errorf("CountInCycles = %d, %v", n, err)
	}

	r, err = s.Tally(ctx, dbstore.Receipts, 48, 60)
	if err != nil || r.Len() != 2 || strings.Join(r.Columns, ",") != "cycle,receipts" {
		t.Fatalf("Tally: %v %v %v", r.Columns, r.Len(), err)
	}
	if col(t, r, 1, "cycle") != int64(49) || col(t, r, 1, "receipts") != int64(7) {
		t.Errorf("tally row %v", r.Values[1])
	}
	r, err = s.Tally(ctx, dbstore.OriginalTxs, 0, 0)
	if err != nil || strings.Join(r.Columns, ",") != "cycle,originalTxsData" || r.Len() != 1 {
		t.Errorf("originalTx tally %v %v", r.Columns, err)
	}
	if _, err := s.Tally(ctx, dbstore.Accounts, 0, 1); err == nil {
		t.Error("tally of accounts should be unsupported")
	}

	r, err = s.ByID(ctx, dbstore.Receipts, archivegen.TxID(7, 6))
	if err != nil || r.Len() != 1 {
		t.Fatal(r.Len(), err)
	}
	if col(t, r, 0, "beforeStates") != "" || col(t, r, 0, "appReceiptData") != "null" {
		t.Errorf("special receipt cells: %q %q", col(t, r, 0, "beforeStates"), col(t, r, 0, "appReceiptData"))
	}
	r, _ = s.ByID(ctx, dbstore.Receipts, archivegen.TxID(3, 6))
	if col(t, r, 0, "appReceiptData") != nil || col(t, r, 0, "globalModification") != int64(1) {
		t.Errorf("receipt 3/6 cells")
	}
	r, err = s.ByID(ctx, dbstore.Receipts, strings.Repeat("0", 64))
	if err != nil || r.Len() != 0 {
		t.Errorf("missing id: %d %v", r.Len(), err)
	}
	// A value that would be SQL if spliced stays a value.
	r, err = s.ByID(ctx, dbstore.Accounts, "x' OR '1'='1")
	if err != nil || r.Len() != 0 {
		t.Errorf("injection attempt: %d %v", r.Len(), err)
	}

	r, err = s.TxByAppReceiptID(ctx, archivegen.AppReceiptID(4, 2))
	if err != nil || r.Len() != 1 || col(t, r, 0, "txId") != archivegen.TxID(4, 2) {
		t.Errorf("TxByAppReceiptID: %d %v", r.Len(), err)
	}
	r, _ = s.ByID(ctx, dbstore.Transactions, archivegen.TxID(4, 5))
	if col(t, r, 0, "appReceiptId") != nil {
		t.Errorf("NULL appReceiptId = %v", col(t, r, 0, "appReceiptId"))
	}
}

func TestMissingFile(t *testing.T) {
	dir := archive(t)
	os.Remove(filepath.Join(dir, "receipts.sqlite3"))
	_, err := dbstore.Open(dir, dbstore.DefaultFiles())
	want := "dbstore: ARCHIVER_DATA.receiptDB: " + filepath.Join(dir, "receipts.sqlite3") + ": no such file"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "receipts.sqlite3")); !os.IsNotExist(err) {
		t.Error("Open created the missing file")
	}
}

func TestCustomFileNamesAndRelativeDir(t *testing.T) {
	dir := archive(t)
	os.Rename(filepath.Join(dir, "cycles.sqlite3"), filepath.Join(dir, "my cycles?#.db"))
	files := dbstore.DefaultFiles()
	files.CycleDB = "my cycles?#.db"
	wd, _ := os.Getwd()
	rel, err := filepath.Rel(wd, dir)
	if err != nil {
		t.Skip(err)
	}
	s, err := dbstore.Open(rel, files)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.Count(context.Background(), dbstore.Cycles); n != 50 || err != nil {
		t.Errorf("count %d %v", n, err)
	}
	if s.Path(dbstore.Cycles) != filepath.Join(dir, "my cycles?#.db") {
		t.Errorf("path %s", s.Path(dbstore.Cycles))
	}
}

func TestMissingTableAndColumn(t *testing.T) {
	dir := archive(t)
	p := filepath.Join(dir, "accounts.sqlite3")
	os.Remove(p)
	w, _ := sql.Open("sqlite", p)
	w.Exec("CREATE TABLE other (x)")
	w.Close()
	_, err := dbstore.Open(dir, dbstore.DefaultFiles())
	if err == nil || err.Error() != "dbstore: ARCHIVER_DATA.accountDB: "+p+`: no table "accounts" (is this an archiver database?)` {
		t.Fatalf("err = %v", err)
	}

	os.Remove(p)
	w, _ = sql.Open("sqlite", p)
	w.Exec("CREATE TABLE accounts (accountId TEXT, data JSON, timestamp BIGINT, cycleNumber NUMBER)")
	w.Close()
	_, err = dbstore.Open(dir, dbstore.DefaultFiles())
	if err == nil || !strings.Contains(err.Error(), `ARCHIVER_DATA.accountDB`) || !strings.Contains(err.Error(), "lacks column(s) hash, isGlobal") {
		t.Fatalf("err = %v", err)
	}

	os.WriteFile(p, []byte("this is not a database, just text that is long enough to look like a header......"), 0o644)
	_, err = dbstore.Open(dir, dbstore.DefaultFiles())
	if err == nil || !strings.HasPrefix(err.Error(), "dbstore: ARCHIVER_DATA.accountDB: "+p+": cannot read") {
		t.Fatalf("err = %v", err)
	}
}

// TestReadOnly: queries leave the files byte-identical, create no journal, -wal or -shm next to a
// rollback-journal database, and never switch a database to WAL.
func TestReadOnly(t *testing.T) {
	dir := archive(t)
	sums := map[string][32]byte{}
	for _, f := range archivegen.FileNames {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		sums[f] = sha256.Sum256(b)
		if b[18] != 1 || b[19] != 1 {
			t.Fatalf("%s: generated file not in rollback mode", f)
		}
	}
	s := open(t, dir)
	ctx := context.Background()
	for _, tb := range dbstore.Tables {
		if _, err := s.Newest(ctx, tb, 10); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	ents, _ := os.ReadDir(dir)
	if len(ents) != 5 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("directory now holds %v", names)
	}
	for _, f := range archivegen.FileNames {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		if sha256.Sum256(b) != sums[f] {
			t.Errorf("%s changed", f)
		}
	}
}

func TestCheck(t *testing.T) {
	dir := archive(t)
	s := open(t, dir)
	if !s.Healthy() {
		t.Fatal(s.Check(context.Background()))
	}
	p := filepath.Join(dir, "originalTxsData.sqlite3")
	os.Remove(p)
	err := s.Check(context.Background())
	if err == nil || err.Error() != "dbstore: ARCHIVER_DATA.originalTxDataDB: "+p+": no such file" {
		t.Fatalf("Check = %v", err)
	}
	if s.Healthy() {
		t.Error("Healthy with a file gone")
	}
}

// walArchive is the archive with receipts.sqlite3 switched to WAL, as the archiver runs it, and a
// writer connection that stays open (the archiver).
func walWriter(t *testing.T, dir string) *sql.DB { return walWriterTB(t, dir, "receipts.sqlite3") }

func walWriterTB(t testing.TB, dir, file string) *sql.DB {
	t.Helper()
	w, err := sql.Open("sqlite", "file:"+filepath.Join(dir, file)+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	var mode string
	if err := w.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q %v", mode, err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// TestConcurrentWriter: the archiver inserts receipts (in WAL mode, its own transactions) while
// queries run; every query answers and sees a consistent, growing table.
func TestConcurrentWriter(t *testing.T) {
	dir := archive(t)
	w := walWriter(t, dir)
	s := open(t, dir)
	ctx := context.Background()
	o := archivegen.Options{}

	const extraCycles = 30
	var written atomic.Int64
	done := make(chan error, 1)
	go func() {
		ins := archivegen.InsertSQL["receipts.sqlite3"]
		for c := 50; c < 50+extraCycles; c++ {
			tx, err := w.Begin()
			if err != nil {
				done <- err
				return
			}
			for i := 0; i < 7; i++ {
				if _, err := tx.Exec(ins, archivegen.Row("receipts.sqlite3", o, c, i)...); err != nil {
					tx.Rollback()
					done <- err
					return
				}
			}
			if err := tx.Commit(); err != nil {
				done <- err
				return
			}
			written.Add(7)
		}
		done <- nil
	}()

	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := int64(0)
			for k := 0; ; k++ {
				before := written.Load()
				n, err := s.Count(ctx, dbstore.Receipts)
				if err != nil {
					errs <- err
					return
				}
				if n < last || n < 350+before || n%7 != 0 {
					errs <- fmt.Errorf("count %d after %d (written before: %d)", n, last, before)
					return
				}
				last = n
				r, err := s.Newest(ctx, dbstore.Receipts, 7)
				if err != nil || r.Len() != 7 {
					errs <- fmt.Errorf("newest: %d %v", r.Len(), err)
					return
				}
				if last == 350+7*extraCycles {
					return
				}
			}
		}()
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The store never changed the journal mode, and still answers after the writer is gone.
	w.Close()
	n, err := s.Count(ctx, dbstore.Receipts)
	if err != nil || n != 350+7*extraCycles {
		t.Errorf("final count %d %v", n, err)
	}
}

func TestWALWithoutWriter(t *testing.T) {
	// The archiver stopped cleanly: the file is in WAL mode, no -wal or -shm exists.
	dir := archive(t)
	w := walWriter(t, dir)
	w.Close()
	for _, ext := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(filepath.Join(dir, "receipts.sqlite3"+ext)); err == nil {
			t.Fatalf("%s left behind by a clean close", ext)
		}
	}
	s := open(t, dir)
	if n, err := s.Count(context.Background(), dbstore.Receipts); n != 350 || err != nil {
		t.Fatalf("count %d %v", n, err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "receipts.sqlite3"))
	if b[18] != 2 || b[19] != 2 {
		t.Errorf("journal mode bytes changed: %d %d", b[18], b[19])
	}
}

func TestGeneratorDeterministic(t *testing.T) {
	dir := t.TempDir()
	if err := archivegen.Generate(dir, archivegen.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range archivegen.FileNames {
		got, _ := os.ReadFile(filepath.Join(dir, f))
		want, _ := os.ReadFile(filepath.Join("..", "testdata", "archiver-db", f))
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from testdata/archiver-db (regenerate: go run ./dbstore/gen)", f)
		}
	}
}

func TestNilStore(t *testing.T) {
	var s *dbstore.Store
	ctx := context.Background()
	if _, err := s.Newest(ctx, dbstore.Receipts, 1); err != dbstore.ErrNoStore {
		t.Errorf("Newest: %v", err)
	}
	if _, err := s.Count(ctx, dbstore.Cycles); err != dbstore.ErrNoStore {
		t.Errorf("Count: %v", err)
	}
	if _, err := s.DataVersion(ctx, dbstore.Cycles); err != dbstore.ErrNoStore {
		t.Errorf("DataVersion: %v", err)
	}
	if s.Healthy() || s.Check(ctx) != dbstore.ErrNoStore || s.Close() != nil || s.Path(dbstore.Cycles) != "" {
		t.Error("nil store methods")
	}
}
