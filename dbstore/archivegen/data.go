package archivegen

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
)

// Options sizes the archive. The zero value means 50 cycles of 7 transactions.
type Options struct {
	Cycles     int   // cycles 0..Cycles-1
	TxPerCycle int   // receipts, original txs, transactions and accounts per cycle
	Start      int64 // Unix seconds of cycle 0; default 1700000000
}

func (o Options) norm() Options {
	if o.Cycles <= 0 {
		o.Cycles = 50
	}
	if o.TxPerCycle <= 0 {
		o.TxPerCycle = 7
	}
	if o.Start == 0 {
		o.Start = 1700000000
	}
	return o
}

// CycleDuration is the length of a generated cycle in seconds.
const CycleDuration = 60

func h(parts ...any) []byte {
	s := sha256.Sum256([]byte(fmt.Sprint(parts...)))
	return s[:]
}

func hx(parts ...any) string { return hex.EncodeToString(h(parts...)) }

// TxID is the txId (and receiptId) of transaction i of cycle c: 64 hex characters.
func TxID(c, i int) string { return hx("tx", c, i) }

// AccountID is the accountId of account i of cycle c.
func AccountID(c, i int) string { return hx("account", c, i) }

// AppReceiptID is the appReceiptId of transaction i of cycle c ("" for the NULL ones: i == 5).
func AppReceiptID(c, i int) string {
	if i == 5 {
		return ""
	}
	return hx("appReceipt", c, i)
}

// CycleMarker is the cycleMarker of cycle c.
func CycleMarker(c int) string { return hx("cycle", c) }

// Timestamp is the ms timestamp of transaction i of cycle c.
func (o Options) Timestamp(c, i int) int64 {
	o = o.norm()
	return (o.Start+int64(c)*CycleDuration)*1000 + int64(i)*1500 + int64(h("ts", c, i)[0])
}

func addr(parts ...any) string { return "0x" + hx(parts...)[:40] }

func wei(c, i int) bi {
	n := uint64(1_000_000_000_000_000) * uint64(1+(c*7+i)%97)
	return bi(strconv.FormatUint(n+uint64(h("wei", c, i)[1]), 16))
}

// Special cells, so decoding is exercised (rest-api.md §5):
//   - receipt (c%10==7, i==6): beforeStates "" (falsy, left as is), appReceiptData "null" (decodes to null)
//   - receipt (c%10==3, i==6): appReceiptData NULL, globalModification 1
//   - account (c==0, i==0): isGlobal 1
//   - transaction i==5: appReceiptId NULL

func cycleRecord(o Options, c int) obj {
	prev := "0000000000000000000000000000000000000000000000000000000000000000"
	if c > 0 {
		prev = CycleMarker(c - 1)
	}
	return obj{
		"activated": []any{}, "activatedPublicKeys": []any{}, "active": 10 + c%3, "apoptosized": []any{},
		"counter": c, "desired": 128, "duration": CycleDuration, "expired": 0, "joined": []any{},
		"joinedArchivers": []any{}, "joinedConsensors": []any{}, "lost": []any{}, "marker": CycleMarker(c),
		"maxSyncTime": 1200, "mode": "processing", "networkId": hx("network"), "nodeListHash": hx("nodes", c),
		"previous": prev, "refreshedArchivers": []any{}, "refreshedConsensors": []any{}, "removed": []any{},
		"returned": []any{}, "safetyMode": false, "start": o.Start + int64(c)*CycleDuration, "syncing": 0,
	}
}

func account(o Options, c, i int) obj {
	ts := o.Timestamp(c, i)
	return obj{
		"accountId": AccountID(c, i), "accountType": 0, "ethAddress": addr("eth", c, i), "hash": hx("acchash", c, i),
		"timestamp": ts,
		"account": obj{
			"balance": wei(c, i), "nonce": bi(strconv.FormatInt(int64(c+i), 16)),
			"codeHash": bb(h("code", c, i)), "storageRoot": u8(h("storage", c, i)),
		},
	}
}

func originalTxData(o Options, c, i int) obj {
	ts := o.Timestamp(c, i)
	return obj{
		"tx":               obj{"raw": "0x" + hx("raw", c, i) + hx("raw2", c, i), "timestamp": ts},
		"timestampReceipt": obj{"cycleCounter": c, "cycleMarker": CycleMarker(c), "sign": obj{"owner": hx("ts-owner"), "sig": hx("ts-sig", c, i) + hx("ts-sig2", c, i)}, "timestamp": ts, "txId": TxID(c, i)},
	}
}

func states(c, i int, after bool) []any {
	tag := "before"
	if after {
		tag = "after"
	}
	var out []any
	for k := 0; k < 1; k++ {
		out = append(out, obj{
			"accountId": AccountID(c, (i+k)%7), "hash": hx(tag, c, i, k), "isGlobal": false, "timestamp": int64(0),
			"data": obj{"account": obj{"balance": wei(c, i+k), "nonce": bi(strconv.Itoa(k)), "codeHash": bb(h("code", c, i, k))},
				"accountType": 0, "ethAddress": addr("eth", c, i+k), "hash": hx(tag, "data", c, i, k)},
		})
	}
	return out
}

func readableReceipt(o Options, c, i int) obj {
	return obj{
		"accountId": TxID(c, i), "stateId": hx("state", c, i), "timestamp": o.Timestamp(c, i),
		"data": obj{
			"amountSpent": bi(strconv.FormatInt(21000*int64(1+i), 16)), "txFrom": addr("eth", c, i), "txTo": addr("eth", c, i+1),
			"readableReceipt": obj{"blockHash": "0x" + hx("block", c), "blockNumber": "0x" + strconv.FormatInt(int64(c), 16),
				"contractAddress": nil, "cumulativeGasUsed": "0x5208", "from": addr("eth", c, i), "gasUsed": "0x5208",
				"logs": []any{}, "nonce": "0x" + strconv.FormatInt(int64(i), 16), "status": 1, "to": addr("eth", c, i+1),
				"transactionHash": "0x" + TxID(c, i), "transactionIndex": "0x1", "value": "0xde0b6b3a7640000"},
			"txId": TxID(c, i), "txStatus": 1, "timestamp": o.Timestamp(c, i),
		},
	}
}

func signedReceipt(c, i int) obj {
	return obj{
		"proposal": obj{"applied": true, "cant_preApply": false, "accountIDs": []any{AccountID(c, i), AccountID(c, (i+1)%7)},
			"afterStateHashes": []any{hx("after", c, i, 0), hx("after", c, i, 1)}, "beforeStateHashes": []any{hx("before", c, i, 0), hx("before", c, i, 1)},
			"appReceiptDataHash": hx("ard", c, i), "txid": TxID(c, i)},
		"proposalHash": hx("proposal", c, i),
		"signaturePack": []any{
			obj{"owner": hx("node", 1), "sig": hx("vote", c, i, 1) + hx("vote2", c, i, 1)},
			obj{"owner": hx("node", 2), "sig": hx("vote", c, i, 2) + hx("vote2", c, i, 2)},
		},
		"voteOffsets": []any{0, 1},
	}
}
