package queryapi

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/maphash"
	"math"
	"sync"

	"github.com/shardeum/distributor/dbstore"
	"github.com/shardeum/distributor/protocol"
)

// rowShape says how a result row becomes a JSON value (rest-api.md §5).
type rowShape struct {
	json        map[string]int // decoded columns and their decode order
	order       []string       // decode order of json
	globalMod   bool           // receipts: globalModification -> (value === 1)
	cycleRecord bool           // cycles: the element is the decoded cycleRecord alone (null if empty)
	cacheable   bool
	id          byte // cache namespace
}

func shapeOf(t dbstore.Table) *rowShape { return &shapes[t] }

var shapes = func() [5]rowShape {
	var s [5]rowShape
	for _, t := range dbstore.Tables {
		// §5's table lists receipts' decoded columns as tx, afterStates, beforeStates, signedReceipt,
		// appReceiptData: the order the reference decodes them, which matters for a partial decode.
		order := t.JSONColumns()
		if t == dbstore.Receipts {
			order = []string{"tx", "afterStates", "beforeStates", "signedReceipt", "appReceiptData"}
		}
		m := map[string]int{}
		for i, c := range order {
			m[c] = i
		}
		s[t] = rowShape{json: m, order: order, globalMod: t == dbstore.Receipts, cycleRecord: t == dbstore.Cycles,
			cacheable: true, id: byte(t)}
	}
	return s
}()

// plainShape converts cells without decoding JSON (tallies).
var plainShape = &rowShape{json: map[string]int{}}

// cell converts a raw SQLite value the way the node driver hands it to JS: numbers as float64,
// BLOBs as Buffers.
func cell(v any) any {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case []byte:
		return protocol.Bytes{Data: x}
	}
	return v
}

// decodeJSONCell is safeJsonParse applied only when the cell is truthy.
func decodeJSONCell(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if x == "" {
			return x, nil
		}
		return protocol.Parse([]byte(x))
	case int64:
		// NUMERIC affinity turns a numeric JSON text into a number; JSON.parse(n) gives n back.
		return float64(x), nil
	case float64:
		return x, nil
	case []byte:
		return protocol.Parse(x) // a Buffer is truthy even when empty; JSON.parse("") throws
	}
	return v, nil
}

// decodeRow builds the row's value. On a decode failure it returns the partly decoded value (the
// columns decoded before the failing one) and the error.
func (sh *rowShape) decodeRow(cols []string, vals []any) (any, error) {
	if sh.cycleRecord {
		for i, c := range cols {
			if c == "cycleRecord" {
				if !protocol.Truthy(cell(vals[i])) {
					return nil, nil
				}
				v, err := decodeJSONCell(vals[i])
				if err != nil {
					return cell(vals[i]), err
				}
				return v, nil
			}
		}
		return nil, nil
	}
	obj := make(map[string]any, len(cols))
	for i, c := range cols {
		obj[c] = cell(vals[i])
	}
	for _, c := range sh.order {
		i := indexOf(cols, c)
		if i < 0 {
			continue
		}
		v, err := decodeJSONCell(vals[i])
		if err != nil {
			return obj, err
		}
		obj[c] = v
	}
	if sh.globalMod {
		if i := indexOf(cols, "globalModification"); i >= 0 {
			f, ok := cell(vals[i]).(float64)
			obj["globalModification"] = ok && f == 1
		}
	}
	return obj, nil
}

func indexOf(cols []string, c string) int {
	for i, x := range cols {
		if x == c {
			return i
		}
	}
	return -1
}

// rowCache maps a row's raw cells to its canonical JSON. Archived rows rarely change, and when one
// does its raw cells differ, so a hit is always current. Bounded: cleared when over maxBytes.
type rowCache struct {
	mu       sync.RWMutex
	nextID   uint64 // under mu: ids are never reused, so a rowRef names one entry forever
	seed     maphash.Seed
	m        map[uint64]cacheEntry
	bytes    int
	maxBytes int
}

type cacheEntry struct {
	id    uint64
	ns    byte
	cols  []string
	cells []any
	canon []byte
}

// rowRef names one row cache entry: its map key and its id. A compact reply (see recipe) holds
// refs, not bytes: if the entry was replaced or the cache cleared, the id no longer matches and
// the reply is recomputed, so a ref never yields another row's bytes and pins no memory.
type rowRef struct{ h, id uint64 }

func newRowCache(maxBytes int) *rowCache {
	return &rowCache{seed: maphash.MakeSeed(), m: map[uint64]cacheEntry{}, maxBytes: maxBytes}
}

// hashRow hashes the cells without copying them; ok is false for a cell type we do not cache.
func (c *rowCache) hashRow(ns byte, vals []any) (uint64, int, bool) {
	var h maphash.Hash
	h.SetSeed(c.seed)
	h.WriteByte(ns)
	size := 0
	var num [9]byte
	for _, v := range vals {
		switch x := v.(type) {
		case nil:
			h.WriteByte('N')
		case int64:
			num[0] = 'I'
			binary.LittleEndian.PutUint64(num[1:], uint64(x))
			h.Write(num[:])
		case float64:
			num[0] = 'F'
			binary.LittleEndian.PutUint64(num[1:], math.Float64bits(x))
			h.Write(num[:])
		case string:
			h.WriteByte('S')
			h.WriteString(x)
			h.WriteByte(0)
			size += len(x)
		case []byte:
			h.WriteByte('B')
			h.Write(x)
			h.WriteByte(0)
			size += len(x)
		default:
			return 0, 0, false
		}
	}
	return h.Sum64(), size + 16*len(vals), true
}

func sameCells(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		switch x := a[i].(type) {
		case []byte:
			y, ok := b[i].([]byte)
			if !ok || !bytes.Equal(x, y) {
				return false
			}
		case float64:
			y, ok := b[i].(float64)
			if !ok || math.Float64bits(x) != math.Float64bits(y) {
				return false
			}
		default:
			if a[i] != b[i] {
				return false
			}
		}
	}
	return true
}

func sameCols(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (c *rowCache) get(h uint64, ns byte, cols []string, vals []any) ([]byte, uint64) {
	c.mu.RLock()
	e, ok := c.m[h]
	c.mu.RUnlock()
	if ok && e.ns == ns && sameCols(e.cols, cols) && sameCells(e.cells, vals) {
		return e.canon, e.id
	}
	return nil, 0
}

// put stores the entry and returns its id (0: not stored, too big).
func (c *rowCache) put(h uint64, size int, e cacheEntry) uint64 {
	n := size + len(e.canon)
	if n > c.maxBytes/8 {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bytes+n > c.maxBytes {
		c.m = map[uint64]cacheEntry{}
		c.bytes = 0
	}
	if old, ok := c.m[h]; ok {
		c.bytes -= len(old.canon) + old.size()
	}
	c.nextID++
	e.id = c.nextID
	c.m[h] = e
	c.bytes += n
	return e.id
}

// size is what hashRow counted for the entry's cells.
func (e cacheEntry) size() int {
	n := 16 * len(e.cells)
	for _, v := range e.cells {
		switch x := v.(type) {
		case string:
			n += len(x)
		case []byte:
			n += len(x)
		}
	}
	return n
}

// appendRefParts appends the canonical rows named by refs as the pieces of a JSON array, as
// encodeRows built it: "[", row, ",", row, …, "]", the rows being the cache's own bytes (which
// are never changed in place, only replaced). It reports false if any of the rows is no longer
// cached.
func (c *rowCache) appendRefParts(dst [][]byte, refs []rowRef) ([][]byte, bool) {
	dst = append(dst, jsonOpen)
	c.mu.RLock()
	defer c.mu.RUnlock()
	for i, r := range refs {
		e, ok := c.m[r.h]
		if !ok || e.id != r.id {
			return dst, false
		}
		if i > 0 {
			dst = append(dst, jsonComma)
		}
		dst = append(dst, e.canon)
	}
	return append(dst, jsonClose), true
}

var jsonOpen, jsonComma, jsonClose = []byte("["), []byte(","), []byte("]")

// encodeRows returns the canonical JSON array of the rows' values. On a decode failure it returns
// the array as the reference's helpers leave it (rows before the failure decoded, the failing row
// partly, the rest raw) together with the error, so the caller picks the §5 fallback.
func (a *API) encodeRows(ctx context.Context, sh *rowShape, rows dbstore.Rows) ([]byte, error) {
	out := make([]byte, 1, 64+len(rows.Values)*a.rowSizeHint(sh))
	out[0] = '['
	// refs names the cache entry of every row, for a compact reply cache entry (see recipe).
	refs := make([]rowRef, 0, len(rows.Values))
	complete := sh.cacheable && a.cache != nil
	for r, vals := range rows.Values {
		if r > 0 {
			out = append(out, ',')
		}
		var h uint64
		var size int
		cacheable := sh.cacheable && a.cache != nil
		if cacheable {
			h, size, cacheable = a.cache.hashRow(sh.id, vals)
			if cacheable {
				if canon, id := a.cache.get(h, sh.id, rows.Columns, vals); canon != nil {
					out = append(out, canon...)
					refs = append(refs, rowRef{h: h, id: id})
					continue
				}
			}
		}
		v, err := sh.decodeRow(rows.Columns, vals)
		if err != nil {
			markFailed(ctx)
			// Partial result: this row as far as decoded, the remaining rows undecoded.
			var merr error
			if out, merr = protocol.AppendMarshal(out, v); merr != nil {
				return nil, merr
			}
			for _, rest := range rows.Values[r+1:] {
				out = append(out, ',')
				if out, merr = protocol.AppendMarshal(out, rawValue(sh, rows.Columns, rest)); merr != nil {
					return nil, merr
				}
			}
			return append(out, ']'), err
		}
		start := len(out)
		out, err = protocol.AppendMarshal(out, v)
		if err != nil {
			return nil, err
		}
		id := uint64(0)
		if cacheable {
			id = a.cache.put(h, size, cacheEntry{ns: sh.id, cols: rows.Columns, cells: vals, canon: bytes.Clone(out[start:])})
		}
		if id == 0 {
			complete = false
		}
		refs = append(refs, rowRef{h: h, id: id})
		a.noteRowSize(sh, len(out)-start)
	}
	out = append(out, ']')
	noteList(ctx, out, refs, complete)
	return out, nil
}

// rowSizeHint is the last encoded row size seen for a shape, to size the output at once.
func (a *API) rowSizeHint(sh *rowShape) int {
	if n := a.rowSizes[sh.id].Load(); n > 0 {
		return int(n) + 1
	}
	return 256
}

func (a *API) noteRowSize(sh *rowShape, n int) { a.rowSizes[sh.id].Store(int64(n)) }

// rawValue is a row left undecoded.
func rawValue(sh *rowShape, cols []string, vals []any) any {
	if sh.cycleRecord {
		if i := indexOf(cols, "cycleRecord"); i >= 0 {
			return cell(vals[i])
		}
		return nil
	}
	obj := make(map[string]any, len(cols))
	for i, c := range cols {
		obj[c] = cell(vals[i])
	}
	return obj
}
