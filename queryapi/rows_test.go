package queryapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/shardeum/distributor/dbstore/archivegen"
	"github.com/shardeum/distributor/protocol"
)

type rowsCase struct {
	route, key, idKey, what string
}

var rowRoutes = []rowsCase{
	{"/receipt", "receipts", "receiptId", "receipts"},
	{"/originalTx", "originalTxs", "txId", "original transactions"},
}

func TestRowsRoutes(t *testing.T) {
	e := newEnv(t)
	tx := archivegen.TxID
	for _, rc := range rowRoutes {
		t.Run(rc.key, func(t *testing.T) {
			get := func(params map[string]any) []any {
				t.Helper()
				return list(t, e.signedReply(e.post(rc.route, params)), rc.key)
			}
			check := func(params map[string]any, want string) {
				t.Helper()
				if got := ids(t, get(params), rc.idKey); got != want {
					t.Errorf("%v: got %s\nwant %s", params, got, want)
				}
			}
			fail := func(params map[string]any, msg string) {
				t.Helper()
				e.errorReply(e.post(rc.route, params), msg)
			}
			// count
			check(map[string]any{"count": 2.0}, short(tx(49, 6), tx(49, 5)))
			fail(map[string]any{"count": -3.0}, "Invalid count")
			fail(map[string]any{"count": 101.0}, "Max count is 100")
			check(map[string]any{"count": 2.5}, "")
			if n := len(get(map[string]any{"count": 100.0})); n != 100 {
				t.Errorf("count 100: %d rows", n)
			}
			// txId
			check(map[string]any{"txId": tx(12, 3)}, short(tx(12, 3)))
			check(map[string]any{"txId": strings.Repeat("ab", 32)}, "")
			fail(map[string]any{"txId": "abc"}, "Invalid txId abc")
			fail(map[string]any{"txId": strings.Repeat("é", 63)}, "Invalid txId "+strings.Repeat("é", 63))
			check(map[string]any{"count": 0.0, "txId": tx(1, 1), "start": 0.0}, short(tx(1, 1)))
			// txIdList
			lst, _ := json.Marshal([]string{tx(5, 5), strings.Repeat("0", 64), tx(2, 0), tx(5, 5)})
			check(map[string]any{"txIdList": string(lst)}, short(tx(5, 5), tx(2, 0), tx(5, 5)))
			check(map[string]any{"txIdList": "[]"}, "")
			fail(map[string]any{"txIdList": "[oops"}, "Invalid txIdList [oops")
			long := make([]string, 101)
			for i := range long {
				long[i] = tx(0, 0)
			}
			lst, _ = json.Marshal(long)
			fail(map[string]any{"txIdList": string(lst)}, "Exceed maximum limit of 100 "+rc.what)
			fail(map[string]any{"txIdList": `["` + tx(1, 1) + `",5]`}, "Invalid txId 5 in the List")
			fail(map[string]any{"txIdList": `["short"]`}, "Invalid txId short in the List")
			fail(map[string]any{"txIdList": `[{"a":1}]`}, "Invalid txId [object Object] in the List")
			fail(map[string]any{"txIdList": `"abc"`}, "Invalid txId a in the List")
			for _, bad := range []string{"5", "null", `{"a":1}`, "true"} {
				r := e.post(rc.route, map[string]any{"txIdList": bad})
				if r.status != 500 || !strings.HasPrefix(string(r.body), `{"statusCode":500,"error":"Internal Server Error","message":`) {
					t.Errorf("txIdList %s: %d %s", bad, r.status, r.body)
				}
			}
			// start/end: 0-based offsets, both inclusive, ascending
			check(map[string]any{"start": 0.0, "end": 2.0}, short(tx(0, 0), tx(0, 1), tx(0, 2)))
			check(map[string]any{"start": 8.0}, short(tx(1, 1)))
			check(map[string]any{"start": 8.0, "end": 0.0}, short(tx(1, 1)))
			fail(map[string]any{"start": 5.0, "end": 4.0}, "Invalid start and end counters")
			fail(map[string]any{"start": -1.0}, "Invalid start and end counters")
			fail(map[string]any{"start": 0.0, "end": 101.0}, "Exceed maximum limit of 100 "+rc.what)
			if n := len(get(map[string]any{"start": 0.0, "end": 100.0})); n != 101 {
				t.Errorf("start 0 end 100: %d rows", n)
			}
			// A fractional offset fails in SQLite in the reference: receipts [], originalTxs no key.
			m := e.signedReply(e.post(rc.route, map[string]any{"start": 1.5, "end": 3.0}))
			if rc.key == "receipts" {
				if l := list(t, m, rc.key); len(l) != 0 {
					t.Errorf("fractional start: %v", l)
				}
			} else if len(m) != 0 {
				t.Errorf("fractional start: %v, want {sign} only", m)
			}
			// startCycle/endCycle pages
			check(map[string]any{"startCycle": 3.0, "endCycle": 4.0}, short(tx(3, 0), tx(3, 1), tx(3, 2), tx(3, 3), tx(3, 4), tx(3, 5), tx(3, 6),
				tx(4, 0), tx(4, 1), tx(4, 2), tx(4, 3), tx(4, 4), tx(4, 5), tx(4, 6)))
			check(map[string]any{"startCycle": 49.0}, short(tx(49, 0), tx(49, 1), tx(49, 2), tx(49, 3), tx(49, 4), tx(49, 5), tx(49, 6)))
			p1 := get(map[string]any{"startCycle": 3.0, "endCycle": 30.0, "page": 1.0})
			p2 := get(map[string]any{"startCycle": 3.0, "endCycle": 30.0, "page": 2.0})
			if len(p1) != 100 || len(p2) != 96 || field(t, p2[0], rc.idKey) != tx(3+100/7, 100%7) {
				t.Errorf("pages: %d, %d", len(p1), len(p2))
			}
			p0 := get(map[string]any{"startCycle": 3.0, "endCycle": 30.0, "page": 0.0})
			if ids(t, p0, rc.idKey) != ids(t, p1, rc.idKey) {
				t.Error("page 0 is not page 1")
			}
			half := get(map[string]any{"startCycle": 3.0, "endCycle": 30.0, "page": 1.5}) // OFFSET 50
			if len(half) != 100 || field(t, half[0], rc.idKey) != tx(3+50/7, 50%7) {
				t.Errorf("page 1.5: %d rows", len(half))
			}
			fail(map[string]any{"startCycle": 3.0, "endCycle": 30.0, "page": 0.5}, "Invalid page number")
			fail(map[string]any{"startCycle": 3.0, "endCycle": 30.0, "page": -2.0}, "Invalid page number")
			fail(map[string]any{"startCycle": 5.0, "endCycle": 4.0}, "Invalid startCycle and endCycle counters")
			fail(map[string]any{"startCycle": -5.0}, "Invalid startCycle and endCycle counters")
			fail(map[string]any{"startCycle": 0.0, "endCycle": 101.0}, "Exceed maximum limit of 100 cycles")
			check(map[string]any{"startCycle": 2.5, "endCycle": 3.0}, short(tx(3, 0), tx(3, 1), tx(3, 2), tx(3, 3), tx(3, 4), tx(3, 5), tx(3, 6)))
			// tally and count
			countKey := map[string]string{"receipts": "receipts", "originalTxs": "originalTxsData"}[rc.key]
			tally := get(map[string]any{"startCycle": 48.0, "endCycle": 100.0, "type": "tally"})
			if len(tally) != 2 || field(t, tally[0], "cycle") != 48.0 || field(t, tally[1], countKey) != 7.0 {
				t.Errorf("tally %v", tally)
			}
			m = e.signedReply(e.post(rc.route, map[string]any{"startCycle": 10.0, "endCycle": 19.0, "type": "count"}))
			if m[rc.key] != 70.0 {
				t.Errorf("count: %v", m)
			}
			// §9.4 fixed: startCycle 0 counts the range, not the table.
			m = e.signedReply(e.post(rc.route, map[string]any{"startCycle": 0.0, "endCycle": 1.0, "type": "count"}))
			if m[rc.key] != 14.0 {
				t.Errorf("count from cycle 0: %v", m)
			}
			// no selector: signed empty list
			if l := get(map[string]any{"type": "tally", "page": 3.0}); len(l) != 0 {
				t.Errorf("no selector: %v", l)
			}
		})
	}
}

// TestReceiptDecoding: JSON cells decoded (bi, bb, u8ab kept), numbers as numbers, globalModification
// as a boolean, "" and NULL left, "null" decoded to null (rest-api.md §5).
func TestReceiptDecoding(t *testing.T) {
	e := newEnv(t)
	tx := archivegen.TxID
	one := func(id string) map[string]any {
		l := list(t, e.signedReply(e.post("/receipt", map[string]any{"txId": id})), "receipts")
		if len(l) != 1 {
			t.Fatalf("%d rows", len(l))
		}
		return l[0].(map[string]any)
	}
	r := one(tx(7, 6))
	if r["beforeStates"] != "" || r["appReceiptData"] != nil || r["globalModification"] != false {
		t.Errorf("7/6: %q %v %v", r["beforeStates"], r["appReceiptData"], r["globalModification"])
	}
	if _, ok := r["appReceiptData"]; !ok {
		t.Error("appReceiptData key missing")
	}
	r = one(tx(3, 6))
	if r["appReceiptData"] != nil || r["globalModification"] != true {
		t.Errorf("3/6: %v %v", r["appReceiptData"], r["globalModification"])
	}
	r = one(tx(2, 2))
	if r["cycle"] != 2.0 || r["timestamp"] != float64(archivegen.Options{}.Timestamp(2, 2)) || r["executionShardKey"] == "" {
		t.Errorf("plain columns: %v %v", r["cycle"], r["timestamp"])
	}
	bal := field(t, r, "afterStates")
	st := bal.([]any)[0]
	if _, ok := field(t, st, "data", "account", "balance").(protocol.BigInt); !ok {
		t.Errorf("balance is %T", field(t, st, "data", "account", "balance"))
	}
	if b, ok := field(t, st, "data", "account", "codeHash").(protocol.Bytes); !ok || b.Uint8Array || len(b.Data) != 32 {
		t.Errorf("codeHash is %#v", field(t, st, "data", "account", "codeHash"))
	}
	if field(t, r, "tx", "txId") != tx(2, 2) || field(t, r, "signedReceipt", "proposal", "applied") != true {
		t.Error("tx / signedReceipt not decoded")
	}
	for _, k := range []string{"receiptId", "tx", "cycle", "applyTimestamp", "timestamp", "signedReceipt", "afterStates",
		"beforeStates", "appReceiptData", "executionShardKey", "globalModification"} {
		if _, ok := r[k]; !ok {
			t.Errorf("column %s missing", k)
		}
	}
	// originalTx
	l := list(t, e.signedReply(e.post("/originalTx", map[string]any{"txId": tx(4, 4)})), "originalTxs")
	if field(t, l[0], "originalTxData", "timestampReceipt", "cycleCounter") != 4.0 {
		t.Errorf("originalTxData %v", l[0])
	}
}
