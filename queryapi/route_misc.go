package queryapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/shardeum/distributor/dbstore"
	"github.com/shardeum/distributor/protocol"
)

// totalData serves POST /totalData (rest-api.md §4.8).
func (a *API) totalData(ctx context.Context, _ map[string]any) reply {
	count := func(t dbstore.Table) float64 {
		n, err := a.o.Store.Count(ctx, t)
		if err != nil {
			a.queryFailed(ctx, t, "count", err)
			return 0
		}
		return float64(n)
	}
	orig, err := a.o.Store.Count(ctx, dbstore.OriginalTxs)
	if err != nil {
		return thrown(err) // the reference's originalTxsData total throws: 500
	}
	return signed(
		field{key: "totalCycles", val: count(dbstore.Cycles)},
		field{key: "totalAccounts", val: count(dbstore.Accounts)},
		field{key: "totalTransactions", val: count(dbstore.Transactions)},
		field{key: "totalReceipts", val: count(dbstore.Receipts)},
		field{key: "totalOriginalTxs", val: float64(orig)},
		field{key: "pid", val: a.pid},
	)
}

// config serves GET /config: unsigned {config: SanitizeConfig(PublicConfig())}.
func (a *API) config(w http.ResponseWriter, r *http.Request) {
	var v any = map[string]any{}
	if a.o.PublicConfig != nil {
		v = SanitizeConfig(a.o.PublicConfig())
	}
	a.write(w, r, unsigned(field{key: "config", val: v}))
}

// PublicConfig builds the /config view the reference shows, minus the subscriber list (see
// SanitizeConfig): the parent can pass func() any { return queryapi.PublicConfig(...) }.
func PublicConfig(ip string, port int, publicKey string, limitToSubscribersOnly bool, subscribers int) map[string]any {
	return map[string]any{
		"DISTRIBUTOR_IP": ip, "DISTRIBUTOR_PORT": float64(port), "DISTRIBUTOR_PUBLIC_KEY": publicKey,
		"limitToSubscribersOnly": limitToSubscribersOnly, "subscriberCount": float64(subscribers),
	}
}

// SanitizeConfig is applied to whatever PublicConfig returns before it is served. The reference
// published the whole subscriber list (keys, expiry, type); we publish only its length as
// subscriberCount. Any key naming a secret, a hash key, a password or a private key is dropped, so
// passing the full configuration by mistake leaks nothing. The value goes through JSON first.
func SanitizeConfig(v any) any {
	// Through JSON, so Go values of any type (ints, structs, subscriber slices) become plain JSON values.
	b, err := json.Marshal(v)
	if err != nil {
		return map[string]any{}
	}
	parsed, err := protocol.Parse(b)
	m, ok := parsed.(map[string]any)
	if err != nil || !ok {
		return map[string]any{}
	}
	out := make(map[string]any, len(m))
	for k, val := range m {
		u := strings.ToUpper(k)
		switch {
		case strings.Contains(u, "SECRET"), strings.Contains(u, "HASH_KEY"), strings.Contains(u, "HASHKEY"),
			strings.Contains(u, "PASS"), strings.Contains(u, "PRIVATE"):
			continue
		case k == "subscribers":
			n := 0
			switch x := val.(type) {
			case []any:
				n = len(x)
			case map[string]any:
				n = len(x)
			}
			out["subscriberCount"] = float64(n)
			continue
		}
		out[k] = val
	}
	return out
}

// metrics serves GET /metrics: unsigned. Without Options.Metrics it shows the database row counts.
func (a *API) metrics(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			a.log.Error("queryapi: metrics failed", "panic", p)
			writeJSON(w, http.StatusInternalServerError, []byte(`{"error":"Error getting metrics"}`))
		}
	}()
	var v any
	if a.o.Metrics != nil {
		v = a.o.Metrics()
	} else {
		ts := float64(time.Now().UnixMilli())
		m := map[string]any{}
		for _, s := range []struct {
			key string
			t   dbstore.Table
		}{{"cycle", dbstore.Cycles}, {"originalTx", dbstore.OriginalTxs}, {"receipt", dbstore.Receipts}} {
			n, err := a.o.Store.Count(r.Context(), s.t)
			if err != nil {
				n = 0
			}
			m[s.key] = map[string]any{"count": float64(n), "lastUpdationTimestamp": ts}
		}
		v = m
	}
	b, err := protocol.Marshal(v)
	if err != nil {
		// A Go struct the canonical encoder does not take: JSON first, then canonical.
		if jb, jerr := json.Marshal(v); jerr == nil {
			b, err = protocol.Canonicalize(jb)
		}
	}
	if err != nil {
		a.log.Error("queryapi: metrics failed", "err", err)
		writeJSON(w, http.StatusInternalServerError, []byte(`{"error":"Error getting metrics"}`))
		return
	}
	writeJSON(w, http.StatusOK, b)
}
