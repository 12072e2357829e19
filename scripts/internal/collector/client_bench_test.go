package collector_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/shardeum/distributor/protocol"
	"github.com/shardeum/distributor/scripts/internal/collector"
)

// BenchmarkClientReceive is the subscriber's cost per ~1.6 KB frame (the bench runs up to a
// thousand of them in one process): WebSocket read, scan, order checks, latency, and one
// signature verification in 100.
func BenchmarkClientReceive(b *testing.B) {
	hk, _ := protocol.ParseHashKey(collector.DefaultHashKey)
	kp, _ := protocol.ParseKeyPair(collector.DistributorPublicKey, collector.DistributorSecretKey)
	dist := protocol.Signer{HashKey: hk, Keys: kp}
	ckp, _ := protocol.ParseKeyPair(collector.CollectorPublicKey, collector.CollectorSecretKey)
	const perFile = 1000
	frames := make([][]byte, perFile)
	for i := range frames {
		line := fmt.Appendf(nil, `{"receiptId":"%064x","tx":{"data":"%s"},"writtenAt":1}`, i, strings.Repeat("x", 1400))
		cur := fmt.Sprintf("1.%d.%d.00000000000000aa", i+1, (i+1)*1500)
		f, err := dist.Frame(protocol.KindReceipt, line, cur)
		if err != nil {
			b.Fatal(err)
		}
		frames[i] = f
	}
	n := b.N
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for i := 0; i < n; i++ {
			if err := c.Write(context.Background(), websocket.MessageText, frames[i%perFile]); err != nil {
				return
			}
		}
		c.Close(websocket.StatusNormalClosure, "")
	}))
	defer srv.Close()
	c := collector.New(collector.Options{Addr: strings.TrimPrefix(srv.URL, "http://"), Signer: protocol.Signer{HashKey: hk, Keys: ckp},
		VerifyEvery: 100, ExpectStream: "receipt", ExpectFrames: int64(n), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	b.SetBytes(int64(len(frames[0])))
	b.ResetTimer()
	r := c.Run(context.Background())
	if r.End != collector.EndExpected {
		b.Fatalf("ended %s: %v", r.End, r.Err)
	}
}
