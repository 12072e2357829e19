package parent_test

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/shardeum/distributor/parent"
)

// 12 clients, 5 per child: exactly 3 children (5, 5, 2); all leave: 0 children;
// one more: a new child.
func TestPlacementTwelveClientsThreeChildren(t *testing.T) {
	e := newEnv(t, 5, false)
	r := startParent(t, e, runOpts{})

	clients := make([]*wsClient, 12)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := dialWS(r.addr, newCollector(t).handshake(t, e.hashKey, time.Now()), "")
			if err != nil {
				t.Errorf("client %d: %v", i, err)
				return
			}
			clients[i] = w
		}()
	}
	wg.Wait()
	if t.Failed() {
		for _, w := range clients {
			if w != nil {
				w.close()
			}
		}
		t.FailNow()
	}

	st := r.waitStatus("12 clients reported", func(st parent.Status) bool { return st.Clients == 12 })
	if len(st.Children) != 3 {
		t.Fatalf("children = %d, want exactly 3", len(st.Children))
	}
	counts := []int{}
	first := map[int]bool{}
	for _, c := range st.Children {
		counts = append(counts, len(c.Clients))
		first[c.Pid] = true
		if !alive(c.Pid) {
			t.Errorf("child %d listed but not alive", c.Pid)
		}
	}
	if counts[0] != 5 || counts[1] != 5 || counts[2] != 2 {
		t.Errorf("clients per child = %v, want [5 5 2] (first child with room)", counts)
	}
	// The parent paces them: three children share the cores.
	r.waitStatus("three children paced", allProcs(max(1, runtime.NumCPU()/3)))

	// Frames reach every client (the children really serve them).
	e.feedUntil(t, "cycle", clients...)

	for _, w := range clients {
		w.close()
	}
	r.waitStatus("0 children after every client left", childCount(0))
	pids := []int{}
	for pid := range first {
		pids = append(pids, pid)
	}
	waitGone(t, pids, stopDeadline)

	last := r.dial(newCollector(t))
	st = r.waitStatus("one new child", func(st parent.Status) bool { return len(st.Children) == 1 && st.Clients == 1 })
	r.waitStatus("a lone child paced to every core", allProcs(runtime.NumCPU()))
	if first[st.Children[0].Pid] {
		t.Errorf("new client went to old child %d", st.Children[0].Pid)
	}
	last.close()
	r.waitStatus("0 children", childCount(0))
}

// allProcs: every child runs with GOMAXPROCS n.
func allProcs(n int) func(parent.Status) bool {
	return func(st parent.Status) bool {
		for _, c := range st.Children {
			if c.Procs != n {
				return false
			}
		}
		return len(st.Children) > 0
	}
}
