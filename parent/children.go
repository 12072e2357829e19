package parent

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/shardeum/distributor/child"
)

// slotState is where a child is in its life, as the parent sees it.
type slotState int

const (
	starting slotState = iota // Spawn in progress; clients may already be reserved on it
	running                   // in placement
	retiring                  // out of placement, Shutdown called (or about to be)
	exited                    // gone
)

func (s slotState) String() string {
	return [...]string{"starting", "running", "retiring", "exited"}[s]
}

// slot is one child process in the parent's tables.
type slot struct {
	seq     int           // spawn order; placement prefers lower
	ready   chan struct{} // closed when Spawn returned (proc or err set)
	proc    *child.Process
	err     error
	pid     int
	state   slotState
	clients map[string]*client // counted from the moment of handoff (reservation)
	spawned time.Time
	paced   child.Pace // the Pace the child has (when isPaced)
	isPaced bool
}

// client is one subscriber connection handed (or being handed) to a child.
type client struct {
	id, key, remote string
	since           time.Time
	slot            *slot
	connected       bool   // the child reported ClientConnected
	closing         bool   // CloseClient already sent (expiry/removal/replacement)
	seq             uint64 // arrival order
}

var errClosed = errors.New("parent is shutting down")

// reserve places a new client: the first running (or starting) child with room,
// else a new child (spawned by the caller when spawn is true). It registers the
// client under lock so the count includes it from now on.
func (p *parent) reserve(key, remote string, exclude *slot) (c *client, spawn bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, false, errClosed
	}
	max := p.cfg.Load().MaxClientsPerChild
	if max <= 0 {
		max = 1
	}
	var target *slot
	for _, s := range p.placement {
		if s != exclude && (s.state == starting || s.state == running) && len(s.clients) < max {
			target = s
			break
		}
	}
	if target == nil {
		p.seq++
		target = &slot{seq: p.seq, ready: make(chan struct{}), state: starting, clients: map[string]*client{}}
		p.placement = append(p.placement, target)
		p.live[target] = struct{}{}
		spawn = true
	}
	p.nextID++
	c = &client{id: strconv.FormatUint(p.nextID, 10), seq: p.nextID, key: key, remote: remote, since: p.opts.Now(), slot: target}
	target.clients[c.id] = c
	p.clients[c.id] = c
	p.repace()
	return c, spawn, nil
}

// spawn starts the child for s (reserved by reserve) and publishes the result.
func (p *parent) spawn(s *slot) {
	cfg := p.cfg.Load()
	proc, err := child.Spawn(p.spawnCtx, child.SpawnOptions{
		Executable: p.opts.ChildExecutable,
		Args:       p.opts.ChildArgs,
		Config:     cfg.JSON(),
		Events:     events{p},
		Logger:     p.log,
		SigTable:   p.sigTable,
	})
	p.mu.Lock()
	s.proc, s.err, s.spawned = proc, err, time.Now()
	closed := p.closed
	if err != nil {
		s.state = exited
		p.unplace(s)
		delete(p.live, s)
	} else {
		s.pid = proc.Pid()
		s.state = running
		if closed {
			s.state = retiring
			p.unplace(s)
		}
	}
	close(s.ready)
	p.mu.Unlock()
	p.repace()
	if err != nil {
		p.log.Error("spawn child failed", "err", err)
		return
	}
	p.log.Info("child started", "pid", s.pid)
	if closed { // Run is stopping and may have stopped waiting for this one: stop it here too
		if !p.goTracked(func() { _ = proc.Shutdown(time.Second) }) {
			_ = proc.Kill()
		}
	}
	if cur := p.cfg.Load(); cur != cfg { // a SIGUSR1 arrived while it was starting
		if err := proc.Reload(cur.JSON()); err != nil {
			p.log.Warn("reload of new child failed", "pid", s.pid, "err", err)
		}
	}
	if !p.goTracked(func() { p.watch(s) }) {
		_ = proc.Kill()
	}
}

// watch cleans the tables when a child process ends, however it ends.
func (p *parent) watch(s *slot) {
	<-s.proc.Exited()
	p.mu.Lock()
	was := s.state
	s.state = exited
	p.unplace(s)
	delete(p.live, s)
	dropped := 0
	for id, c := range s.clients {
		delete(p.clients, id)
		if p.byKey[c.key] == id {
			delete(p.byKey, c.key)
		}
		dropped++
	}
	s.clients = map[string]*client{}
	delete(p.readerProblems, s.pid)
	delete(p.metrics.seen, s)
	delete(p.metrics.sent, s)
	p.dropProblems(s.pid)
	p.mu.Unlock()
	p.repace()
	if was == retiring {
		p.log.Debug("child exited", "pid", s.pid)
	} else {
		p.log.Warn("child exited unexpectedly", "pid", s.pid, "clients_dropped", dropped)
	}
}

// release undoes a reservation whose handoff did not happen.
func (p *parent) release(c *client) {
	p.mu.Lock()
	retire := p.removeClient(c)
	p.mu.Unlock()
	if retire != nil {
		p.retire(retire)
	}
}

// removeClient deletes c from the tables (mu held). If that leaves its child with
// no clients, the child leaves placement here, under the same lock, and is
// returned for the caller to Shutdown: no socket is ever handed to it again.
func (p *parent) removeClient(c *client) *slot {
	s := c.slot
	if p.clients[c.id] != c {
		return nil
	}
	delete(p.clients, c.id)
	delete(s.clients, c.id)
	if p.byKey[c.key] == c.id {
		delete(p.byKey, c.key)
	}
	p.repace()
	if len(s.clients) == 0 && s.state == running {
		s.state = retiring
		p.unplace(s)
		return s
	}
	return nil
}

// unplace removes s from placement (mu held).
func (p *parent) unplace(s *slot) {
	for i, x := range p.placement {
		if x == s {
			p.placement = append(p.placement[:i:i], p.placement[i+1:]...)
			return
		}
	}
}

// retire shuts an idle child down in the background (its clients, if any, get 1001).
func (p *parent) retire(s *slot) {
	p.goTracked(func() {
		p.observe([]*slot{s}) // last reader counts for /metrics
		if err := s.proc.Shutdown(p.opts.Grace); err != nil {
			p.log.Debug("child shutdown", "pid", s.pid, "err", err)
		}
	})
}

// markDead takes a child that failed a handoff out of placement and kills it, so
// nothing else is handed to it; watch cleans the rest when it is gone.
func (p *parent) markDead(s *slot, cause error) {
	p.mu.Lock()
	if s.state == running || s.state == starting {
		s.state = retiring
	}
	p.unplace(s)
	p.mu.Unlock()
	p.log.Error("child failed a handoff; removing it", "pid", s.pid, "err", cause)
	_ = s.proc.Kill()
}

// replace records c as the connection of its key and returns the client it
// replaces, if any, marked closing; the caller sends that one CloseClient(1000).
// "Newer" is arrival order (client ids grow), not handoff completion: if a later
// connection for the key was handed off first, c itself is the one replaced.
func (p *parent) replace(c *client) *client {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.clients[c.id] != c {
		return nil
	}
	id, ok := p.byKey[c.key]
	o := p.clients[id]
	if !ok || id == c.id || o == nil {
		p.byKey[c.key] = c.id
		return nil
	}
	older, newer := o, c
	if o.seq > c.seq {
		older, newer = c, o
	}
	p.byKey[c.key] = newer.id
	if older.closing {
		return nil
	}
	older.closing = true
	return older
}

// closeClient asks the child that owns c to close it with code (not under mu).
func (p *parent) closeClient(c *client, code int, reason string) {
	proc := c.slot.proc
	if proc == nil {
		return
	}
	if err := proc.CloseClient(c.id, code, reason); err != nil {
		p.log.Warn("close client failed", "pid", c.slot.pid, "client", c.id, "key", c.key, "code", code, "err", err)
	}
}

func (p *parent) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// liveSlots lists every child not yet exited, spawn order.
func (p *parent) liveSlots() []*slot {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*slot, 0, len(p.live))
	for s := range p.live {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// events receives the children's RPC callbacks (in the parent process).
type events struct{ p *parent }

func (e events) ClientConnected(pid int, ci child.ClientInfo) {
	p := e.p
	p.mu.Lock()
	c := p.clients[ci.ID]
	if c != nil && c.slot.pid == pid {
		c.connected = true
		if !ci.ConnectedSince.IsZero() {
			c.since = ci.ConnectedSince
		}
	}
	p.mu.Unlock()
	p.log.Info("client connected", "pid", pid, "client", ci.ID, "key", ci.Key, "remote", ci.Remote)
}

func (e events) ClientClosed(pid int, clientID string, code int, reason string) {
	p := e.p
	p.prom.ClientClosed(code)
	p.mu.Lock()
	c := p.clients[clientID]
	var retire *slot
	if c != nil && c.slot.pid == pid {
		retire = p.removeClient(c)
	}
	p.mu.Unlock()
	if c == nil {
		return
	}
	p.log.Info("client closed", "pid", pid, "client", clientID, "key", c.key, "code", code, "reason", reason)
	if retire != nil {
		p.log.Info("child idle; shutting it down", "pid", retire.pid)
		p.retire(retire)
	}
}

func (e events) ReaderProblem(pid int, stream string, msg string) {
	p := e.p
	p.mu.Lock()
	p.readerProblems[pid] = fmt.Sprintf("%s: %s", stream, msg)
	p.reportProblem(pid, stream, msg)
	p.mu.Unlock()
	p.log.Warn("reader problem in child", "pid", pid, "stream", stream, "msg", msg)
}
