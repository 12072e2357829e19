package parent

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/shardeum/distributor/config"
	"github.com/shardeum/distributor/dbstore"
)

// dbState is the archive as the parent has it: open (store) or not (err).
type dbState struct {
	store *dbstore.Store
	err   error
}

// openDB opens the archive read-only. A failure is logged once and retried on every
// sweep (30 s) and SIGUSR1, so a distributor started before its archiver's files
// exist picks them up; meanwhile the firehose runs, REST data routes answer 500
// "archive DB unavailable" and /is-healthy answers 503 with the reason.
func (p *parent) openDB(cfg *config.Config) {
	st, err := dbstore.OpenWith(dbstore.Options{Dir: cfg.ArchiverDBDir, Files: dbstore.Files(cfg.ArchiverData), Logger: p.log})
	if err != nil {
		p.db.Store(&dbState{err: err})
		p.log.Error("archive DB unavailable; serving the firehose only (REST queries fail, /is-healthy is 503) and retrying every 30 s", "err", err)
		p.metrics.init(nil, p.started)
		return
	}
	p.db.Store(&dbState{store: st})
	p.metrics.init(st, p.started)
}

// retryDB reopens the archive if it was unavailable, and mounts a REST API on it.
func (p *parent) retryDB() {
	cur := p.db.Load()
	if cur.store != nil {
		return
	}
	cfg := p.cfg.Load()
	st, err := dbstore.OpenWith(dbstore.Options{Dir: cfg.ArchiverDBDir, Files: dbstore.Files(cfg.ArchiverData), Logger: p.log})
	if err != nil {
		p.db.Store(&dbState{err: err})
		p.log.Debug("archive DB still unavailable", "err", err)
		return
	}
	p.db.Store(&dbState{store: st})
	p.api.Store(p.restAPI(st))
	p.mu.Lock()
	p.metrics.addCounts(st)
	p.mu.Unlock()
	p.log.Info("archive DB opened; REST queries served", "dir", cfg.ArchiverDBDir)
	p.restForwarder()
}

func (p *parent) closeDB() {
	if st := p.db.Load().store; st != nil {
		_ = st.Close()
	}
}

// dataRoutes are the REST routes that need the archive.
var dataRoutes = map[string]bool{"/cycleinfo": true, "/receipt": true, "/originalTx": true, "/account": true,
	"/transaction": true, "/totalData": true}

// noDB answers a data route while the archive is unavailable, in Fastify's error shape
// with the CORS headers every reply carries (instead of letting a handler fail on it).
func noDB(w http.ResponseWriter, err error) {
	restError(w, http.StatusInternalServerError, "archive DB unavailable: "+oneLine(err.Error()))
}

// restError answers a REST route the parent could not hand to the query API, in Fastify's error
// shape and with its CORS headers, as the query API's own errors are.
func restError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Add("Vary", "Origin")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	b, _ := jsonString(msg)
	_, _ = w.Write([]byte(`{"statusCode":` + strconv.Itoa(code) + `,"error":"` + http.StatusText(code) + `","message":` + b + `}`))
}

func dbCheck(st *dbstore.Store) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return st.Check(ctx)
}
