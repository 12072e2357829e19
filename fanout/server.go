package fanout

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardeum/distributor/child"
	"github.com/shardeum/distributor/protocol"
)

// feed is what a child serves its clients from: the per-stream hubs (serve.go).
type feed interface {
	subscribe(c *client)   // after the WebSocket handshake; starts live or resumed delivery
	unsubscribe(c *client) // at teardown
	stats() []child.ReaderStats
	lag(c *client, now time.Time, st *child.ClientStats) // fills in whether (and how far) c lags
	reload(cfg []byte) error
	pace(readEvery time.Duration) // how often the live readers look for new lines
	inFlight() bool               // lines read and not yet published: a round is still coming
	stop()
}

// limits are the per-client bounds the configuration sets.
type limits struct {
	queueFrames  int           // frames queued in memory before a client moves to the data log
	stallTimeout time.Duration // a client that takes no bytes this long is closed
}

// server is the child: it implements Control for the parent and owns the clients.
type server struct {
	log     *slog.Logger
	pid     int
	recv    *child.Receiver
	events  *eventQueue
	flush   *flusher        // writes every client's frames (started with the feed)
	sigs    *child.SigTable // shared with the other children, or nil
	newFeed func(s *server, cfg []byte) (feed, limits, error)

	// Counts of the child's lifetime (Stats).
	movedToLog, rejoined, lapped, stalled atomic.Uint64
	// What clients that have left were sent (Stats adds the connected ones').
	leftFrames, leftBytes atomic.Uint64

	mu       sync.Mutex
	feed     feed
	lim      limits
	batch    bool          // threads run as SCHED_BATCH (Pace)
	round    time.Duration // Pace.FlushDelay
	clients  map[string]*client
	stopping bool
	wg       sync.WaitGroup // client goroutines

	stopOnce sync.Once
	done     chan struct{} // closed when the child should exit
}

// New returns the child's server for env; Start (called by the parent) starts it.
func New(env child.Env) child.Server { return newServer(env) }

func newServer(env child.Env) *server {
	pid := os.Getpid()
	return &server{
		log:     env.Log,
		pid:     pid,
		recv:    env.Handoffs,
		sigs:    env.Sigs,
		events:  newEventQueue(pid),
		flush:   newFlusher(),
		newFeed: openFeed,
		clients: make(map[string]*client),
		done:    make(chan struct{}),
	}
}

// Start implements Control: configure, start the readers, begin reporting.
func (s *server) Start(cfg []byte, events child.Events) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.feed != nil {
		return errors.New("child already started")
	}
	f, lim, err := s.newFeed(s, cfg)
	if err != nil {
		return err
	}
	s.feed = f
	s.setLimits(lim)
	f.pace(s.round)
	s.flush.inFlight = f.inFlight
	go s.flush.run()
	s.events.start(events)
	go s.acceptHandoffs()
	return nil
}

// acceptHandoffs takes connections from the parent until its end of the socket closes.
func (s *server) acceptHandoffs() {
	for {
		m, err := s.recv.Next()
		if err != nil {
			s.parentGone(fmt.Sprintf("handoff socket: %v", err))
			return
		}
		err = m.Err
		if err == nil {
			err = s.admit(m)
		}
		if err != nil {
			if m.Conn != nil {
				_ = m.Conn.Close()
			}
			s.log.Warn("handoff refused", "client", m.Handoff.ClientID, "err", err)
		}
		if aerr := s.recv.Ack(m.Seq, err); aerr != nil {
			s.parentGone(fmt.Sprintf("handoff ack: %v", aerr))
			return
		}
	}
}

func (s *server) admit(m child.Arrival) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopping:
		return errors.New("child is shutting down")
	case m.Handoff.ClientID == "":
		return errors.New("handoff without a client id")
	case s.clients[m.Handoff.ClientID] != nil:
		return fmt.Errorf("client %s is already served by this child", m.Handoff.ClientID)
	}
	c := newClient(s, m.Handoff, m.Conn, m.Pre, s.lim.queueFrames)
	s.clients[c.info.ID] = c
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		c.run()
	}()
	return nil
}

// setLimits applies the configuration's per-client bounds (s.mu held): the queue bound to clients
// admitted from now on, the stall timeout to every client.
func (s *server) setLimits(lim limits) {
	s.lim = lim
	s.flush.setStallTimeout(lim.stallTimeout)
}

func (s *server) remove(c *client) {
	s.mu.Lock()
	if s.clients[c.info.ID] == c {
		delete(s.clients, c.info.ID)
	}
	// Under the lock, so that Stats counts c either among the clients or here, never twice.
	s.leftFrames.Add(c.sent.Load())
	s.leftBytes.Add(c.out.written.Load())
	s.mu.Unlock()
}

// CloseClient implements Control.
func (s *server) CloseClient(id string, code int, reason string) error {
	s.mu.Lock()
	c := s.clients[id]
	s.mu.Unlock()
	if c == nil {
		return fmt.Errorf("no client %q in child %d", id, s.pid)
	}
	s.log.Info("closing client", "client", id, "code", code, "reason", reason)
	c.close(code, reason, true)
	return nil
}

// Reload implements Control.
func (s *server) Reload(cfg []byte) error {
	s.mu.Lock()
	f := s.feed
	s.mu.Unlock()
	if f == nil {
		return errors.New("child not started")
	}
	return f.reload(cfg)
}

// roundGather is how long, in rounds (Pace), the flusher waits after a round's first frame if
// the round's other lines are still being signed (see flusher.gather).
const roundGather = 2 * time.Millisecond

// Pace implements Control.
func (s *server) Pace(p child.Pace) error {
	if p.FlushDelay < 0 || p.Procs < 0 {
		return fmt.Errorf("pace: negative flush delay %s or procs %d", p.FlushDelay, p.Procs)
	}
	// In rounds, the readers wait out the round; the flusher then gathers the round's frames
	// (they are signed and published one by one) and writes them together.
	s.flush.setDelay(min(p.FlushDelay, roundGather))
	if p.Procs > 0 && p.Procs != runtime.GOMAXPROCS(0) {
		runtime.GOMAXPROCS(p.Procs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.round = p.FlushDelay
	if s.feed != nil {
		s.feed.pace(p.FlushDelay)
	}
	if p.Batch != s.batch {
		if err := setBatch(p.Batch); err != nil {
			return fmt.Errorf("pace: scheduling policy: %w", err)
		}
		s.batch = p.Batch
	}
	s.log.Debug("paced", "flush_delay", p.FlushDelay, "procs", runtime.GOMAXPROCS(0), "batch", p.Batch)
	return nil
}

// Stats implements Control.
func (s *server) Stats() (child.Stats, error) {
	now := time.Now()
	s.mu.Lock()
	st := child.Stats{Pid: s.pid, Clients: make([]child.ClientStats, 0, len(s.clients)),
		Pace:       child.Pace{FlushDelay: s.round, Procs: runtime.GOMAXPROCS(0), Batch: s.batch},
		MovedToLog: s.movedToLog.Load(), Rejoined: s.rejoined.Load(), Lapped: s.lapped.Load(), Stalled: s.stalled.Load(),
		FramesSent: s.leftFrames.Load(), BytesSent: s.leftBytes.Load()}
	clients := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		clients = append(clients, c)
	}
	f, stall := s.feed, s.lim.stallTimeout
	s.mu.Unlock()
	for _, c := range clients {
		cs := c.stats(now, stall)
		if f != nil {
			f.lag(c, now, &cs)
		}
		st.FramesSent += cs.FramesSent
		st.BytesSent += cs.BytesSent
		st.Clients = append(st.Clients, cs)
	}
	if s.sigs != nil {
		st.SigReused, st.SigSigned = s.sigs.Counts()
	}
	sort.Slice(st.Clients, func(i, j int) bool { return st.Clients[i].ID < st.Clients[j].ID })
	if f != nil {
		st.Readers = f.stats()
	}
	return st, nil
}

// Shutdown implements Control: close every client with 1001, stop the readers, then let Main return.
func (s *server) Shutdown(grace time.Duration) error {
	s.Stop(grace, "shutting down")
	return nil
}

// parentGoneGrace bounds the child's own stop when its parent vanished.
const parentGoneGrace = 5 * time.Second

// parentGone ends the child when its parent has vanished (its handoff socket closed).
func (s *server) parentGone(why string) {
	s.mu.Lock()
	stopping := s.stopping
	s.mu.Unlock()
	if !stopping {
		s.log.Warn("parent is gone; exiting", "why", why)
	}
	go s.Stop(parentGoneGrace, "parent gone")
}

// Done implements child.Server.
func (s *server) Done() <-chan struct{} { return s.done }

// Stop implements child.Server: close every client with 1001, stop the readers, then let Serve return.
func (s *server) Stop(grace time.Duration, why string) {
	s.stopOnce.Do(func() {
		deadline := time.Now().Add(grace * 3 / 4)
		s.mu.Lock()
		s.stopping = true
		clients := make([]*client, 0, len(s.clients))
		for _, c := range s.clients {
			clients = append(clients, c)
		}
		f := s.feed
		s.mu.Unlock()
		for _, c := range clients {
			c.close(protocol.CloseShutdown, truncateReason(why+"; resume from your last cursor"), true)
		}
		waited := make(chan struct{})
		go func() { s.wg.Wait(); close(waited) }()
		t := time.NewTimer(time.Until(deadline))
		select {
		case <-waited:
		case <-t.C:
			s.log.Warn("clients still closing at the shutdown deadline", "clients", len(clients))
			for _, c := range clients {
				c.cancel()
				_ = c.raw.Close()
			}
		}
		t.Stop()
		if f != nil {
			f.stop()
			s.flush.stop()
		}
		s.events.flush(grace / 8)
		close(s.done)
	})
	<-s.done
}
