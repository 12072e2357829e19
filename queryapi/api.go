package queryapi

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/shardeum/distributor/dbstore"
	"github.com/shardeum/distributor/protocol"
)

// Options configure the API. Store, Signer and Auth are required.
type Options struct {
	Store *dbstore.Store
	// Signer and Auth are called per request, so a configuration reload takes effect at once
	// (the reference kept signing with its start-up keys: rest-api.md §9.10).
	Signer func() protocol.Signer
	Auth   func() protocol.Auth
	// RateLimit is the number of requests a client IP may make per second (RATE_LIMIT); <= 0 disables.
	RateLimit int
	// PublicConfig is what GET /config shows under "config"; see SanitizeConfig for what is removed.
	PublicConfig func() any
	// Metrics is the body of GET /metrics; nil serves the database row counts.
	Metrics func() any
	Logger  *slog.Logger

	// Now is the clock of the rate limiter; nil means time.Now.
	Now func() time.Time
	// RowCacheBytes bounds the cache of decoded rows; 0 means 64 MiB, < 0 disables it.
	RowCacheBytes int
	// ResponseCacheBytes bounds the cache of whole signed replies (see respCache); 0 means 64 MiB,
	// < 0 disables it.
	ResponseCacheBytes int
}

// API is the REST handler.
type API struct {
	o     Options
	log   *slog.Logger
	limit *limiter
	cache *rowCache
	// rowSizes holds the last encoded row size per table, to size reply buffers.
	rowSizes [8]atomic.Int64
	resp     *respCache
	logs     *logLimiter
	sigs     *sigCache
	routes   map[string]route
	extra    *http.ServeMux
	pid      float64
}

// route is one of ours: POST routes have a schema and a handler of the parsed body.
type route struct {
	method string // "POST" or "GET" (GET also answers HEAD)
	schema protocol.Schema
	post   func(a *API, ctx context.Context, body map[string]any) reply
	get    func(a *API, w http.ResponseWriter, r *http.Request)
	tables []dbstore.Table // the files a cached route reads
	cached bool
}

// reply is what a POST handler answers: a payload, signed or not, or a thrown error (500).
type reply struct {
	p      payload
	signed bool
	err    error
	signer *protocol.Signer // nil: Options.Signer() at write time
}

func signed(p ...field) reply   { return reply{p: p, signed: true} }
func unsigned(p ...field) reply { return reply{p: p} }
func failed(msg string) reply {
	return signed(field{key: "error", val: msg}, field{key: "success", val: false})
}
func thrown(err error) reply { return reply{err: err} }

// New builds the API.
func New(o Options) *API {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	a := &API{o: o, log: o.Logger, limit: newLimiter(o.RateLimit, o.Now), extra: http.NewServeMux(),
		pid: float64(os.Getpid()), logs: newLogLimiter(10 * time.Second), sigs: newSigCache()}
	switch {
	case o.RowCacheBytes == 0:
		a.cache = newRowCache(64 << 20)
	case o.RowCacheBytes > 0:
		a.cache = newRowCache(o.RowCacheBytes)
	}
	switch {
	case o.ResponseCacheBytes == 0:
		a.resp = newRespCache(64 << 20)
	case o.ResponseCacheBytes > 0:
		a.resp = newRespCache(o.ResponseCacheBytes)
	}
	a.routes = map[string]route{
		"/cycleinfo":   {method: http.MethodPost, schema: cycleInfoSchema, post: (*API).cycleInfo, tables: []dbstore.Table{dbstore.Cycles}, cached: true},
		"/receipt":     {method: http.MethodPost, schema: rowsSchema, post: receiptRoute.serve, tables: []dbstore.Table{dbstore.Receipts}, cached: true},
		"/originalTx":  {method: http.MethodPost, schema: rowsSchema, post: originalTxRoute.serve, tables: []dbstore.Table{dbstore.OriginalTxs}, cached: true},
		"/account":     {method: http.MethodPost, schema: accountSchema, post: (*API).account, tables: []dbstore.Table{dbstore.Accounts}, cached: true},
		"/transaction": {method: http.MethodPost, schema: transactionSchema, post: (*API).transaction, tables: []dbstore.Table{dbstore.Transactions}, cached: true},
		"/totalData":   {method: http.MethodPost, schema: totalDataSchema, post: (*API).totalData, tables: dbstore.Tables, cached: true},
		"/config":      {method: http.MethodGet, get: (*API).config},
		"/metrics":     {method: http.MethodGet, get: (*API).metrics},
	}
	return a
}

// Handle adds a route of the caller's (pattern as http.ServeMux takes it, e.g. "GET /is-alive"),
// served behind the same CORS, rate limit and panic recovery as ours.
func (a *API) Handle(pattern string, h http.Handler) { a.extra.Handle(pattern, h) }

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer a.recover(w, r)
	if cors(w, r) {
		return
	}
	rt, ok := a.routes[r.URL.Path]
	if ok && (r.Method == rt.method || (rt.method == http.MethodGet && r.Method == http.MethodHead)) {
		if !a.limit.allow(w, r) {
			return
		}
		if rt.get != nil {
			rt.get(a, w, r)
			return
		}
		a.servePost(w, r, rt)
		return
	}
	if h, pattern := a.extra.Handler(r); pattern != "" {
		if !a.limit.allow(w, r) {
			return
		}
		h.ServeHTTP(w, r)
		return
	}
	notFound(w, r)
}

func (a *API) servePost(w http.ResponseWriter, r *http.Request, rt route) {
	v, ok := readBody(w, r)
	if !ok {
		return
	}
	if msg := a.o.Auth().Validate(v, rt.schema); msg != "" {
		a.write(w, r, failed(msg), nil)
		return
	}
	body, isObj := v.(map[string]any)
	if !isObj { // unreachable: every schema requires sender, which only an object can have
		a.write(w, r, failed("Invalid request data input must be object"), nil)
		return
	}
	st := &reqState{}
	ctx := context.WithValue(r.Context(), reqStateKey{}, st)
	if !rt.cached || a.resp == nil {
		a.write(w, r, rt.post(a, ctx, body), nil)
		return
	}
	signer := a.o.Signer() // one key pair for the cache key and the signature
	key, ok := respKey(r.URL.Path, signer, rt.schema, body)
	var version versions
	for i, t := range rt.tables {
		v, err := a.o.Store.DataVersion(ctx, t)
		if err != nil {
			ok = false
			break
		}
		version[i] = v
	}
	if !ok {
		a.write(w, r, rt.post(a, ctx, body), nil)
		return
	}
	if cached := a.resp.get(key, version); cached != nil {
		writeJSON(w, http.StatusOK, cached)
		return
	}
	rep := rt.post(a, ctx, body)
	rep.signer = &signer
	a.write(w, r, rep, func(b []byte) {
		if !st.failed && rep.signed {
			a.resp.put(key, version, bytes.Clone(b))
		}
	})
}

// write encodes and writes the reply; keep, if not nil, sees the encoded bytes first.
func (a *API) write(w http.ResponseWriter, r *http.Request, rep reply, keep func([]byte)) {
	if rep.err != nil {
		if ok, suppressed := a.logs.allow(r.URL.Path + "/" + rep.err.Error()); ok {
			a.log.Error("queryapi: handler failed (500)", "method", r.Method, "path", r.URL.Path, "err", rep.err,
				"suppressed_since_last", suppressed)
		}
		fastifyError(w, http.StatusInternalServerError, "", rep.err.Error())
		return
	}
	buf := getBuf()
	defer putBuf(buf)
	var err error
	if rep.signed {
		s := rep.signer
		if s == nil {
			cur := a.o.Signer()
			s = &cur
		}
		*buf, err = appendSigned((*buf)[:0], *s, rep.p, a.sigs)
	} else {
		*buf, err = appendUnsigned((*buf)[:0], rep.p)
	}
	if err != nil {
		a.log.Error("queryapi: cannot encode reply", "path", r.URL.Path, "err", err)
		fastifyError(w, http.StatusInternalServerError, "", err.Error())
		return
	}
	if keep != nil {
		keep(*buf)
	}
	writeJSON(w, http.StatusOK, *buf)
}

// recover turns a handler panic into Fastify's 500, logged once with its stack.
func (a *API) recover(w http.ResponseWriter, r *http.Request) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler {
		panic(p)
	}
	a.log.Error("queryapi: handler panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p),
		"stack", string(debug.Stack()))
	fastifyError(w, http.StatusInternalServerError, "", fmt.Sprint(p))
}
