package queryapi

import "github.com/shardeum/distributor/protocol"

// Route schemas of rest-api.md §4.1. Field order is the order of checks, so it decides which
// error a request with several bad fields gets.
func schema(fields ...string) protocol.Schema {
	s := make(protocol.Schema, 0, len(fields))
	for _, f := range fields {
		name, typ := f[:len(f)-2], f[len(f)-1:]
		opt := false
		if f[len(f)-1] == '?' {
			name, typ, opt = f[:len(f)-3], f[len(f)-2:len(f)-1], true
		}
		s = append(s, protocol.Field{Name: name, Type: typ, Optional: opt})
	}
	return s
}

var (
	cycleInfoSchema = schema("start:n?", "end:n?", "count:n?", "sender:s", "sign:o")
	rowsSchema      = schema("count:n?", "start:n?", "end:n?", "startCycle:n?", "endCycle:n?", "type:s?", "page:n?",
		"txId:s?", "txIdList:s?", "sender:s", "sign:o")
	accountSchema = schema("count:n?", "start:n?", "end:n?", "startCycle:n?", "endCycle:n?", "page:n?", "accountId:s?",
		"sender:s", "sign:o")
	transactionSchema = schema("count:n?", "start:n?", "end:n?", "txId:s?", "appReceiptId:s?", "startCycle:n?",
		"endCycle:n?", "page:n?", "sender:s", "sign:o")
	totalDataSchema = schema("sender:s", "sign:o")
)
