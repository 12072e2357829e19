package parent

import (
	"sync"
	"time"

	"github.com/shardeum/distributor/protocol"
)

// reloadWait bounds how long a reload waits for the children's answers.
const reloadWait = 5 * time.Second

// reload is SIGUSR1: re-read the configuration, hand it to every child, then close
// the subscribers it no longer admits (expired or removed: 1001). A configuration
// that fails to load keeps the old one. Not reloaded (they need a restart): the
// listen address, an archive already open (one not yet open is retried with the new
// paths), the rate limit.
func (p *parent) reload() {
	if p.opts.ConfigLoader == nil {
		p.log.Info("SIGUSR1: no config loader; re-checking subscribers only")
		p.retryDB()
		p.sweep("expired")
		return
	}
	p.log.Info("SIGUSR1: reloading the configuration")
	next, err := p.opts.ConfigLoader()
	if err != nil {
		p.log.Error("SIGUSR1: reload failed; keeping the current configuration", "err", err)
		return
	}
	prev := p.cfg.Load()
	if next.DistributorIP != prev.DistributorIP || next.DistributorPort != prev.DistributorPort {
		p.log.Warn("SIGUSR1: DISTRIBUTOR_IP/DISTRIBUTOR_PORT changed; the listener keeps its address until restart",
			"listening", p.addr.String())
	}
	if (next.ArchiverDBDir != prev.ArchiverDBDir || next.ArchiverData != prev.ArchiverData) && p.db.Load().store != nil {
		p.log.Warn("SIGUSR1: ARCHIVER_DB_DIR/ARCHIVER_DATA changed; the open archive is kept until restart")
	}
	p.cfg.Store(next)
	data := next.JSON()
	var wg sync.WaitGroup
	for _, s := range p.readySlots() { // one still starting reloads itself when it is up (spawn)
		if s.proc == nil {
			continue
		}
		wg.Add(1)
		if !p.goTracked(func() {
			defer wg.Done()
			if err := s.proc.Reload(data); err != nil {
				p.log.Warn("SIGUSR1: child reload failed", "pid", s.pid, "err", err)
			}
		}) {
			wg.Done()
		}
	}
	answered := make(chan struct{})
	go func() { wg.Wait(); close(answered) }()
	select {
	case <-answered:
	case <-time.After(reloadWait):
		p.log.Warn("SIGUSR1: a child did not answer the reload in time; going on without it", "waited", reloadWait)
	}
	p.log.Info("SIGUSR1: configuration reloaded", "subscribers", len(next.Subscribers),
		"limitToSubscribersOnly", next.LimitToSubscribersOnly, "children", len(p.readySlots()))
	p.retryDB()
	p.sweep("expired or removed")
}

// sweep closes, with 1001, every client whose subscription is no longer valid when
// limitToSubscribersOnly: expired (expirationTimestamp != 0 && < now; the reference
// has this inverted) or no longer listed.
func (p *parent) sweep(why string) {
	cfg := p.cfg.Load()
	if !cfg.LimitToSubscribersOnly {
		return
	}
	subs := make(map[string]protocol.Subscriber, len(cfg.Subscribers))
	for _, s := range cfg.Subscribers {
		subs[s.PublicKey] = s
	}
	now := p.opts.Now().UnixMilli()
	type victim struct {
		c      *client
		reason string
	}
	var victims []victim
	p.mu.Lock()
	for _, c := range p.clients {
		if c.closing || c.slot.proc == nil {
			continue
		}
		sub, ok := subs[c.key]
		switch {
		case !ok:
			victims = append(victims, victim{c, "subscriber removed"})
		case sub.ExpirationTimestamp != 0 && sub.ExpirationTimestamp < now:
			victims = append(victims, victim{c, "subscription expired"})
		default:
			continue
		}
		c.closing = true
	}
	p.mu.Unlock()
	for _, v := range victims {
		p.log.Info("closing subscriber", "reason", v.reason, "key", v.c.key, "client", v.c.id, "pid", v.c.slot.pid, "sweep", why)
		p.goTracked(func() { p.closeClient(v.c, int(protocol.CloseExpired), v.reason) }) // a wedged child delays only its own
	}
}
