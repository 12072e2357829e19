package queryapi

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime"
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
	// MaxInFlight is how many POST requests may do their CPU work (parse, verify, query, encode,
	// sign) at once; the others queue in arrival order, and each yields its processor before
	// writing its reply (see gate). 0 means GOMAXPROCS; < 0 plain net/http scheduling (neither).
	MaxInFlight int
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
	gate     *gate
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
	switch {
	case o.MaxInFlight == 0:
		a.gate = newGate(runtime.GOMAXPROCS(0), defaultMaxWait)
	case o.MaxInFlight > 0:
		a.gate = newGate(o.MaxInFlight, defaultMaxWait)
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
	raw, ok := readRaw(w, r)
	if !ok {
		return
	}
	defer raw.release()
	t, ok := a.gate.enter(r.Context())
	if !ok {
		return // the client left while its request queued
	}
	defer t.leave()
	if t.held && t.g.entered != nil {
		t.g.entered()
	}
	o := a.answer(r, rt, raw)
	defer o.release()
	// Leave before writing: a large reply can block on the socket for as long as the client
	// takes to read it, and that is no reason to hold up others' CPU work.
	t.leave()
	t.yield()
	o.write(w)
}

// out is an encoded reply: body, or (a reply served from a recipe) the pieces in parts. Both are
// valid until release.
type out struct {
	status int
	body   []byte
	buf    *[]byte // pooled buffer holding body, if any
	parts  *[][]byte
}

func (o out) release() {
	if o.buf != nil {
		putBuf(o.buf)
	}
	if o.parts != nil {
		putParts(o.parts)
	}
}

func (o out) write(w http.ResponseWriter) {
	switch {
	case o.parts != nil:
		writeJSONParts(w, o.status, *o.parts)
	default:
		writeJSON(w, o.status, o.body)
	}
}

// fromRecipe is the reply rec describes, as pieces: its head, its rows (the row cache's own
// bytes), its tail. ok is false if a row has left the row cache.
func (a *API) fromRecipe(rec *recipe) (o out, ok bool) {
	parts := getParts()
	*parts = append(*parts, rec.head)
	if *parts, ok = a.cache.appendRefParts(*parts, rec.refs); !ok {
		putParts(parts)
		return out{}, false
	}
	*parts = append(*parts, rec.tail)
	return out{status: http.StatusOK, parts: parts}, true
}

// answer parses and authenticates the body and runs the route: everything a POST costs in CPU.
func (a *API) answer(r *http.Request, rt route, raw rawBody) out {
	v, code, msg := raw.parse()
	if msg != "" {
		return out{status: http.StatusBadRequest, body: fastifyBody(http.StatusBadRequest, code, msg)}
	}
	if msg := a.o.Auth().Validate(v, rt.schema); msg != "" {
		return a.encode(r, failed(msg), nil)
	}
	body, isObj := v.(map[string]any)
	if !isObj { // unreachable: every schema requires sender, which only an object can have
		return a.encode(r, failed("Invalid request data input must be object"), nil)
	}
	st := &reqState{}
	ctx := context.WithValue(r.Context(), reqStateKey{}, st)
	if !rt.cached || a.resp == nil {
		return a.encode(r, rt.post(a, ctx, body), nil)
	}
	signer := a.o.Signer() // one key pair for the cache key and the signature
	kb := getBuf()
	defer putBuf(kb)
	key, ok := appendRespKey((*kb)[:0], r.URL.Path, signer, rt.schema, body)
	*kb = key
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
		return a.encode(r, rt.post(a, ctx, body), nil)
	}
	if cached, rec := a.resp.get(key, version); cached != nil {
		return out{status: http.StatusOK, body: cached}
	} else if rec != nil && a.cache != nil {
		if o, ok := a.fromRecipe(rec); ok {
			return o
		}
		// a row left the row cache: compute the reply again
	}
	rep := rt.post(a, ctx, body)
	rep.signer = &signer
	return a.encode(r, rep, func(b []byte) {
		if st.failed || !rep.signed {
			return
		}
		var rec *recipe
		if len(b) >= recipeMin && st.lists == 1 && a.cache != nil && !a.resp.fits(key, len(b)) {
			rec = newRecipe(b, st.list, st.refs)
		}
		if rec != nil {
			a.resp.put(string(key), version, nil, rec)
		} else {
			a.resp.put(string(key), version, bytes.Clone(b), nil)
		}
	})
}

// write encodes and writes the reply (GET routes; POST routes go through the gate).
func (a *API) write(w http.ResponseWriter, r *http.Request, rep reply) {
	o := a.encode(r, rep, nil)
	defer o.release()
	writeJSON(w, o.status, o.body)
}

// encode encodes the reply; keep, if not nil, sees the encoded bytes of a 200 first.
func (a *API) encode(r *http.Request, rep reply, keep func([]byte)) out {
	if rep.err != nil {
		if ok, suppressed := a.logs.allow(r.URL.Path + "/" + rep.err.Error()); ok {
			a.log.Error("queryapi: handler failed (500)", "method", r.Method, "path", r.URL.Path, "err", rep.err,
				"suppressed_since_last", suppressed)
		}
		return out{status: http.StatusInternalServerError, body: fastifyBody(http.StatusInternalServerError, "", rep.err.Error())}
	}
	buf := getBuf()
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
		putBuf(buf)
		a.log.Error("queryapi: cannot encode reply", "path", r.URL.Path, "err", err)
		return out{status: http.StatusInternalServerError, body: fastifyBody(http.StatusInternalServerError, "", err.Error())}
	}
	if keep != nil {
		keep(*buf)
	}
	return out{status: http.StatusOK, body: *buf, buf: buf}
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
