package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReplayCommand(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	r := runner{dir: dir}.run(t, "replay", "--dir", logs, "--generate", "30", "--streams", "receipt,cycle", "--max-entries", "10")
	if r.code != 0 || !strings.Contains(r.stderr, "replay: 60 entries (cycle 30, receipt 30)") {
		t.Fatalf("generate: exit %d\nstderr: %s", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(logs, "active-receipt-log.txt")); string(b) != "receipt-log3.txt" {
		t.Fatalf("pointer %q", b)
	}
	if _, err := os.Stat(filepath.Join(logs, "active-originalTx-log.txt")); err == nil {
		t.Fatal("originalTx written though not asked for")
	}
	copyDir := filepath.Join(dir, "copy")
	r = runner{dir: dir}.run(t, "replay", "--dir", copyDir, "--from", logs, "--quiet")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("from: exit %d\nstderr: %s", r.code, r.stderr)
	}
	a, _ := os.ReadFile(filepath.Join(logs, "cycle-log2.txt"))
	b, _ := os.ReadFile(filepath.Join(copyDir, "cycle-log1.txt"))
	if !strings.Contains(string(b), strings.SplitN(string(a), "\n", 2)[0]) {
		t.Fatal("--from did not copy the cycle entries")
	}
	jsonl := runner{dir: dir, stdin: "{\"a\":1}\n{\"a\":2}\r\n"}.run(t, "replay", "--dir", logs, "--jsonl", "-", "--stream", "originalTx", "--quiet")
	if jsonl.code != 0 {
		t.Fatalf("jsonl: exit %d: %s", jsonl.code, jsonl.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(logs, "originalTx-log1.txt")); string(b) != "{\"a\":1}\n{\"a\":2}\n" {
		t.Fatalf("jsonl wrote %q", b)
	}
	if bad := (runner{dir: dir}).run(t, "replay", "--dir", logs); bad.code != 2 || !strings.Contains(bad.stderr, "exactly one of") {
		t.Fatalf("no source: exit %d: %s", bad.code, bad.stderr)
	}
}
