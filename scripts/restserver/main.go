// Command restserver serves only the REST query API (package queryapi) over an archive directory,
// with the vector keys: the benchmark's server (scripts/bench-rest.sh). It prints "listening on
// ADDR" once ready and serves until killed. -cpuprofile writes a pprof CPU profile on SIGINT/SIGTERM.
// The runtime's settings (GOGC, GOMEMLIMIT, GODEBUG) come from the environment, as the parent's do.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"

	"github.com/shardeum/distributor/dbstore"
	"github.com/shardeum/distributor/dbstore/archivegen"
	"github.com/shardeum/distributor/protocol"
	"github.com/shardeum/distributor/queryapi"
)

const (
	hashKeyHex = "69fa4195670576c0160d660c3be36556ff8d504725be8a59b5a96509e0c994bc"
	publicHex  = "758b1c119412298802cd28dbfa394cdfeecc4074492d60844cc192d632d84de3"
	secretHex  = "3be00019f23847529bd63e41124864983175063bb524bd54ea3c155f2fa12969758b1c119412298802cd28dbfa394cdfeecc4074492d60844cc192d632d84de3"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	dir := flag.String("db", "testdata/archiver-db", "ARCHIVER_DB_DIR")
	rate := flag.Int("rate", 100, "RATE_LIMIT (loopback is exempt)")
	cacheBytes := flag.Int("row-cache", 0, "row cache bytes (0 default, -1 off)")
	respCache := flag.Int("response-cache", 0, "response cache bytes (0 default, -1 off)")
	maxInFlight := flag.Int("max-in-flight", 0, "POST requests doing CPU work at once, the rest queue in arrival order (0: GOMAXPROCS, -1: plain net/http scheduling)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile here")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address (e.g. 127.0.0.1:6060): allocs, mutex, block, trace while wrk runs")
	wal := flag.Bool("wal", true, "serve a copy of -db switched to WAL, with a writer connection open on each file, as the archiver runs them")
	procs := flag.Int("gomaxprocs", 0, "runtime.GOMAXPROCS (0: leave it; for the GC, set GOGC or GOMEMLIMIT in the environment)")
	flag.Parse()
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	if *wal {
		tmp, cleanup, err := walCopy(*dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "restserver:", err)
			os.Exit(1)
		}
		defer cleanup()
		*dir = tmp
	}
	if *pprofAddr != "" {
		go servePprof(*pprofAddr)
	}
	if err := run(*addr, *dir, *rate, *cacheBytes, *respCache, *maxInFlight, *cpuProfile); err != nil {
		fmt.Fprintln(os.Stderr, "restserver:", err)
		os.Exit(1)
	}
}

// servePprof serves the profiles on their own listener, away from the measured one. Mutex and
// block profiling are switched on only here, since they cost something on every contention.
func servePprof(addr string) {
	runtime.SetMutexProfileFraction(5)
	runtime.SetBlockProfileRate(10_000) // one sample per 10 us blocked
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", httppprof.Index)
	mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", httppprof.Trace)
	if err := http.ListenAndServe(addr, mux); err != nil {
		fmt.Fprintln(os.Stderr, "restserver: pprof:", err)
	}
}

// walCopy copies the archive into a temporary directory and switches each file to WAL through a
// read-write connection it keeps open (the archiver's part).
func walCopy(dir string) (string, func(), error) {
	tmp, err := os.MkdirTemp("", "restserver-archive-")
	if err != nil {
		return "", nil, err
	}
	var dbs []*sql.DB
	cleanup := func() {
		for _, d := range dbs {
			d.Close()
		}
		os.RemoveAll(tmp)
	}
	for _, f := range archivegen.FileNames {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err == nil {
			err = os.WriteFile(filepath.Join(tmp, f), b, 0o644)
		}
		if err != nil {
			cleanup()
			return "", nil, err
		}
		d, err := sql.Open("sqlite", "file:"+filepath.Join(tmp, f)+"?_pragma=journal_mode(WAL)")
		if err == nil {
			d.SetMaxOpenConns(1)
			err = d.Ping()
		}
		if err != nil {
			cleanup()
			return "", nil, err
		}
		dbs = append(dbs, d)
	}
	return tmp, cleanup, nil
}

func run(addr, dir string, rate, cacheBytes, respCache, maxInFlight int, cpuProfile string) error {
	hk, err := protocol.ParseHashKey(hashKeyHex)
	if err != nil {
		return err
	}
	keys, err := protocol.ParseKeyPair(publicHex, secretHex)
	if err != nil {
		return err
	}
	store, err := dbstore.Open(dir, dbstore.DefaultFiles())
	if err != nil {
		return err
	}
	defer store.Close()
	signer := protocol.Signer{HashKey: hk, Keys: keys}
	auth := protocol.Auth{HashKey: hk}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	api := queryapi.New(queryapi.Options{
		Store: store, Signer: func() protocol.Signer { return signer }, Auth: func() protocol.Auth { return auth },
		RateLimit: rate, Logger: log, RowCacheBytes: cacheBytes, ResponseCacheBytes: respCache,
		MaxInFlight: maxInFlight,
		PublicConfig: func() any {
			return queryapi.PublicConfig("127.0.0.1", 0, publicHex, false, 0)
		},
	})
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Println("listening on", ln.Addr())
	srv := &http.Server{Handler: api}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
