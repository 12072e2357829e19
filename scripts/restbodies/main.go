// Command restbodies writes signed REST request bodies for the benchmark, one JSON body per line:
// n distinct bodies per route (each carries its own "nonce", so each has its own signature), all
// asking for the same rows, signed with the collector key of protocol/vectors.json.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/shardeum/distributor/protocol"
)

const (
	hashKeyHex   = "69fa4195670576c0160d660c3be36556ff8d504725be8a59b5a96509e0c994bc"
	collectorPub = "d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737"
	collectorSec = "1111111111111111111111111111111111111111111111111111111111111111d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737"
)

// Routes is what the benchmark asks of each route.
var Routes = map[string]map[string]any{
	"totalData": {},
	"cycleinfo": {"count": 100.0},
	"receipt":   {"startCycle": 3.0, "endCycle": 30.0, "page": 1.0},
}

func main() {
	out := flag.String("out", ".", "directory for <route>.txt")
	n := flag.Int("n", 1000, "distinct signed bodies per route")
	check := flag.String("check", "", "instead: POST every body in -out to this base URL and verify each reply")
	flag.Parse()
	run := run
	if *check != "" {
		run = func(out string, n int) error { return checkReplies(*check, out) }
	}
	if err := run(*out, *n); err != nil {
		fmt.Fprintln(os.Stderr, "restbodies:", err)
		os.Exit(1)
	}
}

func run(out string, n int) error {
	hk, err := protocol.ParseHashKey(hashKeyHex)
	if err != nil {
		return err
	}
	keys, err := protocol.ParseKeyPair(collectorPub, collectorSec)
	if err != nil {
		return err
	}
	s := protocol.Signer{HashKey: hk, Keys: keys}
	for route, params := range Routes {
		f, err := os.Create(filepath.Join(out, route+".txt"))
		if err != nil {
			return err
		}
		w := bufio.NewWriter(f)
		for i := 0; i < n; i++ {
			obj := map[string]any{"sender": collectorPub, "nonce": float64(i)}
			for k, v := range params {
				obj[k] = v
			}
			b, err := s.SignObject(obj)
			if err != nil {
				return err
			}
			w.Write(b)
			w.WriteByte('\n')
		}
		if err := w.Flush(); err != nil {
			return err
		}
		f.Close()
	}
	return nil
}

// checkReplies posts every body and verifies that each reply is a signed success.
func checkReplies(base, dir string) error {
	hk, err := protocol.ParseHashKey(hashKeyHex)
	if err != nil {
		return err
	}
	for route := range Routes {
		data, err := os.ReadFile(filepath.Join(dir, route+".txt"))
		if err != nil {
			return err
		}
		lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
		size := 0
		for _, body := range lines {
			resp, err := http.Post(base+"/"+route, "application/json", bytes.NewReader(body))
			if err != nil {
				return err
			}
			reply, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			if resp.StatusCode != 200 || bytes.Contains(reply, []byte(`"success":false`)) {
				return fmt.Errorf("%s: HTTP %d: %.200s", route, resp.StatusCode, reply)
			}
			if err := protocol.VerifyJSON(hk, reply); err != nil {
				return fmt.Errorf("%s: reply signature: %v", route, err)
			}
			size = len(reply)
		}
		fmt.Printf("%s: %d signed requests answered, every reply verified (%d bytes each)\n", route, len(lines), size)
	}
	return nil
}
