package queryapi_test

import (
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardeum/distributor/dbstore/archivegen"
	"github.com/shardeum/distributor/protocol"
	"github.com/shardeum/distributor/queryapi"
)

// exec runs SQL on one of the env's files through a read-write connection: the archiver, or
// whatever breaks its files.
func (e *env) exec(file, stmt string, args ...any) {
	e.t.Helper()
	w, err := sql.Open("sqlite", "file:"+filepath.Join(e.dir, file)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		e.t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Exec(stmt, args...); err != nil {
		e.t.Fatal(err)
	}
}

func is500(t *testing.T, r resp) {
	t.Helper()
	if r.status != 500 || !strings.HasPrefix(string(r.body), `{"statusCode":500,"error":"Internal Server Error","message":"`) {
		t.Errorf("want 500, got %d %s", r.status, r.body)
	}
}

// TestErrorFallbacks: with a table gone after start, each query answers the reference's fallback
// (rest-api.md §5), and the process keeps serving.
func TestErrorFallbacks(t *testing.T) {
	e := newEnv(t)
	e.exec("originalTxsData.sqlite3", "DROP TABLE originalTxsData")
	e.exec("receipts.sqlite3", "DROP TABLE receipts")
	e.exec("accounts.sqlite3", "DROP TABLE accounts")
	e.exec("cycles.sqlite3", "DROP TABLE cycles")
	tx := archivegen.TxID(1, 1)

	emptyList := func(path, key string, params map[string]any) {
		t.Helper()
		m := e.signedReply(e.post(path, params))
		if l := list(t, m, key); len(l) != 0 || len(m) != 1 {
			t.Errorf("%s %v: %v", path, params, m)
		}
	}
	// originalTx: newest and by-id give []; lists lose their key; tally, count: 500.
	emptyList("/originalTx", "originalTxs", map[string]any{"count": 5.0})
	emptyList("/originalTx", "originalTxs", map[string]any{"txId": tx})
	emptyList("/originalTx", "originalTxs", map[string]any{"txIdList": `["` + tx + `"]`})
	for _, p := range []map[string]any{{"start": 0.0, "end": 3.0}, {"startCycle": 1.0, "endCycle": 2.0}} {
		if m := e.signedReply(e.post("/originalTx", p)); len(m) != 0 {
			t.Errorf("originalTx list %v: %v, want only sign", p, m)
		}
	}
	is500(t, e.post("/originalTx", map[string]any{"startCycle": 1.0, "type": "tally"}))
	is500(t, e.post("/originalTx", map[string]any{"startCycle": 1.0, "type": "count"}))
	is500(t, e.post("/totalData", nil))

	// receipts: lists [], count 0, tally 500.
	emptyList("/receipt", "receipts", map[string]any{"count": 5.0})
	emptyList("/receipt", "receipts", map[string]any{"start": 0.0, "end": 3.0})
	emptyList("/receipt", "receipts", map[string]any{"startCycle": 1.0, "endCycle": 2.0})
	if m := e.signedReply(e.post("/receipt", map[string]any{"startCycle": 1.0, "type": "count"})); m["receipts"] != 0.0 {
		t.Errorf("receipt count: %v", m)
	}
	is500(t, e.post("/receipt", map[string]any{"startCycle": 1.0, "type": "tally"}))

	// accounts: lists [], totals 0.
	emptyList("/account", "accounts", map[string]any{"count": 5.0})
	emptyList("/account", "accounts", map[string]any{"start": 0.0})
	emptyList("/account", "accounts", map[string]any{"accountId": "x"})
	m := e.signedReply(e.post("/account", map[string]any{"startCycle": 1.0, "page": 1.0}))
	if m["totalAccounts"] != 0.0 || len(list(t, m, "accounts")) != 0 {
		t.Errorf("account page: %v", m)
	}
	emptyList("/cycleinfo", "cycleInfo", map[string]any{"count": 5.0})
	emptyList("/cycleinfo", "cycleInfo", map[string]any{"start": 1.0})

	// transactions are intact, and so is the server.
	if l := list(t, e.signedReply(e.post("/transaction", map[string]any{"txId": tx})), "transactions"); len(l) != 1 {
		t.Errorf("transactions: %v", l)
	}
	if err := e.store.Check(t.Context()); err == nil || !strings.Contains(err.Error(), "ARCHIVER_DATA.receiptDB") {
		t.Errorf("Check: %v", err)
	}
}

// TestDecodeFailure: a JSON cell that does not parse. Newest-N and by-id answer []; offset and cycle
// lists answer the partly decoded list (rows before the bad one decoded, the bad row up to its bad
// column, later rows raw), as the reference's helpers leave it.
func TestDecodeFailure(t *testing.T) {
	e := newEnv(t)
	bad := archivegen.TxID(0, 1)
	e.exec("receipts.sqlite3", "UPDATE receipts SET signedReceipt = '{broken' WHERE receiptId = ?", bad)

	if l := list(t, e.signedReply(e.post("/receipt", map[string]any{"txId": bad})), "receipts"); len(l) != 0 {
		t.Errorf("by id: %v", l)
	}
	l := list(t, e.signedReply(e.post("/receipt", map[string]any{"start": 0.0, "end": 2.0})), "receipts")
	if len(l) != 3 {
		t.Fatalf("%d rows", len(l))
	}
	if _, ok := field(t, l[0], "tx").(map[string]any); !ok || field(t, l[0], "globalModification") != false {
		t.Error("row before the failure not decoded")
	}
	if _, ok := field(t, l[1], "tx").(map[string]any); !ok {
		t.Error("bad row: columns before the bad one should be decoded")
	}
	if field(t, l[1], "signedReceipt") != "{broken" {
		t.Errorf("bad cell: %v", field(t, l[1], "signedReceipt"))
	}
	if _, ok := field(t, l[1], "appReceiptData").(string); !ok {
		t.Error("bad row: columns after the bad one should stay raw")
	}
	if _, ok := field(t, l[2], "tx").(string); !ok || field(t, l[2], "globalModification") != 0.0 {
		t.Error("row after the failure should stay raw")
	}
	// The fallback is not cached: once repaired, the row decodes.
	e.exec("receipts.sqlite3", "UPDATE receipts SET signedReceipt = '{}' WHERE receiptId = ?", bad)
	l = list(t, e.signedReply(e.post("/receipt", map[string]any{"start": 0.0, "end": 2.0})), "receipts")
	if _, ok := field(t, l[2], "tx").(map[string]any); !ok {
		t.Error("still the partial list after repair")
	}
	if l := list(t, e.signedReply(e.post("/receipt", map[string]any{"count": 100.0})), "receipts"); len(l) != 100 {
		t.Errorf("newest: %d", len(l))
	}
}

// TestNoStore: the parent starts without an archive (Store nil); the data routes answer their
// fallbacks, never a panic.
func TestNoStore(t *testing.T) {
	e := newEnv(t)
	e.api = queryapi.New(queryapi.Options{Signer: func() protocol.Signer { return e.server },
		Auth: func() protocol.Auth { return e.auth }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e.srv.Config.Handler = e.api
	if l := list(t, e.signedReply(e.post("/receipt", map[string]any{"count": 3.0})), "receipts"); len(l) != 0 {
		t.Errorf("receipts %v", l)
	}
	if m := e.signedReply(e.post("/account", map[string]any{"startCycle": 1.0})); m["totalAccounts"] != 0.0 {
		t.Errorf("account %v", m)
	}
	is500(t, e.post("/totalData", nil))
	if r := e.do("GET", "/metrics", "", nil); r.status != 200 || !strings.Contains(string(r.body), `"count":0`) {
		t.Errorf("metrics %d %s", r.status, r.body)
	}
}
