package queryapi

import "github.com/shardeum/distributor/protocol"

// Limits of rest-api.md §4.1.
const (
	MaxCyclesPerRequest      = 100
	MaxReceiptsPerRequest    = 100
	MaxOriginalTxsPerRequest = 100
	MaxBetweenCycles         = 100
	MaxAccountsPerRequest    = 1000 // accounts and transactions
	TxIDLength               = 64
	RowsPage                 = 100  // originalTx / receipt page size
	AccountsPage             = 1000 // account / transaction page size
)

// rangeOf applies the start/end rule of §4.2: to = end when truthy, else start.
func rangeOf(body map[string]any, startKey, endKey string) (from, to float64) {
	from, _ = num(body, startKey)
	to = from
	if protocol.Truthy(body[endKey]) {
		to, _ = num(body, endKey)
	}
	return from, to
}

// limitOffset turns a row range or page into SQL LIMIT/OFFSET, or reports that the reference
// would have spliced a non-integer into the SQL and failed there (§4.2).
func limitOffset(limit, offset float64) (l, o int64, ok bool) {
	l, ok1 := asInt64(limit)
	o, ok2 := asInt64(offset)
	return l, o, ok1 && ok2
}
