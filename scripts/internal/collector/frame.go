package collector

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Streams are the wire keys of the three firehose streams, in the order the summary prints them.
var Streams = []string{"cycle", "receipt", "originalTx"}

// Frame is what the client needs from one firehose frame, found by a single scan of the bytes
// rather than a full decode, so a client can keep up with thousands of frames a second while
// verifying only every Nth signature.
type Frame struct {
	Stream string // "cycle", "receipt" or "originalTx"
	Cursor string // the frame's top-level "cursor"; "" if absent
	Owner  string // sign.owner
	// From inside the entry object, when present (generated bench/test entries carry them):
	Seq          int64 // "seq"
	HasSeq       bool
	WrittenAtUS  int64 // "writtenAt", Unix microseconds
	HasWrittenAt bool
}

// ParseFrame extracts a Frame from a frame's bytes. It fails unless the bytes are one JSON object
// with exactly one stream key whose value is an object, and a "sign" object with a string owner.
func ParseFrame(data []byte) (Frame, error) {
	v, err := viewFrame(data)
	return v.frame(), err
}

// frameView is a Frame whose cursor and owner are still the frame's own bytes (Frame's Cursor
// and Owner are left empty): what a subscriber reads from each frame without allocating. A
// thousand subscribers in one process allocating two strings a frame made the bench harness
// collect its garbage every four seconds, each collection a burst of late frames.
type frameView struct {
	Frame
	cursor, owner []byte // into the frame's bytes: valid while they are
}

// frame is v with its cursor and owner copied into Frame's strings.
func (v frameView) frame() Frame {
	f := v.Frame
	f.Cursor, f.Owner = string(v.cursor), string(v.owner)
	return f
}

// viewFrame is ParseFrame without the copies.
func viewFrame(data []byte) (frameView, error) {
	if v, ok := viewCanonical(data); ok {
		return v, nil
	}
	f, err := parseAny(data)
	v := frameView{Frame: f, cursor: []byte(f.Cursor), owner: []byte(f.Owner)}
	v.Cursor, v.Owner = "", ""
	return v, err
}

func viewCanonical(data []byte) (f frameView, ok bool) {
	const (
		head, signHead, sigHead, end = `{"cursor":"`, `},"sign":{"owner":"`, `","sig":"`, `"}}`
		ownerLen, sigLen             = 64, 192 // hex of a public key; of a signature and its hash
		tailLen                      = len(signHead) + ownerLen + len(sigHead) + sigLen + len(end)
		writtenAt                    = `,"writtenAt":`
	)
	rest, ok := bytes.CutPrefix(data, []byte(head))
	q := bytes.IndexByte(rest, '"')
	if !ok || q < 0 || bytes.IndexByte(rest[:q], '\\') >= 0 {
		return f, false
	}
	f.cursor, rest = rest[:q], rest[q+1:]
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"`)); !ok {
		return f, false
	}
	for _, st := range Streams {
		if bytes.HasPrefix(rest, []byte(st)) && bytes.HasPrefix(rest[len(st):], []byte(`":{`)) {
			f.Stream, rest = st, rest[len(st)+2:]
			break
		}
	}
	if f.Stream == "" || len(rest) < tailLen+2 {
		return f, false
	}
	// The sign object has a fixed length: read it from the end.
	entry, tail := rest[:len(rest)-tailLen+1], rest[len(rest)-tailLen+1:]
	owner := tail[len(signHead)-1 : len(signHead)-1+ownerLen]
	if string(tail[:len(signHead)-1]) != signHead[1:] || !isHex(owner) ||
		string(tail[len(signHead)-1+ownerLen:][:len(sigHead)]) != sigHead || string(tail[len(tail)-len(end):]) != end {
		return f, false
	}
	f.owner = owner
	// "writtenAt" ends the entry: {...,"writtenAt":N}
	j := len(entry) - 1
	for j > 0 && '0' <= entry[j-1] && entry[j-1] <= '9' {
		j--
	}
	if entry[len(entry)-1] != '}' || j == len(entry)-1 || !bytes.HasSuffix(entry[:j], []byte(writtenAt)) ||
		endsWithSeq(entry[:j-len(writtenAt)]) {
		return f, false
	}
	n, err := strconv.ParseInt(string(entry[j:len(entry)-1]), 10, 64)
	if err != nil {
		return f, false
	}
	f.WrittenAtUS, f.HasWrittenAt = n, true
	return f, true
}

// endsWithSeq reports whether b ends with a member "seq":N.
func endsWithSeq(b []byte) bool {
	i := len(b)
	for i > 0 && '0' <= b[i-1] && b[i-1] <= '9' {
		i--
	}
	return i < len(b) && bytes.HasSuffix(b[:i], []byte(`"seq":`))
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return len(b) > 0
}

// parseAny extracts a Frame from any JSON frame, walking all of it.
func parseAny(data []byte) (Frame, error) {
	var f Frame
	var entry, sign []byte
	kinds := 0
	err := eachMember(data, func(key, val []byte) error {
		switch string(key) {
		case "cursor":
			s, err := jsonString(val)
			if err != nil {
				return fmt.Errorf("cursor: %w", err)
			}
			f.Cursor = s
		case "sign":
			sign = val
		case "cycle":
			kinds, f.Stream, entry = kinds+1, "cycle", val
		case "receipt":
			kinds, f.Stream, entry = kinds+1, "receipt", val
		case "originalTx":
			kinds, f.Stream, entry = kinds+1, "originalTx", val
		}
		return nil
	})
	if err != nil {
		return f, err
	}
	switch {
	case kinds == 0:
		return f, errors.New("frame has no cycle, receipt or originalTx key")
	case kinds > 1:
		return f, errors.New("frame has more than one stream key")
	case sign == nil:
		return f, errors.New("frame has no sign")
	}
	if err := eachMember(sign, func(key, val []byte) error {
		if string(key) == "owner" {
			s, err := jsonString(val)
			if err != nil {
				return fmt.Errorf("sign.owner: %w", err)
			}
			f.Owner = s
		}
		return nil
	}); err != nil {
		return f, fmt.Errorf("sign: %w", err)
	}
	if err := eachMember(entry, func(key, val []byte) error {
		switch string(key) {
		case "seq":
			n, err := jsonInt(val)
			if err == nil {
				f.Seq, f.HasSeq = n, true
			}
		case "writtenAt":
			n, err := jsonInt(val)
			if err == nil {
				f.WrittenAtUS, f.HasWrittenAt = n, true
			}
		}
		return nil
	}); err != nil {
		return f, fmt.Errorf("%s: %w", f.Stream, err)
	}
	return f, nil
}

// eachMember calls fn for each member of the JSON object in data, with the key (unescaped) and the
// raw bytes of the value. It validates the structure it skips (brackets, strings) but not number
// or literal syntax in depth; signature verification, when done, parses strictly.
func eachMember(data []byte, fn func(key, val []byte) error) error {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return errors.New("not a JSON object")
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		if skipSpace(data, i+1) != len(data) {
			return errors.New("trailing data after object")
		}
		return nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return fmt.Errorf("expected a key at offset %d", i)
		}
		end, err := skipString(data, i)
		if err != nil {
			return err
		}
		key := data[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			s, err := jsonString(data[i:end])
			if err != nil {
				return err
			}
			key = []byte(s)
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return fmt.Errorf("expected ':' at offset %d", i)
		}
		i = skipSpace(data, i+1)
		vend, err := skipValue(data, i)
		if err != nil {
			return err
		}
		if err := fn(key, data[i:vend]); err != nil {
			return err
		}
		i = skipSpace(data, vend)
		if i >= len(data) {
			return errors.New("unterminated object")
		}
		if data[i] == '}' {
			if skipSpace(data, i+1) != len(data) {
				return errors.New("trailing data after object")
			}
			return nil
		}
		if data[i] != ',' {
			return fmt.Errorf("expected ',' or '}' at offset %d", i)
		}
		i = skipSpace(data, i+1)
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// skipString returns the offset just past the string starting at b[i] == '"'. It jumps from
// quote to quote with bytes.IndexByte (most of a frame is string bytes) and counts the
// backslashes before each to tell an escaped quote from the closing one.
func skipString(b []byte, i int) (int, error) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, fmt.Errorf("unterminated string at offset %d", i)
		}
		q := j + k
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1, nil
		}
		j = q + 1
	}
}

// skipValue returns the offset just past the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errors.New("missing value")
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, fmt.Errorf("unterminated value at offset %d", i)
	default:
		j := i
		for j < len(b) && !isDelim(b[j]) {
			j++
		}
		if j == i {
			return 0, fmt.Errorf("unexpected %q at offset %d", b[i], i)
		}
		return j, nil
	}
}

func isDelim(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\n', '\r', '\t', ':':
		return true
	}
	return false
}

func jsonString(val []byte) (string, error) {
	if len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
		return "", errors.New("not a string")
	}
	if bytes.IndexByte(val, '\\') < 0 {
		return string(val[1 : len(val)-1]), nil
	}
	var s string
	err := json.Unmarshal(val, &s)
	return s, err
}

func jsonInt(val []byte) (int64, error) {
	if n, err := strconv.ParseInt(string(val), 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(string(val), 64)
	if err != nil {
		return 0, err
	}
	return int64(f), nil
}
