package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Status is the part of the parent's GET /status the harness reads.
type Status struct {
	Pid      int `json:"pid"`
	Clients  int `json:"clients"`
	Children []struct {
		Pid     int    `json:"pid"`
		State   string `json:"state"`
		Clients []struct {
			Key        string `json:"key"`
			FramesSent uint64 `json:"framesSent"`
			QueueDepth int    `json:"queueDepth"`
			State      string `json:"state"` // live, lagging, stalled
		} `json:"clients"`
		Readers []struct {
			Stream   string `json:"stream"`
			Position string `json:"position"`
			Error    string `json:"error"`
		} `json:"readers"`
		// The child's lifetime counts of clients moved to the data log, rejoined, lapped (4404)
		// and stalled (1008).
		MovedToLog uint64 `json:"movedToLog"`
		Rejoined   uint64 `json:"rejoined"`
		Lapped     uint64 `json:"lapped"`
		Stalled    uint64 `json:"stalled"`
	} `json:"children"`
}

// Status fetches GET /status.
func (d *Distributor) Status(ctx context.Context) (Status, error) {
	var st Status
	err := d.getJSON(ctx, "/status", &st)
	return st, err
}

// getJSON decodes the 200 answer of GET path into v.
func (d *Distributor) getJSON(ctx context.Context, path string, v any) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+d.Addr+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d: %.200s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// WaitReady polls /status until it reports n clients and every child is running with its
// receipt reader open, so entries appended from now on reach every client.
func (d *Distributor) WaitReady(ctx context.Context, n int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last Status
	var lastErr error
	for time.Now().Before(deadline) {
		st, err := d.Status(ctx)
		last, lastErr = st, err
		if err == nil && st.Clients == n && ready(st) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-d.exited:
			return fmt.Errorf("distributor exited: %v", d.waitErr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	b, _ := json.Marshal(last)
	return fmt.Errorf("distributor not ready with %d clients after %v (last error %v, last /status %.1000s)", n, limit, lastErr, b)
}

func ready(st Status) bool {
	for _, c := range st.Children {
		if c.State != "running" {
			return false
		}
		open := false
		for _, r := range c.Readers {
			if r.Stream == "receipt" && r.Error == "" {
				open = true
			}
		}
		if !open {
			return false
		}
	}
	return true
}

// IngressStatus is the part of an ingress's GET /status the harness reads.
type IngressStatus struct {
	Role  string `json:"role"` // standby, active or stopped
	Redis struct {
		Reachable bool   `json:"reachable"`
		Error     string `json:"error"`
	} `json:"redis"`
	Streams []struct {
		Stream    string `json:"stream"`
		Key       string `json:"key"`
		LastID    string `json:"lastId"`
		Published int64  `json:"published"` // entries this process appended
		Pending   int64  `json:"pending"`
		LagMS     int64  `json:"lagMs"`
	} `json:"streams"`
}

// Published is the number of entries the ingress appended to stream (cycle, receipt, originalTx).
func (st IngressStatus) Published(stream string) int64 {
	for _, s := range st.Streams {
		if s.Stream == stream {
			return s.Published
		}
	}
	return 0
}

// IngressStatus fetches GET /status of a process started with StartIngress.
func (d *Distributor) IngressStatus(ctx context.Context) (IngressStatus, error) {
	var st IngressStatus
	err := d.getJSON(ctx, "/status", &st)
	return st, err
}

// WaitActive polls an ingress's /status until it holds the lease and Redis answers it, so lines
// written from now on are published without waiting for a takeover.
func (d *Distributor) WaitActive(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last IngressStatus
	var lastErr error
	for time.Now().Before(deadline) {
		st, err := d.IngressStatus(ctx)
		last, lastErr = st, err
		if err == nil && st.Role == "active" && st.Redis.Reachable {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-d.exited:
			return fmt.Errorf("ingress exited: %v; log:\n%s", d.waitErr, d.LogTail(2000))
		case <-time.After(10 * time.Millisecond):
		}
	}
	b, _ := json.Marshal(last)
	return fmt.Errorf("ingress on %s not active after %v (last error %v, last /status %.1000s)", d.Addr, limit, lastErr, b)
}
