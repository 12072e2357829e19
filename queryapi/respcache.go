package queryapi

import (
	"bytes"
	"context"
	"sync"

	"github.com/shardeum/distributor/protocol"
)

// reqState carries per-request facts the handlers learn on the way.
type reqState struct {
	failed bool
	// The row lists encoded for the reply (encodeRows calls); with exactly one, list and refs
	// describe it, and refs is nil unless every row is in the row cache.
	lists int
	list  []byte
	refs  []rowRef
}

type reqStateKey struct{}

// markFailed records that a query or a decode failed, so the reply (a fallback) is not cached.
func markFailed(ctx context.Context) {
	if st, ok := ctx.Value(reqStateKey{}).(*reqState); ok {
		st.failed = true
	}
}

// noteList records a row list encoded for the reply.
func noteList(ctx context.Context, list []byte, refs []rowRef, complete bool) {
	st, ok := ctx.Value(reqStateKey{}).(*reqState)
	if !ok {
		return
	}
	st.lists++
	st.list, st.refs = list, nil
	if complete {
		st.refs = refs
	}
}

// respCache keeps whole signed replies of the data routes, keyed by route, signer and the
// request's selector fields, each tagged with the table file's DataVersion read before the
// query ran. A reply is served again only while the version is unchanged, so it is exactly what
// the query would answer now: no staleness, even while the archiver writes. Bounded by bytes.
type respCache struct {
	mu       sync.RWMutex
	m        map[string]respEntry
	bytes    int
	maxBytes int
}

// versions holds the DataVersion of each file a reply read (unused slots zero).
type versions [5]int64

type respEntry struct {
	version versions
	body    []byte  // the reply, or nil and:
	recipe  *recipe // the reply without its rows
}

// recipe is a large reply kept without its rows: head + the JSON array of the rows named by refs +
// tail is byte for byte the signed reply, as long as the file's version is unchanged (so are its
// rows) and every ref still names a row cache entry. A page of 100 receipts is 419 KB as a reply
// and 1.9 KB as a recipe, so the reply cache holds every page a rotation of 1,000 distinct
// requests asks for, while the rows themselves are stored once, in the row cache. A reply served
// from a recipe is written in pieces, the rows from the row cache's own bytes (API.fromRecipe).
// Large replies are kept whole while the cache is less than half full (one piece to write, no
// rows to look up), as recipes after that.
type recipe struct {
	head, tail []byte
	refs       []rowRef
}

// recipeMin is the reply size from which a reply that does not fit whole is kept as a recipe.
const recipeMin = 8 << 10

// newRecipe describes body, in which list (encoded from the rows refs names) appears.
func newRecipe(body, list []byte, refs []rowRef) *recipe {
	// Any occurrence of list in body will do: the bytes there are list's, so cutting it out
	// and putting it back gives body again.
	i := bytes.Index(body, list)
	if i < 0 || refs == nil {
		return nil
	}
	return &recipe{head: bytes.Clone(body[:i]), tail: bytes.Clone(body[i+len(list):]), refs: refs}
}

func (r *recipe) bytes() int { return len(r.head) + len(r.tail) + 16*len(r.refs) + 64 }

func newRespCache(maxBytes int) *respCache {
	return &respCache{m: map[string]respEntry{}, maxBytes: maxBytes}
}

func (c *respCache) get(key []byte, version versions) (body []byte, rec *recipe) {
	c.mu.RLock()
	e, ok := c.m[string(key)] // no allocation: the compiler looks up without copying
	c.mu.RUnlock()
	if ok && e.version == version {
		return e.body, e.recipe
	}
	return nil, nil
}

// fits reports whether a large reply of n bytes under key may be kept whole: while the cache is
// less than half full. The other half is left to recipes, so that many large replies do not fill
// the cache and have it cleared over and over.
func (c *respCache) fits(key []byte, n int) bool {
	n += len(key)
	c.mu.RLock()
	defer c.mu.RUnlock()
	return n <= c.maxBytes/8 && c.bytes+n <= c.maxBytes/2
}

func (e respEntry) bytes() int {
	if e.recipe != nil {
		return e.recipe.bytes()
	}
	return len(e.body)
}

// put keeps a reply: body, or rec if not nil.
func (c *respCache) put(key string, version versions, body []byte, rec *recipe) {
	e := respEntry{version: version, body: body, recipe: rec}
	if rec != nil {
		e.body = nil
	}
	n := len(key) + e.bytes()
	if n > c.maxBytes/8 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[key]; ok {
		c.bytes -= len(key) + old.bytes()
	}
	if c.bytes+n > c.maxBytes {
		c.m = map[string]respEntry{}
		c.bytes = 0
	}
	c.m[key] = e
	c.bytes += n
}

// appendRespKey appends what identifies a request's reply: the route, the signing identity and
// the selector fields of its schema (not sender, sign or unknown fields, which do not change it).
func appendRespKey(k []byte, path string, s protocol.Signer, schema protocol.Schema, body map[string]any) ([]byte, bool) {
	k = append(k, path...)
	k = append(k, 0)
	k = append(k, s.Keys.PublicHex...)
	k = append(k, s.HashKey[:]...)
	for _, f := range schema {
		if f.Name == "sender" || f.Name == "sign" {
			continue
		}
		v, ok := body[f.Name]
		if !ok {
			continue
		}
		k = append(k, 0)
		k = append(k, f.Name...)
		k = append(k, '=')
		var err error
		if k, err = protocol.AppendMarshal(k, v); err != nil {
			return k, false
		}
	}
	return k, true
}
