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
