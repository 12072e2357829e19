package parent

import (
	"encoding/json"
	"net/http"

	"github.com/shardeum/distributor/dbstore"
	"github.com/shardeum/distributor/promexport"
	"github.com/shardeum/distributor/protocol"
	"github.com/shardeum/distributor/queryapi"
)

// handler is the one handler of the port: WebSocket upgrades go to the handoff,
// everything else to the REST API, which also carries /is-alive, /is-healthy and
// /status so they share its CORS and rate limiting. Without a local archive and with
// REST_FORWARD_URL, every route but those and /metrics is forwarded (forward.go).
func (p *parent) handler() http.Handler {
	db := p.db.Load()
	p.api.Store(p.restAPI(db.store))
	rest := p.prom.Instrument(routeLabel, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" && (r.Method == http.MethodGet || r.Method == http.MethodHead) && promexport.Wants(r) {
			// Prometheus's Accept header: the exposition. Any other request keeps the
			// reference's JSON (queryapi), so existing alerting goes on working.
			p.prom.ServeHTTP(w, r)
			return
		}
		if !localRoutes[r.URL.Path] {
			if fw := p.restForwarder(); fw != nil {
				fw.ServeHTTP(w, r)
				return
			}
		}
		if r.Method == http.MethodPost && dataRoutes[r.URL.Path] {
			if db := p.db.Load(); db.store == nil {
				noDB(w, db.err)
				return
			}
		}
		p.api.Load().ServeHTTP(w, r)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isUpgrade(r) {
			p.serveUpgrade(w, r)
			return
		}
		rest.ServeHTTP(w, r)
	})
}

// httpRoutes are the paths distributor_http_requests_total names; any other is "other", so a
// scan of random paths cannot grow the series without bound.
var httpRoutes = map[string]bool{"/cycleinfo": true, "/receipt": true, "/originalTx": true, "/account": true,
	"/transaction": true, "/totalData": true, "/config": true, "/metrics": true, "/is-alive": true,
	"/is-healthy": true, "/status": true}

func routeLabel(r *http.Request) string {
	if httpRoutes[r.URL.Path] {
		return r.URL.Path
	}
	return "other"
}

// restAPI builds the REST routes on st (nil: the archive is unavailable, and the
// data routes are answered by noDB before they reach it).
func (p *parent) restAPI(st *dbstore.Store) *queryapi.API {
	api := queryapi.New(queryapi.Options{
		Store:  st,
		Signer: func() protocol.Signer { return p.cfg.Load().Signer() },
		Auth: func() protocol.Auth {
			a := p.cfg.Load().Auth()
			a.Now = p.opts.Now
			return a
		},
		RateLimit:    p.cfg.Load().RateLimit,
		PublicConfig: func() any { return p.publicConfig(p.cfg.Load()) },
		Metrics:      p.metricsBody,
		Logger:       p.log,
	})
	api.Handle("/is-alive", http.HandlerFunc(serveAlive))
	api.Handle("/is-healthy", http.HandlerFunc(p.serveHealthy))
	api.Handle("/status", http.HandlerFunc(p.serveStatus))
	return api
}

func jsonString(s string) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}
