package queryapi

import (
	"context"
	"errors"
	"strconv"

	"github.com/shardeum/distributor/dbstore"
	"github.com/shardeum/distributor/protocol"
)

// rowsRoute serves /receipt and /originalTx (rest-api.md §4.4, §4.5).
type rowsRoute struct {
	table    dbstore.Table
	key      string // reply key: receipts / originalTxs
	what     string // wording of the limit error: "receipts" / "original transactions"
	max      int
	listGone bool // originalTxs: a failed list query drops the key (the helper returned undefined)
}

var (
	receiptRoute    = rowsRoute{table: dbstore.Receipts, key: "receipts", what: "receipts", max: MaxReceiptsPerRequest}
	originalTxRoute = rowsRoute{table: dbstore.OriginalTxs, key: "originalTxs", what: "original transactions",
		max: MaxOriginalTxsPerRequest, listGone: true}
)

var errNotInteger = errors.New("datatype mismatch") // what SQLite says of a fractional LIMIT/OFFSET

func (rr rowsRoute) serve(a *API, ctx context.Context, body map[string]any) reply {
	switch {
	case protocol.Truthy(body["count"]):
		count, _ := num(body, "count")
		if count <= 0 {
			return failed("Invalid count")
		}
		if count > float64(rr.max) {
			return failed("Max count is " + strconv.Itoa(rr.max))
		}
		return signed(field{key: rr.key, raw: a.newest(ctx, rr.table, count)})

	case protocol.Truthy(body["txId"]):
		txID := str(body, "txId")
		if utf16Len(txID) != TxIDLength {
			return failed("Invalid txId " + txID)
		}
		return signed(field{key: rr.key, raw: a.byID(ctx, rr.table, txID)})

	case protocol.Truthy(body["txIdList"]):
		return rr.txIDList(a, ctx, str(body, "txIdList"))

	case isNum(body["start"]):
		from, to := rangeOf(body, "start", "end")
		if from < 0 || to < from {
			return failed("Invalid start and end counters")
		}
		if to-from > float64(rr.max) {
			return failed("Exceed maximum limit of " + strconv.Itoa(rr.max) + " " + rr.what)
		}
		raw, err := a.offsetList(ctx, rr.table, to-from+1, from)
		return rr.list(raw, err)

	case isNum(body["startCycle"]):
		from, to := rangeOf(body, "startCycle", "endCycle")
		if from < 0 || to < from {
			return failed("Invalid startCycle and endCycle counters")
		}
		if to-from > MaxBetweenCycles {
			return failed("Exceed maximum limit of " + strconv.Itoa(MaxBetweenCycles) + " cycles")
		}
		switch str(body, "type") {
		case "tally":
			rows, err := a.o.Store.Tally(ctx, rr.table, from, to)
			if err != nil {
				return thrown(err) // the reference lets the tally's error through: 500
			}
			raw, err := a.encodeRows(ctx, plainShape, rows)
			if err != nil {
				return thrown(err)
			}
			return signed(field{key: rr.key, raw: raw})
		case "count":
			// Always the cycle range (the reference's /originalTx counted the whole table when
			// startCycle was 0: §9.4, fixed).
			n, err := a.o.Store.CountInCycles(ctx, rr.table, from, to)
			if err != nil {
				if rr.listGone {
					return thrown(err) // the originalTx count throws (500); receipts count as 0
				}
				a.queryFailed(ctx, rr.table, "count in cycles", err)
				n = 0
			}
			return signed(field{key: rr.key, val: float64(n)})
		}
		page := 1.0
		if protocol.Truthy(body["page"]) {
			page, _ = num(body, "page")
			if page < 1 {
				return failed("Invalid page number")
			}
		}
		raw, err := a.cycleList(ctx, rr.table, from, to, RowsPage, (page-1)*RowsPage)
		return rr.list(raw, err)
	}
	return signed(field{key: rr.key, raw: []byte("[]")})
}

// list is the reply of an offset or cycle-range list: on a query failure receipts answer [] and
// originalTxs leave the key out (§5 error fallback).
func (rr rowsRoute) list(raw []byte, err error) reply {
	if err != nil {
		if rr.listGone {
			return signed()
		}
		raw = []byte("[]")
	}
	return signed(field{key: rr.key, raw: raw})
}

// txIDList is selector 3: a JSON list of ids, checked while querying; all or nothing.
func (rr rowsRoute) txIDList(a *API, ctx context.Context, text string) reply {
	v, err := protocol.Parse([]byte(text))
	if err != nil {
		return failed("Invalid txIdList " + text)
	}
	var items []any
	switch x := v.(type) {
	case nil:
		return thrown(errors.New("Cannot read properties of null (reading 'length')"))
	case []any:
		items = x
	case string: // a string is iterable, by code point
		if utf16Len(x) > rr.max {
			return failed("Exceed maximum limit of " + strconv.Itoa(rr.max) + " " + rr.what)
		}
		for _, r := range x {
			items = append(items, string(r))
		}
	case protocol.Bytes: // so is a Buffer, by byte
		for _, b := range x.Data {
			items = append(items, float64(b))
		}
	default:
		return thrown(errors.New("txIdList is not iterable"))
	}
	if len(items) > rr.max {
		return failed("Exceed maximum limit of " + strconv.Itoa(rr.max) + " " + rr.what)
	}
	out := []byte{'['}
	n := 0
	for _, it := range items {
		id, ok := it.(string)
		if !ok || utf16Len(id) != TxIDLength {
			return failed("Invalid txId " + jsString(it) + " in the List")
		}
		one := a.byID(ctx, rr.table, id)
		if len(one) <= 2 {
			continue // not found ("[]")
		}
		if n > 0 {
			out = append(out, ',')
		}
		out = append(out, one[1:len(one)-1]...)
		n++
	}
	return signed(field{key: rr.key, raw: append(out, ']')})
}

func isNum(v any) bool { _, ok := v.(float64); return ok }

// newest is the newest-N list; any failure gives [] (§5).
func (a *API) newest(ctx context.Context, t dbstore.Table, count float64) []byte {
	n, ok := asInt64(count)
	if !ok {
		return []byte("[]")
	}
	rows, err := a.o.Store.Newest(ctx, t, n)
	if err != nil {
		a.queryFailed(ctx, t, "newest", err)
		return []byte("[]")
	}
	raw, err := a.encodeRows(ctx, shapeOf(t), rows)
	if err != nil {
		return []byte("[]")
	}
	return raw
}

// byID is a one-row lookup as a JSON array ("[]" when absent or on failure).
func (a *API) byID(ctx context.Context, t dbstore.Table, id string) []byte {
	rows, err := a.o.Store.ByID(ctx, t, id)
	return a.oneRow(ctx, t, "by id", rows, err)
}

func (a *API) oneRow(ctx context.Context, t dbstore.Table, what string, rows dbstore.Rows, err error) []byte {
	if err != nil {
		a.queryFailed(ctx, t, what, err)
		return []byte("[]")
	}
	raw, err := a.encodeRows(ctx, shapeOf(t), rows)
	if err != nil {
		return []byte("[]")
	}
	return raw
}

// offsetList and cycleList return the list, or the partial list and nil after a decode failure,
// or an error when the query failed.
func (a *API) offsetList(ctx context.Context, t dbstore.Table, limit, offset float64) ([]byte, error) {
	l, o, ok := limitOffset(limit, offset)
	if !ok {
		return nil, errNotInteger
	}
	rows, err := a.o.Store.Offset(ctx, t, o, l)
	return a.listResult(ctx, t, "offset", rows, err)
}

func (a *API) cycleList(ctx context.Context, t dbstore.Table, from, to, limit, offset float64) ([]byte, error) {
	l, o, ok := limitOffset(limit, offset)
	if !ok {
		return nil, errNotInteger
	}
	rows, err := a.o.Store.InCycles(ctx, t, from, to, o, l)
	return a.listResult(ctx, t, "cycle range", rows, err)
}

func (a *API) listResult(ctx context.Context, t dbstore.Table, what string, rows dbstore.Rows, err error) ([]byte, error) {
	if err != nil {
		a.queryFailed(ctx, t, what, err)
		return nil, err
	}
	raw, derr := a.encodeRows(ctx, shapeOf(t), rows)
	if derr != nil && raw == nil {
		return nil, derr
	}
	return raw, nil // a decode failure keeps the partially decoded list
}

func (a *API) queryFailed(ctx context.Context, t dbstore.Table, what string, err error) {
	markFailed(ctx)
	if ok, suppressed := a.logs.allow(t.Name() + "/" + what + "/" + err.Error()); ok {
		a.log.Warn("queryapi: query failed; answering the reference's fallback", "table", t.Name(), "query", what, "err", err,
			"suppressed_since_last", suppressed)
	}
}
