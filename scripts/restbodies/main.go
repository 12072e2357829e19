// Command restbodies writes signed REST request bodies for the benchmark, one JSON body per line,
// n distinct bodies per route, signed with the collector key of protocol/vectors.json. Each body
// carries its own "nonce", so each has its own signature.
//
// Two sets (-mode):
//   - same: every body of a route asks for the same rows (/totalData, /cycleinfo {count:100},
//     /receipt {startCycle:3,endCycle:30,page:1}); with a reply cache they all hit one entry.
//   - distinct: every body of a route asks for different data, so a cache has to hold n different
//     replies (or rows) to help: /cycleinfo {start:i,end:i+49} and /receipt
//     {startCycle:i,endCycle:i+27,page:1} for i = 0..n-1, the same reply sizes as the fixed
//     queries (50 cycles; a full page of 100 receipts from 28 cycles of 7), over an archive of at
//     least n+49 cycles (scripts/bench-rest.sh generates one). The lines are shuffled (fixed
//     seed) so that neighbouring requests do not read neighbouring rows. /totalData has no
//     selector: it is one query by nature, and its bodies differ only by nonce in both sets.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
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

// Routes names the benchmarked routes, in the order they run.
var Routes = []string{"totalData", "cycleinfo", "receipt"}

// params is what body i of a route asks for.
func params(mode, route string, i int) map[string]any {
	switch route + "/" + mode {
	case "cycleinfo/same":
		return map[string]any{"count": 100.0}
	case "receipt/same":
		return map[string]any{"startCycle": 3.0, "endCycle": 30.0, "page": 1.0}
	case "cycleinfo/distinct":
		return map[string]any{"start": float64(i), "end": float64(i + 49)}
	case "receipt/distinct":
		return map[string]any{"startCycle": float64(i), "endCycle": float64(i + 27), "page": 1.0}
	}
	return map[string]any{} // totalData
}

func main() {
	out := flag.String("out", ".", "directory for <route>.txt")
	n := flag.Int("n", 1000, "distinct signed bodies per route")
	mode := flag.String("mode", "same", "same: every body asks for the same rows; distinct: each asks for different data")
	check := flag.String("check", "", "instead: POST every body in -out to this base URL and verify each reply")
	flag.Parse()
	var err error
	switch {
	case *mode != "same" && *mode != "distinct":
		err = fmt.Errorf("-mode %q: want same or distinct", *mode)
	case *check != "":
		err = checkReplies(*check, *out)
	default:
		err = run(*out, *mode, *n)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "restbodies:", err)
		os.Exit(1)
	}
}

func run(out, mode string, n int) error {
	hk, err := protocol.ParseHashKey(hashKeyHex)
	if err != nil {
		return err
	}
	keys, err := protocol.ParseKeyPair(collectorPub, collectorSec)
	if err != nil {
		return err
	}
	s := protocol.Signer{HashKey: hk, Keys: keys}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if mode == "distinct" {
		rand.New(rand.NewPCG(1, 2)).Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	for _, route := range Routes {
		f, err := os.Create(filepath.Join(out, route+".txt"))
		if err != nil {
			return err
		}
		w := bufio.NewWriter(f)
		for _, i := range order {
			obj := map[string]any{"sender": collectorPub, "nonce": float64(i)}
			for k, v := range params(mode, route, i) {
				obj[k] = v
			}
			b, err := s.SignObject(obj)
			if err != nil {
				f.Close()
				return err
			}
			w.Write(b)
			w.WriteByte('\n')
		}
		err = w.Flush()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkReplies posts every body and verifies that each reply is a signed success, and says how
// many different replies (by content) each route gave.
func checkReplies(base, dir string) error {
	hk, err := protocol.ParseHashKey(hashKeyHex)
	if err != nil {
		return err
	}
	for _, route := range Routes {
		data, err := os.ReadFile(filepath.Join(dir, route+".txt"))
		if err != nil {
			return err
		}
		lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
		size := 0
		distinct := map[[32]byte]bool{}
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
			size += len(reply)
			distinct[sha256.Sum256(reply)] = true
		}
		fmt.Printf("%s: %d signed requests answered, every reply verified; %d different replies, %d bytes on average\n",
			route, len(lines), len(distinct), size/max(1, len(lines)))
	}
	return nil
}
