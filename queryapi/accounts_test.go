package queryapi_test

import (
	"strings"
	"testing"

	"github.com/shardeum/distributor/dbstore/archivegen"
)

func TestAccountsAndTransactions(t *testing.T) {
	e := newEnv(t)
	type route struct {
		path, key, totalKey, idKey, what string
		id                               func(c, i int) string
	}
	for _, rt := range []route{
		{"/account", "accounts", "totalAccounts", "accountId", "accounts", archivegen.AccountID},
		{"/transaction", "transactions", "totalTransactions", "txId", "transactions", archivegen.TxID},
	} {
		t.Run(rt.key, func(t *testing.T) {
			reply := func(params map[string]any) map[string]any {
				t.Helper()
				return e.signedReply(e.post(rt.path, params))
			}
			check := func(params map[string]any, want string) {
				t.Helper()
				if got := ids(t, list(t, reply(params), rt.key), rt.idKey); got != want {
					t.Errorf("%v: got %s want %s", params, got, want)
				}
			}
			fail := func(params map[string]any, msg string) {
				t.Helper()
				e.errorReply(e.post(rt.path, params), msg)
			}
			// count: §9.2 fixed, a signed list, newest first
			check(map[string]any{"count": 2.0}, short(rt.id(49, 6), rt.id(49, 5)))
			fail(map[string]any{"count": -1.0}, "Invalid count")
			fail(map[string]any{"count": 1001.0}, "Max count is 1000")
			if n := len(list(t, reply(map[string]any{"count": 1000.0}), rt.key)); n != 350 {
				t.Errorf("count 1000: %d", n)
			}
			// start/end
			check(map[string]any{"start": 7.0, "end": 8.0}, short(rt.id(1, 0), rt.id(1, 1)))
			check(map[string]any{"start": 7.0}, short(rt.id(1, 0)))
			fail(map[string]any{"start": 3.0, "end": 1.0}, "Invalid start and end counters")
			fail(map[string]any{"start": 0.0, "end": 1001.0}, "Exceed maximum limit of 1000 "+rt.what)
			if l := list(t, reply(map[string]any{"start": 0.5}), rt.key); len(l) != 0 {
				t.Errorf("fractional start: %d rows", len(l))
			}
			// startCycle: total, with a page the rows too
			m := reply(map[string]any{"startCycle": 10.0, "endCycle": 19.0})
			if m[rt.totalKey] != 70.0 || len(m) != 1 {
				t.Errorf("total: %v", m)
			}
			m = reply(map[string]any{"startCycle": 10.0, "endCycle": 11.0, "page": 1.0})
			if m[rt.totalKey] != 14.0 || ids(t, list(t, m, rt.key), rt.idKey)[:13] != short(rt.id(10, 0), rt.id(10, 1)) {
				t.Errorf("page: %v", m[rt.totalKey])
			}
			m = reply(map[string]any{"startCycle": 10.0, "endCycle": 11.0, "page": 2.0})
			if m[rt.totalKey] != 14.0 || len(list(t, m, rt.key)) != 0 {
				t.Errorf("page 2: %v", m)
			}
			fail(map[string]any{"startCycle": 10.0, "page": 0.5}, "Invalid page number")
			fail(map[string]any{"startCycle": 10.0, "endCycle": 9.0}, "Invalid startCycle and endCycle counters")
			fail(map[string]any{"startCycle": 0.0, "endCycle": 101.0}, "Exceed maximum limit of 100 cycles to query "+rt.what+" Count")
			// by id
			check(map[string]any{rt.idKey: rt.id(20, 3)}, short(rt.id(20, 3)))
			check(map[string]any{rt.idKey: "nope"}, "") // no length check on these routes
			// nothing: unsigned, with the reference's wording on both routes
			r := e.post(rt.path, map[string]any{})
			if string(r.body) != `{"error":"not specified which account to show","success":false}` {
				t.Errorf("no selector: %s", r.body)
			}
		})
	}

	t.Run("account cells", func(t *testing.T) {
		l := list(t, e.signedReply(e.post("/account", map[string]any{"accountId": archivegen.AccountID(0, 0)})), "accounts")
		a := l[0].(map[string]any)
		if a["isGlobal"] != 1.0 || a["cycleNumber"] != 0.0 || field(t, a, "data", "accountId") != archivegen.AccountID(0, 0) {
			t.Errorf("account %v", a)
		}
	})
	t.Run("appReceiptId (§9.3 fixed)", func(t *testing.T) {
		l := list(t, e.signedReply(e.post("/transaction", map[string]any{"appReceiptId": archivegen.AppReceiptID(8, 1)})), "transactions")
		if len(l) != 1 || field(t, l[0], "txId") != archivegen.TxID(8, 1) || field(t, l[0], "appReceiptId") != archivegen.AppReceiptID(8, 1) {
			t.Fatalf("%v", l)
		}
		l = list(t, e.signedReply(e.post("/transaction", map[string]any{"appReceiptId": strings.Repeat("f", 64)})), "transactions")
		if len(l) != 0 {
			t.Error("unknown appReceiptId found")
		}
		l = list(t, e.signedReply(e.post("/transaction", map[string]any{"txId": archivegen.TxID(8, 5)})), "transactions")
		if _, ok := l[0].(map[string]any)["appReceiptId"]; !ok || field(t, l[0], "appReceiptId") != nil {
			t.Error("NULL appReceiptId should be null")
		}
		// txId wins over appReceiptId
		l = list(t, e.signedReply(e.post("/transaction", map[string]any{"txId": archivegen.TxID(1, 1), "appReceiptId": archivegen.AppReceiptID(8, 1)})), "transactions")
		if field(t, l[0], "txId") != archivegen.TxID(1, 1) {
			t.Error("precedence")
		}
	})
}

func TestTotalData(t *testing.T) {
	e := newEnv(t)
	m := e.signedReply(e.post("/totalData", map[string]any{"extra": "fields are signed and accepted"}))
	want := map[string]float64{"totalCycles": 50, "totalAccounts": 350, "totalTransactions": 350, "totalReceipts": 350, "totalOriginalTxs": 350}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v", k, m[k])
		}
	}
	if pid, ok := m["pid"].(float64); !ok || pid <= 0 {
		t.Errorf("pid %v", m["pid"])
	}
}
