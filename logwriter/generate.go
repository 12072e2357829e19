package logwriter

import (
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/shardeum/distributor/logreader"
)

// Generator makes realistic data-log entries, shaped like what the archiver writes to its data
// logs (archive-server src/Data/Collector.ts):
//
//   - cycle: the DbCycle {counter, cycleMarker, cycleRecord:{...the P2P cycle record...}};
//   - receipt: the ArchiverReceipt plus receiptId, timestamp and applyTimestamp, about 1.5 KB
//     (tx, cycle, signedReceipt, afterStates, beforeStates, appReceiptData, executionShardKey,
//     globalModification);
//   - originalTx: {txId, timestamp, cycle, originalTxData:{tx:{...}}}.
//
// Every entry also carries "writtenAt": the Unix time in microseconds when it was generated,
// from which a subscriber computes append-to-receive latency. The content is a function of the
// seed and of Now: with a fixed clock the output is byte-for-byte reproducible.
type Generator struct {
	rng     *rand.Rand
	Now     func() time.Time
	counter int // the current cycle
	tx      int
	scratch [64]byte
}

// NewGenerator returns a generator seeded with seed; now nil means time.Now.
func NewGenerator(seed uint64, now func() time.Time) *Generator {
	if now == nil {
		now = time.Now
	}
	return &Generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), Now: now, counter: 1000}
}

// Append appends one entry of stream s (no newline) to dst.
func (g *Generator) Append(dst []byte, s logreader.Stream) []byte {
	now := g.Now()
	switch s {
	case logreader.Cycle:
		return g.cycle(dst, now)
	case logreader.OriginalTx:
		return g.originalTx(dst, now)
	default:
		return g.receipt(dst, now)
	}
}

func (g *Generator) hex(dst []byte, n int) []byte {
	b := g.scratch[:n]
	for i := 0; i < n; i += 8 {
		v := g.rng.Uint64()
		for j := i; j < n && j < i+8; j++ {
			b[j] = byte(v)
			v >>= 8
		}
	}
	return hex.AppendEncode(dst, b)
}

func (g *Generator) key(dst []byte, k string) []byte {
	dst = append(dst, '"')
	dst = append(dst, k...)
	return append(dst, '"', ':')
}

func (g *Generator) hexField(dst []byte, k string, n int) []byte {
	dst = g.key(dst, k)
	dst = append(dst, '"')
	dst = g.hex(dst, n)
	return append(dst, '"', ',')
}

func (g *Generator) intField(dst []byte, k string, v int64) []byte {
	dst = g.key(dst, k)
	dst = strconv.AppendInt(dst, v, 10)
	return append(dst, ',')
}

func (g *Generator) raw(dst []byte, k, v string) []byte {
	dst = g.key(dst, k)
	dst = append(dst, v...)
	return append(dst, ',')
}

func writtenAt(dst []byte, now time.Time) []byte {
	dst = append(dst, `"writtenAt":`...)
	dst = strconv.AppendInt(dst, now.UnixMicro(), 10)
	return append(dst, '}')
}

func (g *Generator) cycle(dst []byte, now time.Time) []byte {
	g.counter++
	start := now.Unix() - now.Unix()%60
	dst = append(dst, '{')
	dst = g.intField(dst, "counter", int64(g.counter))
	marker := g.hex(nil, 32)
	dst = append(dst, `"cycleMarker":"`...)
	dst = append(dst, marker...)
	dst = append(dst, `","cycleRecord":{"activated":[],"activatedPublicKeys":[],`...)
	dst = g.intField(dst, "active", 128+int64(g.rng.IntN(8)))
	dst = append(dst, `"apoptosized":[],"appRemoved":[],`...)
	dst = g.hexField(dst, "archiverListHash", 32)
	dst = append(dst, `"archiversAtShutdown":[],`...)
	dst = g.intField(dst, "counter", int64(g.counter))
	dst = g.intField(dst, "desired", 1280)
	dst = g.intField(dst, "duration", 60)
	dst = g.intField(dst, "expired", int64(g.rng.IntN(3)))
	dst = append(dst, `"finishedSyncing":[],"joined":[],"joinedArchivers":[],"joinedConsensors":[],"leavingArchivers":[],"lost":[],"lostAfterSelection":[],"lostArchivers":[],"lostSyncing":[],`...)
	dst = append(dst, `"marker":"`...)
	dst = append(dst, marker...)
	dst = append(dst, `",`...)
	dst = g.intField(dst, "maxSyncTime", 1200)
	dst = g.raw(dst, "mode", `"processing"`)
	dst = g.hexField(dst, "networkConfigHash", 32)
	dst = g.hexField(dst, "networkId", 32)
	dst = g.hexField(dst, "nodeListHash", 32)
	dst = g.hexField(dst, "previous", 32)
	dst = g.intField(dst, "random", int64(g.rng.Uint32()))
	dst = append(dst, `"refreshedArchivers":[],"refreshedConsensors":[],"refuted":[],"refutedArchivers":[],"removed":[],"removedArchivers":[],"returned":[],"safetyMode":false,"safetyNum":0,"standby":0,"standbyAdd":[],`...)
	dst = g.hexField(dst, "standbyNodeListHash", 32)
	dst = append(dst, `"standbyRefresh":[],"standbyRemove":[],`...)
	dst = g.intField(dst, "start", start)
	dst = g.intField(dst, "syncing", 0)
	dst = g.intField(dst, "target", 1280)
	dst = dst[:len(dst)-1]
	dst = append(dst, `},`...)
	return writtenAt(dst, now)
}

func (g *Generator) txBody(dst []byte, ms int64) []byte {
	dst = append(dst, `{"tx":{"raw":"0x02f8`...)
	dst = g.hex(dst, 32)
	dst = append(dst, `","timestamp":`...)
	dst = strconv.AppendInt(dst, ms, 10)
	return append(dst, `}}`...)
}

func (g *Generator) originalTx(dst []byte, now time.Time) []byte {
	ms := now.UnixMilli()
	g.tx++
	dst = append(dst, '{')
	dst = g.hexField(dst, "txId", 32)
	dst = g.intField(dst, "timestamp", ms)
	dst = g.intField(dst, "cycle", int64(g.counter))
	dst = g.key(dst, "originalTxData")
	dst = g.txBody(dst, ms)
	dst = append(dst, ',')
	return writtenAt(dst, now)
}

func (g *Generator) receipt(dst []byte, now time.Time) []byte {
	ms := now.UnixMilli()
	g.tx++
	txID := g.hex(nil, 32)
	account := g.hex(nil, 32)
	shard := g.hex(nil, 32)
	dst = append(dst, '{')
	dst = g.key(dst, "afterStates")
	dst = append(dst, `[{"accountId":"`...)
	dst = append(dst, account...)
	dst = append(dst, `","data":{"account":{"balance":{"dataType":"bi","value":"`...)
	dst = strconv.AppendUint(dst, g.rng.Uint64()>>8, 16)
	dst = append(dst, `"},"nonce":{"dataType":"bi","value":"`...)
	dst = strconv.AppendInt(dst, int64(g.rng.IntN(1000)), 16)
	dst = append(dst, `"}},"accountType":0,`...)
	dst = g.intField(dst, "timestamp", ms)
	dst = dst[:len(dst)-1]
	dst = append(dst, `},`...)
	dst = g.hexField(dst, "hash", 16)
	dst = append(dst, `"isGlobal":false,`...)
	dst = g.intField(dst, "timestamp", ms)
	dst = dst[:len(dst)-1]
	dst = append(dst, `}],"appReceiptData":{"accountId":"`...)
	dst = append(dst, txID...)
	dst = append(dst, `","data":{"readableReceipt":{"gasUsed":"0x5208","status":1,"value":"0x0"}},`...)
	dst = g.intField(dst, "timestamp", ms)
	dst = dst[:len(dst)-1]
	dst = append(dst, `},"applyTimestamp":`...)
	dst = strconv.AppendInt(dst, ms+int64(g.rng.IntN(500)), 10)
	dst = append(dst, `,"beforeStates":[],`...)
	dst = g.intField(dst, "cycle", int64(g.counter))
	dst = append(dst, `"executionShardKey":"`...)
	dst = append(dst, shard...)
	dst = append(dst, `","globalModification":false,"receiptId":"`...)
	dst = append(dst, txID...)
	dst = append(dst, `","signedReceipt":{"proposal":{"accountIDs":["`...)
	dst = append(dst, account...)
	dst = append(dst, `"],"afterStateHashes":["`...)
	dst = g.hex(dst, 32)
	dst = append(dst, `"],"applied":true,"beforeStateHashes":[],"cant_preApply":false},`...)
	dst = append(dst, `"signaturePack":[{"owner":"`...)
	dst = g.hex(dst, 32)
	dst = append(dst, `","sig":"`...)
	dst = g.hex(dst, 48)
	dst = append(dst, `"}],"voteOffsets":[0]},`...)
	dst = g.intField(dst, "timestamp", ms)
	dst = append(dst, `"tx":{"originalTxData":`...)
	dst = g.txBody(dst, ms)
	dst = append(dst, `,"timestamp":`...)
	dst = strconv.AppendInt(dst, ms, 10)
	dst = append(dst, `,"txId":"`...)
	dst = append(dst, txID...)
	dst = append(dst, `"},`...)
	return writtenAt(dst, now)
}
