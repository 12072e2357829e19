package queryapi

import (
	"bytes"
	"database/sql"
	"testing"

	"github.com/shardeum/distributor/dbstore"
	"github.com/shardeum/distributor/dbstore/archivegen"
)

// bigQueries are requests with large replies, all different: 100-receipt pages (~419 KB, which
// a 1 MiB reply cache keeps as recipes) and 41-cycle windows (~27 KB, which it keeps whole).
func bigQueries() []struct {
	path   string
	params map[string]any
} {
	var qs []struct {
		path   string
		params map[string]any
	}
	for s := 0; s <= 20; s += 10 {
		qs = append(qs, struct {
			path   string
			params map[string]any
		}{"/receipt", map[string]any{"startCycle": float64(s), "endCycle": float64(s + 27), "page": 1.0}})
	}
	for s := 0; s < 9; s += 5 {
		qs = append(qs, struct {
			path   string
			params map[string]any
		}{"/cycleinfo", map[string]any{"start": float64(s), "end": float64(s + 40)}})
	}
	return qs
}

func (e *ienv) recipes() []*recipe {
	e.api.resp.mu.RLock()
	defer e.api.resp.mu.RUnlock()
	var out []*recipe
	for _, en := range e.api.resp.m {
		if en.recipe != nil {
			out = append(out, en.recipe)
		}
	}
	return out
}

// TestRecipeReplies: large replies are kept as recipes (rows by reference), served from them
// byte for byte as computed (written in pieces), recomputed when their rows left the row cache,
// and follow the archiver's commits.
func TestRecipeReplies(t *testing.T) {
	dir := t.TempDir()
	copyBundledArchive(t, dir)
	e := newIenvDir(t, dir, Options{ResponseCacheBytes: 1 << 20})
	e.start()
	plain := newIenvDir(t, dir, Options{ResponseCacheBytes: -1, RowCacheBytes: -1}) // computes every reply
	plain.server = e.server
	plain.start()
	same := func(what string) {
		t.Helper()
		for i, q := range bigQueries() {
			q.params["nonce"] = float64(i) // a new signature every time; the reply is the same
			got, want := e.mustPost(q.path, q.params), plain.mustPost(q.path, q.params)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: %s %v: reply differs from the computed one", what, q.path, q.params)
			}
		}
	}
	same("first requests")
	if n, want := len(e.recipes()), 3; n != want {
		t.Fatalf("%d recipes kept, want %d (one per receipt page)", n, want)
	}
	same("served from recipes")

	// The rows really come by reference: change one cached row's bytes under its ref.
	q := bigQueries()[0]
	rec := e.recipeFor(q.path, q.params)
	ref := rec.refs[0]
	e.api.cache.mu.Lock()
	en := e.api.cache.m[ref.h]
	orig := en.canon
	en.canon = []byte(`{"marker":1}`)
	e.api.cache.m[ref.h] = en
	e.api.cache.mu.Unlock()
	_, b, err := e.post(t.Context(), q.path, q.params)
	if err != nil || !bytes.Contains(b, []byte(`[{"marker":1},`)) {
		t.Fatalf("reply not assembled from the row cache: %v %.100s", err, b)
	}
	e.api.cache.mu.Lock()
	en.canon = orig
	e.api.cache.m[ref.h] = en
	e.api.cache.mu.Unlock()

	// Rows evicted (the cache cleared when full): the refs no longer match and replies are computed
	// again, correctly, and kept again.
	e.api.cache.mu.Lock()
	e.api.cache.m = map[uint64]cacheEntry{}
	e.api.cache.bytes = 0
	e.api.cache.mu.Unlock()
	same("after the row cache was cleared")
	same("served from the new recipes")

	// The archiver adds a receipt to cycle 10 and rewrites one in cycle 20: every page over those
	// cycles changes, and no recipe of the old version is served.
	w, err := sql.Open("sqlite", "file:"+e.api.o.Store.Path(dbstore.Receipts)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Exec(archivegen.InsertSQL["receipts.sqlite3"], archivegen.Row("receipts.sqlite3", archivegen.Options{}, 10, 7)...); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec("UPDATE receipts SET executionShardKey = 'beef' WHERE receiptId = ?", archivegen.TxID(20, 3)); err != nil {
		t.Fatal(err)
	}
	same("after the archiver's commits")
	b = e.mustPost("/receipt", map[string]any{"startCycle": 16.0, "endCycle": 43.0, "page": 1.0})
	if !bytes.Contains(b, []byte(`"executionShardKey":"beef"`)) {
		t.Error("rewritten receipt not in its page")
	}
}

func (e *ienv) recipeFor(path string, params map[string]any) *recipe {
	e.t.Helper()
	k, ok := appendRespKey(nil, path, e.server, e.api.routes[path].schema, params)
	if !ok {
		e.t.Fatal("no key")
	}
	e.api.resp.mu.RLock()
	defer e.api.resp.mu.RUnlock()
	en, ok := e.api.resp.m[string(k)]
	if !ok || en.recipe == nil {
		e.t.Fatalf("no recipe for %s %v", path, params)
	}
	return en.recipe
}

// TestRepliesWholeWhileRoom: with room in the reply cache, large replies are kept whole (no
// assembly when served); recipes are for a cache that would otherwise have to drop replies.
func TestRepliesWholeWhileRoom(t *testing.T) {
	e := newIenv(t, Options{})
	e.start()
	for _, q := range bigQueries() {
		first := e.mustPost(q.path, q.params)
		if again := e.mustPost(q.path, q.params); !bytes.Equal(first, again) {
			t.Fatalf("%s %v: cached reply differs", q.path, q.params)
		}
	}
	if n := len(e.recipes()); n != 0 {
		t.Errorf("%d recipes with a cache that had room", n)
	}
	e.api.resp.mu.RLock()
	defer e.api.resp.mu.RUnlock()
	if n := len(e.api.resp.m); n != len(bigQueries()) {
		t.Errorf("%d replies kept, want %d", n, len(bigQueries()))
	}
}
