package queryapi

import (
	"github.com/shardeum/distributor/protocol"

	"context"

	"github.com/shardeum/distributor/dbstore"
)

// cycleInfo serves POST /cycleinfo (rest-api.md §4.3).
func (a *API) cycleInfo(ctx context.Context, body map[string]any) reply {
	switch {
	case protocol.Truthy(body["count"]):
		count, _ := num(body, "count")
		if count <= 0 {
			return failed("Invalid count")
		}
		if count > MaxCyclesPerRequest {
			return failed("Max count is 100.") // sic: only this route has the period (§9.7)
		}
		return signed(field{key: "cycleInfo", raw: a.newest(ctx, dbstore.Cycles, count)})
	case isNum(body["start"]):
		from, to := rangeOf(body, "start", "end")
		if from < 0 || to < from {
			return failed("Invalid start and end counters")
		}
		if to-from > MaxCyclesPerRequest {
			return failed("Exceed maximum limit of 100 cycles")
		}
		rows, err := a.o.Store.CyclesBetween(ctx, from, to)
		raw, err := a.listResult(ctx, dbstore.Cycles, "range", rows, err)
		if err != nil {
			raw = []byte("[]")
		}
		return signed(field{key: "cycleInfo", raw: raw})
	}
	// Unsigned, as in the reference (§9.6): kept, collectors match on it.
	return unsigned(field{key: "error", val: "not specified which cycle to show"}, field{key: "success", val: false})
}
