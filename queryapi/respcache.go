package queryapi

import (
	"context"
	"sync"

	"github.com/shardeum/distributor/protocol"
)

// reqState carries per-request facts the handlers learn on the way.
type reqState struct{ failed bool }

type reqStateKey struct{}

// markFailed records that a query or a decode failed, so the reply (a fallback) is not cached.
func markFailed(ctx context.Context) {
	if st, ok := ctx.Value(reqStateKey{}).(*reqState); ok {
		st.failed = true
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
	body    []byte
}

func newRespCache(maxBytes int) *respCache {
	return &respCache{m: map[string]respEntry{}, maxBytes: maxBytes}
}

func (c *respCache) get(key string, version versions) []byte {
	c.mu.RLock()
	e, ok := c.m[key]
	c.mu.RUnlock()
	if ok && e.version == version {
		return e.body
	}
	return nil
}

func (c *respCache) put(key string, version versions, body []byte) {
	n := len(key) + len(body)
	if n > c.maxBytes/8 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[key]; ok {
		c.bytes -= len(key) + len(old.body)
	}
	if c.bytes+n > c.maxBytes {
		c.m = map[string]respEntry{}
		c.bytes = 0
	}
	c.m[key] = respEntry{version: version, body: body}
	c.bytes += n
}

// respKey identifies what a request asks: the route, the signing identity and the selector
// fields of its schema (not sender, sign or unknown fields, which do not change the reply).
func respKey(path string, s protocol.Signer, schema protocol.Schema, body map[string]any) (string, bool) {
	k := make([]byte, 0, 256)
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
			return "", false
		}
	}
	return string(k), true
}
