package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/shardeum/distributor/parent"
)

// TestStatusShowsClientStates: the table shows each client's state (a lagging one with its lag)
// and each child's counts of clients moved to the log, rejoined, lapped and stalled.
func TestStatusShowsClientStates(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	st := parent.Status{Pid: 1, Started: now, Listen: "127.0.0.1:6100", DB: "ok", Clients: 3,
		Children: []parent.ChildStatus{{Pid: 2, State: "running", Started: now,
			MovedToLog: 7, Rejoined: 5, Lapped: 1, Stalled: 1,
			Clients: []parent.ClientStatus{
				{ID: "a", Key: "ka", Remote: "r", ConnectedSince: now, State: "live"},
				{ID: "b", Key: "kb", Remote: "r", ConnectedSince: now, State: "lagging", LagLines: 1200, LagSeconds: 3.5},
				{ID: "c", Key: "kc", Remote: "r", ConnectedSince: now, State: "stalled"},
			}}}}
	var out bytes.Buffer
	if err := printStatus(&out, st, now); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"MOVED TO LOG", "REJOINED", "LAPPED", "STALLED", "STATE",
		"lagging 1200 lines, 3.5s", "stalled", "live"} {
		if !strings.Contains(s, want) {
			t.Errorf("status output lacks %q:\n%s", want, s)
		}
	}
	for _, line := range strings.Split(s, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "child" {
			// child PID STATE CLIENTS STARTED MOVED REJOINED LAPPED STALLED NOTE
			if got := strings.Join(f[5:9], " "); got != "7 5 1 1" {
				t.Errorf("child counts %q, want \"7 5 1 1\": %q", got, line)
			}
			return
		}
	}
	t.Errorf("no child line:\n%s", s)
}

// TestStatusShowsEdgeSource: on an edge the summary says the source is Redis and where REST goes,
// and each reader row shows its source, stream key, last entry ID and lag; a files node's rows
// show files and dashes.
func TestStatusShowsEdgeSource(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	lag := 2.5
	st := parent.Status{Pid: 1, Started: now, Listen: "127.0.0.1:6100", DB: "open archive: no such file", Source: "redis",
		RESTForward: "http://archive:6100",
		Children: []parent.ChildStatus{{Pid: 2, State: "running", Started: now, Readers: []parent.ReaderStatus{
			{Stream: "receipt", Source: "redis", Key: "distributor:receipt", LastID: "1733570000000-4", Entries: 12, LagSeconds: &lag},
			{Stream: "cycle", Source: "redis", Key: "distributor:cycle", Error: "redis: connection refused"},
		}}}}
	var out bytes.Buffer
	if err := printStatus(&out, st, now); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"source redis", "REST forwarded to http://archive:6100", "SOURCE", "KEY", "LAST ID", "LAG",
		"POSITION", "ENTRIES", "ERROR"} {
		if !strings.Contains(s, want) {
			t.Errorf("edge status lacks %q:\n%s", want, s)
		}
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(s, "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[0] == "2" {
			rows[f[1]] = f
		}
	}
	// CHILD STREAM SOURCE KEY LAST-ID POSITION ENTRIES LAG ERROR...
	if got := strings.Join(rows["receipt"], " "); got != "2 receipt redis distributor:receipt 1733570000000-4 - 12 2.5s -" {
		t.Errorf("receipt row %q", got)
	}
	if got := strings.Join(rows["cycle"], " "); got != "2 cycle redis distributor:cycle - - 0 - redis: connection refused" {
		t.Errorf("cycle row %q", got)
	}

	st = parent.Status{Pid: 1, Started: now, Listen: "127.0.0.1:6100", DB: "ok", Source: "files",
		Children: []parent.ChildStatus{{Pid: 2, State: "running", Started: now, Readers: []parent.ReaderStatus{
			{Stream: "receipt", Source: "files", Position: "receipt-log1.txt:120", Entries: 3, LagSeconds: &lag}}}}}
	out.Reset()
	if err := printStatus(&out, st, now); err != nil {
		t.Fatal(err)
	}
	s = out.String()
	if !strings.Contains(s, "source files") || strings.Contains(s, "REST forwarded") {
		t.Errorf("files status summary:\n%s", s)
	}
	found := false
	for _, line := range strings.Split(s, "\n") {
		found = found || strings.Join(strings.Fields(line), " ") == "2 receipt files - - receipt-log1.txt:120 3 2.5s -"
	}
	if !found {
		t.Errorf("no files reader row \"2 receipt files - - receipt-log1.txt:120 3 2.5s -\":\n%s", s)
	}
}
