package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shardeum/distributor/protocol"
	"github.com/shardeum/distributor/scripts/internal/collector"
	"github.com/shardeum/distributor/scripts/internal/firehosetest"
)

func distributorSigner(t *testing.T) (protocol.HashKey, protocol.Signer) {
	t.Helper()
	hk, err := protocol.ParseHashKey(collector.DefaultHashKey)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := protocol.ParseKeyPair(collector.DistributorPublicKey, collector.DistributorSecretKey)
	if err != nil {
		t.Fatal(err)
	}
	return hk, protocol.Signer{HashKey: hk, Keys: kp}
}

func receipts(t *testing.T, s protocol.Signer, from, to int64) []firehosetest.Message {
	var m []firehosetest.Message
	for seq := from; seq <= to; seq++ {
		m = append(m, firehosetest.Text(firehosetest.Frame(t, s, protocol.KindReceipt,
			firehosetest.Entry(seq, time.Now()), "c"+strings.Repeat("0", 3)+string(rune('0'+seq%10)))))
	}
	return m
}

// runTool runs the command in-process and returns its exit status, stdout and stderr.
func runTool(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	if ctx.Err() != nil {
		t.Fatalf("fake-collector did not finish by itself; stderr:\n%s", errb.String())
	}
	return code, out.String(), errb.String()
}

func decode(t *testing.T, out string) collector.Summary {
	t.Helper()
	var s collector.Summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("--json output is not a summary: %v\n%s", err, out)
	}
	return s
}

func TestCleanRunSavesCursor(t *testing.T) {
	hk, dist := distributorSigner(t)
	srv := firehosetest.Start(t, hk, receipts(t, dist, 1, 20))
	cur := filepath.Join(t.TempDir(), "cursor.json")
	code, out, errs := runTool(t, "--addr", srv.Addr, "--json", "--save-cursor", cur, "--cursor", "cycle=7")
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	s := decode(t, out)
	if s.Frames != 20 || s.Streams["receipt"].Frames != 20 || s.Verified != 20 || !s.OK() {
		t.Errorf("summary = %+v; want 20 verified receipt frames, OK", s)
	}
	if len(s.Closes) != 1 || s.Closes[0].Code != 1000 || s.Closes[0].Reason != "script done" {
		t.Errorf("closes = %+v; want one 1000 \"script done\"", s.Closes)
	}
	saved, err := collector.LoadCursorFile(cur)
	if err != nil {
		t.Fatal(err)
	}
	// The last receipt's cursor, and the cycle cursor it started from (no cycle frame arrived).
	if saved["receipt"] != "c0000" || saved["cycle"] != "7" {
		t.Errorf("saved cursors = %v; want receipt c0000 (seq 20), cycle 7", saved)
	}
	// Resuming from the file puts those cursors in the signed handshake.
	srv2 := firehosetest.Start(t, hk, receipts(t, dist, 21, 21))
	if code, out, errs := runTool(t, "--addr", srv2.Addr, "--cursor-file", cur, "--interval", "0"); code != exitOK {
		t.Fatalf("resume exit %d; stdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	hs := <-srv2.Handshakes
	if c, _ := hs.Object["cursor"].(map[string]any); c["receipt"] != "c0000" || c["cycle"] != "7" {
		t.Errorf("resume handshake cursor = %v", hs.Object["cursor"])
	}
}

func TestForgedFrameFails(t *testing.T) {
	hk, dist := distributorSigner(t)
	script := receipts(t, dist, 1, 3)
	forged := bytes.Replace(script[1].Data, []byte("r000002"), []byte("r000222"), 1)
	script[1] = firehosetest.Text(forged)
	srv := firehosetest.Start(t, hk, script)
	code, out, _ := runTool(t, "--addr", srv.Addr)
	if code != exitProblems || !strings.Contains(out, "invalid 1") || !strings.Contains(out, "bad signature") {
		t.Errorf("exit %d, want 1 with one invalid frame reported; stdout:\n%s", code, out)
	}
}

func TestGapAndAbnormalCloseFail(t *testing.T) {
	hk, dist := distributorSigner(t)
	gap := append(receipts(t, dist, 1, 2), receipts(t, dist, 4, 4)...)
	srv := firehosetest.Start(t, hk, gap)
	if code, out, _ := runTool(t, "--addr", srv.Addr, "--json"); code != exitProblems || decode(t, out).Gaps != 1 {
		t.Errorf("gap: exit %d, want 1; stdout:\n%s", code, out)
	}
	closed := append(receipts(t, dist, 1, 2), firehosetest.Message{Close: websocket.StatusPolicyViolation, Reason: "slow consumer"})
	srv2 := firehosetest.Start(t, hk, closed)
	code, out, _ := runTool(t, "--addr", srv2.Addr)
	if code != exitProblems || !strings.Contains(out, `close code 1008, reason "slow consumer"`) {
		t.Errorf("1008 close: exit %d, want 1 naming the code; stdout:\n%s", code, out)
	}
}

// --expect ends each of 3 clients (own generated keys) after N frames with a normal close.
func TestExpectWithClients(t *testing.T) {
	hk, dist := distributorSigner(t)
	script := append(receipts(t, dist, 1, 5), firehosetest.Message{Wait: true})
	srv := firehosetest.Start(t, hk, script)
	code, out, errs := runTool(t, "--addr", srv.Addr, "--clients", "3", "--expect", "5", "--json")
	if code != exitOK {
		t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if s := decode(t, out); s.Streams["receipt"].MinPerClient != 5 || s.Clients != 3 {
		t.Errorf("summary = %+v; want 3 clients with 5 frames each", s)
	}
	senders := map[any]bool{}
	for range 3 {
		senders[(<-srv.Handshakes).Object["sender"]] = true
		if code := <-srv.ClientClose; code != websocket.StatusNormalClosure {
			t.Errorf("client closed with %d, want 1000", code)
		}
	}
	if len(senders) != 3 || senders[collector.CollectorPublicKey] {
		t.Errorf("senders = %v; want 3 distinct generated keys", senders)
	}
}

// A normal close before --expect frames arrived is a failure.
func TestExpectNotReached(t *testing.T) {
	hk, dist := distributorSigner(t)
	srv := firehosetest.Start(t, hk, receipts(t, dist, 1, 3)) // then closes 1000
	code, _, errs := runTool(t, "--addr", srv.Addr, "--expect", "5")
	if code != exitProblems || !strings.Contains(errs, "1 of 1 clients ended before receiving --expect 5 receipt frames") {
		t.Errorf("exit %d, want 1 with a message; stderr:\n%s", code, errs)
	}
}

// A run ended by --duration is not a failure even though the server never closed.
func TestDurationEndsNormally(t *testing.T) {
	hk, dist := distributorSigner(t)
	srv := firehosetest.Start(t, hk, append(receipts(t, dist, 1, 2), firehosetest.Message{Wait: true}))
	code, out, errs := runTool(t, "--addr", srv.Addr, "--duration", "1500ms", "--interval", "500ms")
	if code != exitOK || !strings.Contains(out, "end cancelled") {
		t.Errorf("exit %d, want 0 with a cancelled end; stdout:\n%s", code, out)
	}
	if code := <-srv.ClientClose; code != websocket.StatusNormalClosure {
		t.Errorf("at the end of --duration the client closed with %d, want 1000", code)
	}
	if !strings.Contains(errs, "receipt 0/s (2)") {
		t.Errorf("live lines on stderr do not show the 2 receipts:\n%s", errs)
	}
}

func TestUsageErrors(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys.json")
	os.WriteFile(keys, []byte(`[{"publicKey":"`+collector.CollectorPublicKey+`","secretKey":"`+collector.CollectorSecretKey+`"}]`), 0o644)
	for _, args := range [][]string{
		{"--clients", "0"}, {"--cursor", "blocks=1"}, {"--save-cursor", "x", "--clients", "2"},
		{"--keys", keys, "--clients", "2"}, {"--secret-key", collector.StrangerSecretKey}, {"extra"},
	} {
		if code, _, errs := runTool(t, args...); code != exitUsage || !strings.Contains(errs, "fake-collector:") {
			t.Errorf("%q: exit %d, want 2 with a message; stderr %q", args, code, errs)
		}
	}
}
