package parent

import (
	"net/http"

	"github.com/shardeum/distributor/protocol"
	"github.com/shardeum/distributor/queryapi"
)

// handler is the one handler of the port: WebSocket upgrades go to the handoff,
// everything else to the REST API, which also carries /is-alive, /is-healthy and
// /status so they share its CORS and rate limiting.
func (p *parent) handler() http.Handler {
	cfg := p.cfg.Load()
	api := queryapi.New(queryapi.Options{
		Store:  p.store,
		Signer: func() protocol.Signer { return p.cfg.Load().Signer() },
		Auth: func() protocol.Auth {
			a := p.cfg.Load().Auth()
			a.Now = p.opts.Now
			return a
		},
		RateLimit:    cfg.RateLimit,
		PublicConfig: func() any { return p.publicConfig(p.cfg.Load()) },
		Metrics:      p.metricsBody,
		Logger:       p.log,
	})
	api.Handle("/is-alive", http.HandlerFunc(serveAlive))
	api.Handle("/is-healthy", http.HandlerFunc(p.serveHealthy))
	api.Handle("/status", http.HandlerFunc(p.serveStatus))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isUpgrade(r) {
			p.serveUpgrade(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}
