package parent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/shardeum/distributor/child"
	"github.com/shardeum/distributor/config"
	"github.com/shardeum/distributor/promexport"
	"github.com/shardeum/distributor/protocol"
	"github.com/shardeum/distributor/queryapi"
)

// parent is the state of one Run.
type parent struct {
	opts    Options
	log     *slog.Logger
	started time.Time
	addr    net.Addr

	cfg atomic.Pointer[config.Config]
	db  atomic.Pointer[dbState]      // the archive, or why it is unavailable
	api atomic.Pointer[queryapi.API] // REST routes on the current archive (nil while it is unavailable)

	transport *http.Transport           // to REST_FORWARD_URL
	fwd       atomic.Pointer[forwarder] // the forwarder to the current REST_FORWARD_URL, once used
	restMode  atomic.Value              // restLocal, restForward or restUnavailable (see restForwarder)

	spawnCtx context.Context // children's lifetime; cancelled last
	sigTable *os.File        // shared by the children (child.NewSigTable), or nil
	wg       sync.WaitGroup  // background goroutines (watchers, retirements, sweeps)

	mu             sync.Mutex
	closed         bool // no new placement
	finished       bool // Run is in its final wait: no new goroutines
	seq            int
	nextID         uint64
	placement      []*slot            // running/starting children in spawn order
	live           map[*slot]struct{} // every child not yet exited
	clients        map[string]*client // by client id
	byKey          map[string]string  // sender key -> newest client id
	readerProblems map[int]string     // pid -> last ReaderProblem
	paceWake       chan struct{}      // see pacer
	metrics        metricsState
	obsMu          sync.Mutex // one observe at a time: a stale Stats must not be applied after a newer one
	prom           *promexport.Exporter
	problems       map[problemKey]*readerProblem // see health.go
	refusals       refusalLog
}

// Run serves the firehose and the REST API on DISTRIBUTOR_IP:DISTRIBUTOR_PORT until
// ctx is cancelled, then stops within o.Grace: no new connections, every child closes
// its clients with 1001 and exits (killed if it has not by then). It returns an
// error only if it could not start (the listener could not bind).
func Run(ctx context.Context, cfg *config.Config, o Options) error {
	if cfg == nil {
		return errors.New("parent: nil config")
	}
	o = o.withDefaults()
	p := &parent{
		opts:           o,
		log:            o.Logger,
		started:        time.Now(),
		live:           map[*slot]struct{}{},
		clients:        map[string]*client{},
		byKey:          map[string]string{},
		readerProblems: map[int]string{},
		paceWake:       make(chan struct{}, 1),
		problems:       map[problemKey]*readerProblem{},
		transport:      newTransport(),
	}
	// Redis mode registers its families (ingress published, lease state, source lag) on p.prom.
	p.prom = promexport.New(promexport.Options{Snapshot: p.promSnapshot, CloseCodes: []int{
		int(protocol.CloseReplaced), int(protocol.CloseShutdown), int(protocol.CloseSlowConsumer),
		int(protocol.CloseCursorGone), int(protocol.CloseInternal)}})
	p.cfg.Store(cfg)
	p.refusals.log = p.log

	addr := net.JoinHostPort(cfg.DistributorIP, strconv.Itoa(cfg.DistributorPort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("parent: listen on DISTRIBUTOR_IP:DISTRIBUTOR_PORT %s: %w", addr, err)
	}
	p.addr = ln.Addr()

	p.openDB(cfg)
	defer p.closeDB()
	p.restForwarder() // logs how REST is answered
	defer p.transport.CloseIdleConnections()

	spawnCtx, cancelSpawn := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSpawn()
	p.spawnCtx = spawnCtx
	if t, err := child.NewSigTable(); err != nil {
		p.log.Warn("children will each sign every frame", "err", err)
	} else {
		p.sigTable = t
		defer t.Close() // children keep their own mappings
	}

	srv := &http.Server{
		Handler:           p.handler(),
		MaxHeaderBytes:    maxHeaderBytes,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(p.log.Handler(), slog.LevelDebug),
	}
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1) // before Ready: a SIGUSR1 from then on must not kill us
	defer signal.Stop(usr1)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	p.log.Info("listening", "addr", p.addr.String(), "pid", os.Getpid())
	if o.Ready != nil {
		o.Ready(p.addr)
	}

	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	loopDone := make(chan struct{})
	go func() { defer close(loopDone); p.loop(runCtx, usr1) }()
	p.goTracked(func() { p.pacer(runCtx) })

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
		p.log.Error("http server stopped", "err", serveErr)
		cancelRun()
	}
	<-loopDone
	p.stop(srv)
	cancelSpawn()
	p.mu.Lock()
	p.finished = true
	p.mu.Unlock()
	p.wg.Wait()
	if serveErr != nil {
		return fmt.Errorf("parent: serve %s: %w", p.addr, serveErr)
	}
	return nil
}

// loop handles SIGUSR1 and the periodic expiry sweep until ctx is done. The work
// itself (RPCs to children, any of which may be wedged) runs in one worker
// goroutine, so the loop always answers ctx at once; requests that arrive while the
// worker is busy are coalesced, a pending reload winning over a sweep.
func (p *parent) loop(ctx context.Context, usr1 <-chan os.Signal) {
	t := time.NewTicker(p.opts.SweepInterval)
	defer t.Stop()
	const (
		doSweep = 1 << iota
		doReload
	)
	var (
		mu      sync.Mutex
		pending int
		wake    = make(chan struct{}, 1)
	)
	request := func(what int) {
		mu.Lock()
		pending |= what
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	p.goTracked(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-wake:
			}
			mu.Lock()
			what := pending
			pending = 0
			mu.Unlock()
			switch {
			case what&doReload != 0:
				p.reload() // sweeps too
			case what&doSweep != 0:
				p.retryDB()
				p.sweep("expired")
				p.observe(p.readySlots())
			}
		}
	})
	for {
		select {
		case <-ctx.Done():
			return
		case <-usr1:
			request(doReload)
		case <-t.C:
			request(doSweep)
		}
	}
}

// stop ends the service within Grace: the listener closes first, then every child
// gets Shutdown (its clients see 1001), then stragglers are killed.
func (p *parent) stop(srv *http.Server) {
	deadline := time.Now().Add(p.opts.Grace)
	p.mu.Lock()
	p.closed = true
	p.placement = nil
	p.mu.Unlock()
	p.log.Info("shutting down", "grace", p.opts.Grace)

	httpCtx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	httpDone := make(chan struct{})
	go func() {
		defer close(httpDone)
		if err := srv.Shutdown(httpCtx); err != nil {
			_ = srv.Close()
		}
	}()

	// Children get until killAt to close their clients and exit; then the parent kills
	// them itself, leaving a margin inside the grace for the kill and the reaping.
	margin := min(p.opts.Grace/4, 500*time.Millisecond)
	killAt := deadline.Add(-margin)
	var wg sync.WaitGroup
	for _, s := range p.liveSlots() {
		wg.Add(1)
		go func(s *slot) {
			defer wg.Done()
			select {
			case <-s.ready:
			case <-time.After(time.Until(killAt)):
				return // still starting: spawn stops it once it is up (p.closed)
			}
			if s.proc == nil {
				return
			}
			p.mu.Lock()
			if s.state == running || s.state == starting {
				s.state = retiring
			}
			p.mu.Unlock()
			// Shutdown blocks until the child is gone; its own kill (half a second after
			// the grace it is given) comes after ours.
			p.goTracked(func() { _ = s.proc.Shutdown(max(time.Until(killAt), 50*time.Millisecond)) })
			select {
			case <-s.proc.Exited():
			case <-time.After(time.Until(killAt)):
				p.log.Warn("child did not exit within grace; killing it", "pid", s.pid)
				_ = s.proc.Kill()
			}
		}(s)
	}
	wg.Wait()
	// Children are done. REST requests in flight get a moment more (bounded by the
	// grace); a connection still sending its request head (slowloris) does not.
	select {
	case <-httpDone:
	case <-time.After(min(time.Second, time.Until(deadline))):
		_ = srv.Close()
		<-httpDone
	}
	p.refusals.flush()
	p.log.Info("stopped", "uptime", time.Since(p.started).Round(time.Millisecond))
}
