package redisstream

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/shardeum/distributor/logreader"
)

// genLimit bounds ID.Gen: the millisecond part of an entry ID is Epoch*genLimit + Gen, so that
// both read back from it in decimal.
const genLimit = 1_000_000_000

// ID is an entry's stream ID, derived from where its line is in the data logs:
//
//	<Epoch*1e9 + Gen>-<Line>
//
// Epoch is the Unix second at which the ingress began the stream's history (the stream was
// empty: first start, or Redis lost it). Gen counts the data-log files the ingress has read in
// this history, from 1; it grows by one whenever a line comes from another file than the line
// before (another file number or fingerprint, or a file re-read from its start). Line is the
// line's number in its file (logreader.Position.Line). IDs therefore grow strictly in stream
// order, they are the same whichever ingress process appends the line, and an append repeated
// after a crash is refused by Redis as "equal or smaller than the top item".
type ID struct {
	Epoch int64
	Gen   int64
	Line  int64
}

// String is the Redis form.
func (id ID) String() string {
	return strconv.FormatInt(id.Epoch*genLimit+id.Gen, 10) + "-" + strconv.FormatInt(id.Line, 10)
}

// ms is the millisecond part, which names the file in the index.
func (id ID) ms() string { return strconv.FormatInt(id.Epoch*genLimit+id.Gen, 10) }

// IsZero reports the zero ID (0-0: before everything).
func (id ID) IsZero() bool { return id == ID{} }

// Less orders IDs as Redis does.
func (id ID) Less(o ID) bool {
	if id.Epoch != o.Epoch {
		return id.Epoch < o.Epoch
	}
	if id.Gen != o.Gen {
		return id.Gen < o.Gen
	}
	return id.Line < o.Line
}

// ParseID reads the Redis form back.
func ParseID(s string) (ID, error) {
	msPart, seqPart, ok := strings.Cut(s, "-")
	if !ok {
		return ID{}, fmt.Errorf("redisstream: entry ID %q is not ms-seq", s)
	}
	ms, err1 := strconv.ParseInt(msPart, 10, 64)
	seq, err2 := strconv.ParseInt(seqPart, 10, 64)
	if err1 != nil || err2 != nil || ms < 0 || seq < 0 {
		return ID{}, fmt.Errorf("redisstream: entry ID %q is not two non-negative decimals", s)
	}
	return ID{Epoch: ms / genLimit, Gen: ms % genLimit, Line: seq}, nil
}

// fileField names a data-log file in the index: "N.<16 hex fingerprint>", as in the cursor.
func fileField(p logreader.Position) string {
	return strconv.Itoa(p.File) + "." + fmt.Sprintf("%016x", p.FP)
}

// Keys are the Redis keys of one stream.
type Keys struct {
	Stream string // <prefix><stream>: the entries
	Files  string // <prefix><stream>:files: hash file "N.FP" -> the ms part of its entries' IDs
	Meta   string // <prefix><stream>:meta: hash epoch, refilled
}

// KeysFor returns the keys of stream s under prefix.
func KeysFor(prefix string, s logreader.Stream) Keys {
	k := prefix + string(s)
	return Keys{Stream: k, Files: k + ":files", Meta: k + ":meta"}
}

// LeaseKey is the key the active ingress holds.
func LeaseKey(prefix string) string { return prefix + "ingress:lease" }

// Entry fields.
const (
	fieldCursor = "cursor"
	fieldFrame  = "frame"
)
