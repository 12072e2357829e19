package protocol

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"unicode/utf8"
)

// RawJSON is JSON text that Marshal embeds in canonical form (as safeJsonParse of it would give).
type RawJSON []byte

// Marshal is safeStringify: the canonical JSON of v. v is built from nil, bool, float64 (other Go
// numbers are converted to float64, as JavaScript would hold them), string, []any, []string,
// map[string]any, map[string]string, BigInt, Bytes, []byte (a Buffer) and RawJSON.
func Marshal(v any) ([]byte, error) { return AppendMarshal(nil, v) }

// AppendMarshal appends the canonical JSON of v to dst.
func AppendMarshal(dst []byte, v any) ([]byte, error) {
	e := encoder{buf: dst}
	if err := e.value(v, false, false); err != nil {
		return dst, err
	}
	return e.buf, nil
}

var keysPool = sync.Pool{New: func() any { s := make([]string, 0, 32); return &s }}

func (e *encoder) value(v any, underSig, root bool) error {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case bool:
		if x {
			e.buf = append(e.buf, "true"...)
		} else {
			e.buf = append(e.buf, "false"...)
		}
	case float64:
		e.float(x)
	case float32:
		e.float(float64(x))
	case int:
		e.float(float64(x))
	case int8:
		e.float(float64(x))
	case int16:
		e.float(float64(x))
	case int32:
		e.float(float64(x))
	case int64:
		e.float(float64(x))
	case uint:
		e.float(float64(x))
	case uint8:
		e.float(float64(x))
	case uint16:
		e.float(float64(x))
	case uint32:
		e.float(float64(x))
	case uint64:
		e.float(float64(x))
	case string:
		e.buf = appendQuoted(e.buf, x)
	case BigInt:
		h, ok := normaliseBigIntHex([]byte(x.Hex))
		if !ok {
			return fmt.Errorf("protocol: BigInt hex %q is not hexadecimal", x.Hex)
		}
		e.buf = append(e.buf, `{"dataType":"bi","value":"`...)
		e.buf = append(e.buf, h...)
		e.buf = append(e.buf, `"}`...)
	case *BigInt:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.value(*x, underSig, root)
	case Bytes:
		e.bytes(x.Data, x.Uint8Array)
		if underSig {
			e.nonFixed = true
		}
	case []byte:
		e.bytes(x, false)
		if underSig {
			e.nonFixed = true
		}
	case RawJSON:
		d := getDoc()
		defer putDoc(d)
		r, err := d.parse(x)
		if err != nil {
			return err
		}
		if underSig {
			e.nonFixed = true // the raw text was revived as a root, not as a "sig" value
		}
		return e.node(d, r, false)
	case []any:
		return appendArray(e, x)
	case []string:
		e.buf = append(e.buf, '[')
		for j, el := range x {
			if j > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendQuoted(e.buf, el)
		}
		e.buf = append(e.buf, ']')
	case []map[string]any:
		return appendArray(e, x)
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return e.value(m, underSig, root)
	case map[string]any:
		if err := e.enter(); err != nil {
			return err
		}
		if err := e.mapObject(x, underSig, root); err != nil {
			return err
		}
		e.depth--
	default:
		return fmt.Errorf("protocol: cannot marshal a value of type %T", v)
	}
	return nil
}

func (e *encoder) enter() error {
	e.depth++
	if e.depth > MaxDepth {
		return fmt.Errorf("protocol: nesting deeper than %d (or a cycle)", MaxDepth)
	}
	return nil
}

func (e *encoder) float(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		e.buf = append(e.buf, "null"...)
		return
	}
	e.buf = appendJSNumber(e.buf, f)
}

func (e *encoder) mapObject(m map[string]any, underSig, root bool) error {
	skip := root && e.skipSign
	n := len(m)
	if skip {
		if _, ok := m["sign"]; ok {
			n--
		}
	}
	if n == 2 {
		if t, ok := m["type"].(string); ok && t == "Buffer" {
			if data, ok := m["data"]; ok {
				if b, ok, err := goBufferData(data); err != nil {
					return err
				} else if ok {
					if root && e.signing {
						if err := e.bufferRoot(n != len(m)); err != nil {
							return err
						}
					}
					e.bytes(b, false)
					if underSig {
						e.nonFixed = true
					}
					return nil
				}
			}
		}
	}
	if !underSig {
		if dt, ok := m["dataType"].(string); ok && (dt == "bb" || dt == "u8ab" || dt == "bi") {
			e.nonFixed = true // parsing the output again would revive this object
		}
	}
	kp := keysPool.Get().(*[]string)
	keys := (*kp)[:0]
	for k := range m {
		if skip && k == "sign" {
			continue
		}
		switch k {
		case "__proto__", "constructor", "prototype":
			e.nonFixed = true
		}
		if !utf8.ValidString(k) {
			e.nonFixed = true
		}
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareUTF16[string])
	defer func() {
		clear(keys)
		*kp = keys[:0]
		keysPool.Put(kp)
	}()
	e.buf = append(e.buf, '{')
	signDone := !skip
	for j, k := range keys {
		if !signDone && compareUTF16(k, "sign") > 0 {
			e.markSign(j > 0, true)
			signDone = true
		}
		if j > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendQuoted(e.buf, k)
		e.buf = append(e.buf, ':')
		if err := e.value(m[k], k == "sig", false); err != nil {
			return err
		}
	}
	if !signDone {
		e.markSign(len(keys) > 0, false)
	}
	e.buf = append(e.buf, '}')
	return nil
}

// goBufferData is Buffer.from(data) for the data of a Buffer-shaped Go map.
func goBufferData(v any) ([]byte, bool, error) {
	switch x := v.(type) {
	case string:
		return toUTF8(nil, x), true, nil
	case Bytes:
		return x.Data, true, nil
	case []byte:
		return x, true, nil
	case []any:
		out := make([]byte, 0, len(x))
		for _, el := range x {
			f, err := goToNumber(el)
			if err != nil {
				return nil, false, err
			}
			out = append(out, toUint8(f))
		}
		return out, true, nil
	}
	return nil, false, nil
}

func goToNumber(v any) (float64, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case float64:
		return x, nil
	case string:
		return stringToNumber([]byte(x)), nil
	case BigInt, *BigInt:
		return 0, errBigIntToNumber
	case []any, Bytes, []byte:
		b, err := Marshal([]any{x}) // reuse the arena's String() through a round trip
		if err != nil {
			return 0, err
		}
		d := getDoc()
		defer putDoc(d)
		r, err := d.parse(b)
		if err != nil {
			return 0, err
		}
		return d.toNumber(d.kids[d.nodes[r].a])
	}
	if m, ok := v.(map[string]any); ok && m != nil {
		return math.NaN(), nil // "[object Object]"
	}
	var e encoder
	if err := e.value(v, false, false); err != nil {
		return 0, err
	}
	return stringToNumber(e.buf), nil
}

// appendArray prints a slice of values as a JSON array.
func appendArray[T any](e *encoder, x []T) error {
	if err := e.enter(); err != nil {
		return err
	}
	e.buf = append(e.buf, '[')
	for j, el := range x {
		if j > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.value(el, false, false); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	e.depth--
	return nil
}
