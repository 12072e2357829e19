package queryapi_test

import (
	"bytes"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"

	"github.com/shardeum/distributor/dbstore/archivegen"
	"github.com/shardeum/distributor/protocol"
	"github.com/shardeum/distributor/queryapi"
)

// TestCachesFollowTheArchiver: the archiver (WAL, its connection open) appends cycles while the same
// requests repeat; every reply shows the rows committed before it, and replies of an unchanged
// archive are byte-identical whether served from the caches or computed.
func TestCachesFollowTheArchiver(t *testing.T) {
	dir := copyArchive(t)
	w, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "receipts.sqlite3")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	cw, _ := sql.Open("sqlite", "file:"+filepath.Join(dir, "cycles.sqlite3")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
	defer cw.Close()
	cw.SetMaxOpenConns(1)

	e := newEnvDir(t, dir)
	nocache := newEnvDir(t, dir, func(o *queryapi.Options) { o.ResponseCacheBytes = -1; o.RowCacheBytes = -1 })
	o := archivegen.Options{}
	for c := 50; c < 55; c++ {
		for round := 0; round < 2; round++ {
			nonce := map[string]any{"count": 3.0, "nonce": float64(round)}
			got := e.post("/receipt", nonce)
			want := nocache.post("/receipt", nonce)
			if !bytes.Equal(got.body, want.body) {
				t.Fatalf("cycle %d: cached reply differs from computed one", c)
			}
			if ids(t, list(t, e.signedReply(got), "receipts"), "receiptId") != short(archivegen.TxID(c-1, 6), archivegen.TxID(c-1, 5), archivegen.TxID(c-1, 4)) {
				t.Fatalf("cycle %d: stale newest receipts", c)
			}
			ci := e.signedReply(e.post("/cycleinfo", map[string]any{"count": 1.0, "nonce": float64(round)}))
			if counters(t, ci)[0] != float64(c-1) {
				t.Fatalf("stale cycle %v", counters(t, ci))
			}
			td := e.signedReply(e.post("/totalData", map[string]any{"nonce": float64(round)}))
			if td["totalReceipts"] != float64(7*c) || td["totalCycles"] != float64(c) {
				t.Fatalf("stale totals %v", td)
			}
		}
		for i := 0; i < 7; i++ {
			if _, err := w.Exec(archivegen.InsertSQL["receipts.sqlite3"], archivegen.Row("receipts.sqlite3", o, c, i)...); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := cw.Exec(archivegen.InsertSQL["cycles.sqlite3"], archivegen.Row("cycles.sqlite3", o, c, 0)...); err != nil {
			t.Fatal(err)
		}
	}
	// A row rewritten in place (same id, new content) shows the new content.
	id := archivegen.TxID(54, 6)
	if _, err := w.Exec("UPDATE receipts SET executionShardKey = 'beef' WHERE receiptId = ?", id); err != nil {
		t.Fatal(err)
	}
	l := list(t, e.signedReply(e.post("/receipt", map[string]any{"count": 3.0})), "receipts")
	if field(t, l[0], "executionShardKey") != "beef" {
		t.Errorf("updated row not seen: %v", field(t, l[0], "executionShardKey"))
	}
}

// TestKeyReload: after a reload changes the key pair, replies are signed with the new one at once
// (§9.10 fixed), cached replies included.
func TestKeyReload(t *testing.T) {
	e := newEnv(t)
	params := map[string]any{"count": 2.0}
	first := e.signedReply(e.post("/cycleinfo", params))
	e.server = signer(t, "stranger")                      // the Signer option reads e.server per request
	second := e.signedReply(e.post("/cycleinfo", params)) // checks owner == the new key
	if len(list(t, first, "cycleInfo")) != 2 || len(list(t, second, "cycleInfo")) != 2 {
		t.Error("payload changed")
	}
	e.server = signer(t, "distributor")
	e.signedReply(e.post("/cycleinfo", params))
}

// TestConcurrentArchiverWrites: requests race the archiver's commits (one transaction per cycle);
// every reply verifies, shows whole cycles only, and totals never go backwards.
func TestConcurrentArchiverWrites(t *testing.T) {
	dir := copyArchive(t)
	w, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "receipts.sqlite3")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	e := newEnvDir(t, dir)
	o := archivegen.Options{}
	const last = 70
	done := make(chan error, 1)
	go func() {
		for c := 50; c <= last; c++ {
			tx, err := w.Begin()
			if err != nil {
				done <- err
				return
			}
			for i := 0; i < 7; i++ {
				if _, err := tx.Exec(archivegen.InsertSQL["receipts.sqlite3"], archivegen.Row("receipts.sqlite3", o, c, i)...); err != nil {
					done <- err
					return
				}
			}
			if err := tx.Commit(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			lastTotal := 0.0
			for k := 0; lastTotal < float64(7*(last+1)); k++ {
				r := e.post("/receipt", map[string]any{"count": 7.0, "nonce": float64(g*100000 + k)})
				if err := protocol.VerifyJSON(e.server.HashKey, r.body); err != nil {
					errs <- err.Error()
					return
				}
				v, _ := protocol.Parse(r.body)
				rows := v.(map[string]any)["receipts"].([]any)
				c0 := rows[0].(map[string]any)["cycle"]
				for _, row := range rows {
					if row.(map[string]any)["cycle"] != c0 {
						errs <- "a reply mixed cycles: a torn read"
						return
					}
				}
				td, _ := protocol.Parse(e.post("/totalData", map[string]any{"nonce": float64(k)}).body)
				total := td.(map[string]any)["totalReceipts"].(float64)
				if total < lastTotal || int(total)%7 != 0 {
					errs <- "totals went backwards or showed half a cycle"
					return
				}
				lastTotal = total
			}
		}(g)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}
