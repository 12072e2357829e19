package fanout_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/shardeum/distributor/child"
)

const asParentEnv = "CHILD_TEST_AS_PARENT"

// runAsParent is the test binary acting as a parent process: it spawns a child, prints its pid and
// waits to be killed.
func runAsParent() int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := child.Spawn(ctx, child.SpawnOptions{
		Executable: os.Getenv(asParentEnv), Config: []byte(`{"DATA_LOG_DIR":` + strconv.Quote(os.Getenv("CHILD_TEST_DIR")) + `}`),
	})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Println("pid", p.Pid())
	_, _ = io.Copy(io.Discard, os.Stdin) // until killed
	return 0
}

// TestParentKilled: kill -9 of the parent takes its child down with it (no orphan).
func TestParentKilled(t *testing.T) {
	checkGoroutines(t)
	// Become the subreaper of our descendants, so that the orphaned child is re-parented to this
	// process and its end can be awaited (wait4) instead of polled.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Skipf("cannot become a subreaper: %v", err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), asParentEnv+"="+childBin, "CHILD_TEST_DIR="+t.TempDir())
	stdin, _ := cmd.StdinPipe()
	defer stdin.Close()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "pid ") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("parent said %q, %v", line, err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "pid ")))
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("child %d not running: %v", pid, err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	reaped := make(chan error, 1)
	go func() {
		var ws unix.WaitStatus
		_, err := unix.Wait4(pid, &ws, 0, nil)
		// Usually the kernel's SIGKILL (Pdeathsig); the child may also notice first (stdin EOF) and
		// exit, or die of SIGPIPE logging to its dead parent. Any end will do: no orphan.
		if err == nil && !ws.Signaled() && !ws.Exited() {
			err = fmt.Errorf("child in state %#x", ws)
		}
		reaped <- err
	}()
	select {
	case err := <-reaped:
		if err != nil {
			t.Fatalf("wait for orphaned child %d: %v", pid, err)
		}
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(pid, syscall.SIGKILL)
		<-reaped
		t.Fatalf("child %d outlived its parent by 20 s", pid)
	}
	assertNoProcess(t, pid)
}

const upgradeRequest = "GET /?data=x HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// maskedPing is a client ping frame with payload "xyz".
func maskedPing() []byte {
	mask := []byte{1, 2, 3, 4}
	f := []byte{0x89, 0x80 | 3}
	f = append(f, mask...)
	for i, b := range []byte("xyz") {
		f = append(f, b^mask[i%4])
	}
	return f
}

// TestHandoffLosesNoByte: whatever the parent read before the handoff (part of the request, or the
// request and the client's first frame) and whatever is still in the socket reach the child intact.
func TestHandoffLosesNoByte(t *testing.T) {
	checkGoroutines(t)
	ev := newEvents()
	p := spawn(t, testConfig(t, t.TempDir(), 0), ev)
	fp := newFakeParent(t)
	all := append([]byte(upgradeRequest), maskedPing()...)
	for _, tc := range []struct {
		name string
		pre  int // bytes the parent reads before the handoff
	}{
		{"request and first frame", len(all)},
		{"part of the request line", 7},
		{"request head only", len(upgradeRequest)},
		{"nothing", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errc := make(chan error, 1)
			go func() {
				conn, err := fp.ln.Accept()
				if err != nil {
					errc <- err
					return
				}
				defer conn.Close()
				pre := make([]byte, tc.pre)
				if _, err := io.ReadFull(conn, pre); err != nil {
					errc <- err
					return
				}
				errc <- p.Handoff(conn, pre, child.Handoff{ClientID: tc.name})
			}()
			c, err := net.Dial("tcp", fp.ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Write(all); err != nil { // one write: request and ping together
				t.Fatal(err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			_ = c.SetDeadline(time.Now().Add(20 * time.Second))
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("status %d", resp.StatusCode)
			}
			pong := make([]byte, 5)
			if _, err := io.ReadFull(br, pong); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(pong, []byte{0x8A, 3, 'x', 'y', 'z'}) {
				t.Fatalf("got % x, want a pong with xyz", pong)
			}
			ev.waitConnected(t, tc.name)
			_ = c.Close()
			ev.waitClosed(t, tc.name)
		})
	}
}

// TestHandoffNotWebSocket: a handed-off request that is not a WebSocket upgrade gets an HTTP error
// from the child, and the parent a ClientClosed.
func TestHandoffNotWebSocket(t *testing.T) {
	checkGoroutines(t)
	ev := newEvents()
	p := spawn(t, testConfig(t, t.TempDir(), 0), ev)
	fp := newFakeParent(t)
	errc := fp.handOffNext(p, child.Handoff{ClientID: "plain"})
	c, err := net.Dial("tcp", fp.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /?data=x HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 {
		t.Fatalf("status %d for a plain GET", resp.StatusCode)
	}
	if ce := ev.waitClosed(t, "plain"); ce.code != 1002 || !strings.Contains(ce.reason, "handshake") {
		t.Fatalf("ClientClosed %+v", ce)
	}
}
