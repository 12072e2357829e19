package queryapi

import (
	"bufio"
	"encoding/hex"
	"net/http"
	"sort"
	"strconv"
	"sync"

	"github.com/shardeum/distributor/protocol"
)

// field is one top-level member of a reply: raw is its canonical JSON (already encoded), else val
// is encoded with protocol.Marshal.
type field struct {
	key string
	raw []byte
	val any
}

type payload []field

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > 8<<20 {
		return // let the odd huge reply go to the GC
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// appendMembers appends `"k":v` pairs of fs (already sorted), comma separated.
func appendMembers(dst []byte, fs []field) ([]byte, error) {
	for i, f := range fs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendQuote(dst, f.key) // keys are our ASCII constants
		dst = append(dst, ':')
		if f.raw != nil {
			dst = append(dst, f.raw...)
			continue
		}
		var err error
		if dst, err = protocol.AppendMarshal(dst, f.val); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// sorted orders the members by key (our keys are ASCII, where byte order is UTF-16 order).
func (p payload) sorted() payload {
	sort.SliceStable(p, func(i, j int) bool { return p[i].key < p[j].key })
	return p
}

func split(p payload) (pre, post []field) {
	i := sort.Search(len(p), func(i int) bool { return p[i].key > "sign" })
	return p[:i], p[i:]
}

// appendSigned appends the signed reply: the canonical payload is hashed with the keyed BLAKE2b,
// the hash signed with Ed25519 (libsodium's combined form: signature then hash, in hex), and the
// sign member placed in key order. Identical bytes to Signer.SignObject on the same object, since a
// canonical form re-parsed prints the same (rest-api.md §2.3 round trip); the tests check it.
func appendSigned(dst []byte, s protocol.Signer, p payload, sigs *sigCache) ([]byte, error) {
	pre, post := split(p.sorted())
	tmp := getBuf()
	defer putBuf(tmp)
	c := append((*tmp)[:0], '{')
	c, err := appendMembers(c, pre)
	if err != nil {
		return dst, err
	}
	preEnd := len(c) // c[1:preEnd] holds the members before "sign"
	if len(pre) > 0 && len(post) > 0 {
		c = append(c, ',')
	}
	postStart := len(c)
	if c, err = appendMembers(c, post); err != nil {
		return dst, err
	}
	c = append(c, '}')
	*tmp = c
	sum := s.HashKey.Sum(c)
	var sig []byte
	if sigs != nil {
		sig = sigs.sign(s, sum)
	} else {
		sig = s.Keys.Sign(sum[:])
	}

	dst = append(dst, c[:preEnd]...)
	if len(pre) > 0 {
		dst = append(dst, ',')
	}
	dst = append(dst, `"sign":{"owner":"`...)
	dst = append(dst, s.Keys.PublicHex...)
	dst = append(dst, `","sig":"`...)
	dst = hex.AppendEncode(dst, sig)
	dst = hex.AppendEncode(dst, sum[:])
	dst = append(dst, `"}`...)
	if len(post) > 0 {
		dst = append(dst, ',')
		dst = append(dst, c[postStart:len(c)-1]...)
	}
	return append(dst, '}'), nil
}

func appendUnsigned(dst []byte, p payload) ([]byte, error) {
	dst = append(dst, '{')
	dst, err := appendMembers(dst, p.sorted())
	return append(dst, '}'), err
}

// Header values we set on every reply, shared rather than allocated per request (net/http copies
// the header map before writing it, and nobody appends to these one-element slices in place:
// append on a full slice reallocates).
var (
	hvJSON = []string{"application/json; charset=utf-8"}
	hvStar = []string{"*"}
)

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	writeJSONHeader(w, status, len(body))
	w.Write(body)
}

// writeJSONParts writes a reply given in pieces, in order. They go through a 64 KiB buffer: a page
// of receipts is ~200 pieces of a few KB each, which net/http's own 4 KiB buffer would send in
// ~100 writes instead of ~7.
func writeJSONParts(w http.ResponseWriter, status int, parts [][]byte) {
	size := 0
	for _, p := range parts {
		size += len(p)
	}
	writeJSONHeader(w, status, size)
	bw := partsWriters.Get().(*bufio.Writer)
	bw.Reset(w)
	for _, p := range parts {
		bw.Write(p) // an error sticks: the later writes and Flush do nothing
	}
	bw.Flush()
	bw.Reset(nil)
	partsWriters.Put(bw)
}

var partsWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

func writeJSONHeader(w http.ResponseWriter, status, size int) {
	h := w.Header()
	h["Content-Type"] = hvJSON
	h["Content-Length"] = []string{strconv.Itoa(size)}
	w.WriteHeader(status)
}

// partsPool holds the piece lists of replies served from recipes (about 200 pieces for a page of
// 100 receipts).
var partsPool = sync.Pool{New: func() any { b := make([][]byte, 0, 256); return &b }}

func getParts() *[][]byte { return partsPool.Get().(*[][]byte) }

func putParts(b *[][]byte) {
	clear((*b)[:cap(*b)]) // the pool must not keep rows alive
	*b = (*b)[:0]
	partsPool.Put(b)
}

// sigCache remembers signatures by (hash, key). Ed25519 is deterministic, so a remembered
// signature is exactly the one signing would produce: repeated replies (totals that did not
// change, cached pages) skip the signing.
type sigCache struct {
	mu sync.Mutex
	m  map[sigKey][]byte
}

type sigKey struct {
	sum [32]byte
	pub string
}

func newSigCache() *sigCache { return &sigCache{m: map[sigKey][]byte{}} }

func (c *sigCache) sign(s protocol.Signer, sum [32]byte) []byte {
	k := sigKey{sum: sum, pub: s.Keys.PublicHex}
	c.mu.Lock()
	sig, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return sig
	}
	sig = s.Keys.Sign(sum[:])
	c.mu.Lock()
	if len(c.m) >= 4096 {
		clear(c.m)
	}
	c.m[k] = sig
	c.mu.Unlock()
	return sig
}
