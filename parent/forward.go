package parent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// REST on a node without its own archive (an edge): while ARCHIVER_DB_DIR cannot be opened and
// REST_FORWARD_URL names another distributor, every REST route is forwarded there unchanged. The
// collectors' signatures travel with the bodies and the upstream verifies them and signs its
// replies, which pass through as they are. The routes that describe this node stay local.
const (
	// forwardTimeout bounds one forwarded request, reply body included.
	forwardTimeout = 30 * time.Second
	// forwardHeaderTimeout bounds the wait for the upstream's reply headers.
	forwardHeaderTimeout = 15 * time.Second
	forwardDialTimeout   = 5 * time.Second
	// upstreamCheckEvery is how long /is-healthy reuses its last look at the upstream's /is-alive,
	// so that frequent probes do not become a stream of requests to it.
	upstreamCheckEvery = 3 * time.Second
	upstreamCheckWait  = 2 * time.Second
)

// localRoutes are answered by this node whatever its archive: they describe this process.
var localRoutes = map[string]bool{"/is-alive": true, "/is-healthy": true, "/status": true, "/metrics": true}

// REST modes, logged once per change.
const (
	restLocal       = "local"       // the archive is open here
	restForward     = "forward"     // no archive here; REST_FORWARD_URL answers
	restUnavailable = "unavailable" // neither: data routes answer "archive DB unavailable"
)

// forwarder proxies REST to one REST_FORWARD_URL.
type forwarder struct {
	base    string // REST_FORWARD_URL as configured (no trailing slash)
	proxy   *httputil.ReverseProxy
	client  *http.Client // for the health check
	failing atomic.Bool  // the last forwarded request failed (logged once per change)

	mu        sync.Mutex // one health check at a time
	checkedAt time.Time
	checkErr  error
}

func newTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil, // the upstream is named by REST_FORWARD_URL, not by the environment
		DialContext:           (&net.Dialer{Timeout: forwardDialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   forwardDialTimeout,
		ResponseHeaderTimeout: forwardHeaderTimeout,
		// Replies pass through as the upstream encoded them for the collector's Accept-Encoding.
		DisableCompression: true,
	}
}

// restForwarder returns the forwarder REST goes through now, or nil: the archive is open, or no
// REST_FORWARD_URL is set. It logs a change of mode.
func (p *parent) restForwarder() *forwarder {
	mode, fw := restLocal, (*forwarder)(nil)
	if p.db.Load().store == nil {
		mode = restUnavailable
		if base := p.cfg.Load().RESTForwardURL; base != "" {
			mode, fw = restForward, p.forwarderFor(base)
		}
	}
	if prev := p.restMode.Swap(mode); prev != mode {
		switch mode {
		case restLocal:
			p.log.Info("REST served from the local archive", "dir", p.cfg.Load().ArchiverDBDir)
		case restForward:
			p.log.Info("no local archive; REST forwarded to REST_FORWARD_URL", "url", fw.base)
		default:
			p.log.Warn("no local archive and no REST_FORWARD_URL; REST data routes answer \"archive DB unavailable\"")
		}
	}
	return fw
}

// forwarderFor returns the forwarder to base, building it when the URL is new (a reload).
func (p *parent) forwarderFor(base string) *forwarder {
	old := p.fwd.Load()
	if old != nil && old.base == base {
		return old
	}
	target, err := url.Parse(base)
	if err != nil { // config.Load checked it
		panic(fmt.Sprintf("parent: REST_FORWARD_URL %q: %v", base, err))
	}
	fw := &forwarder{base: base, client: &http.Client{Transport: p.transport, Timeout: upstreamCheckWait}}
	fw.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target) // method, path (under the URL's own), query, body and headers go as they came
			pr.SetXForwarded()
		},
		Transport: p.transport,
		ModifyResponse: func(*http.Response) error {
			if fw.failing.CompareAndSwap(true, false) {
				p.log.Info("REST_FORWARD_URL answers again", "url", base)
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			switch cause := context.Cause(r.Context()); {
			case errors.Is(cause, errForwardTimeout):
				err = errForwardTimeout
			case cause != nil:
				return // the collector went away: nothing to answer, nothing wrong upstream
			}
			if fw.failing.CompareAndSwap(false, true) {
				p.log.Warn("REST_FORWARD_URL failing; forwarded requests answer 502 until it answers again", "url", base, "err", err)
			}
			badGateway(w, base, err)
		},
	}
	if !p.fwd.CompareAndSwap(old, fw) {
		return p.fwd.Load() // a concurrent request built it first
	}
	if old != nil {
		p.log.Info("REST_FORWARD_URL changed; REST forwarded to the new URL", "url", base, "was", old.base)
	}
	return fw
}

var errForwardTimeout = fmt.Errorf("no complete reply within %s", forwardTimeout)

// ServeHTTP forwards one request, bounded by forwardTimeout.
func (fw *forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeoutCause(r.Context(), forwardTimeout, errForwardTimeout)
	defer cancel()
	fw.proxy.ServeHTTP(w, r.WithContext(ctx))
}

// badGateway answers a forwarded request whose upstream failed, in Fastify's error shape with the
// CORS headers every reply carries.
func badGateway(w http.ResponseWriter, base string, err error) {
	restError(w, http.StatusBadGateway, "REST_FORWARD_URL "+base+" failed: "+oneLine(err.Error()))
}

// check says whether the upstream answers its /is-alive, looking at most every upstreamCheckEvery.
func (fw *forwarder) check() error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if !fw.checkedAt.IsZero() && time.Since(fw.checkedAt) < upstreamCheckEvery {
		return fw.checkErr
	}
	fw.checkErr = fw.alive()
	fw.checkedAt = time.Now()
	return fw.checkErr
}

func (fw *forwarder) alive() error {
	resp, err := fw.client.Get(fw.base + "/is-alive")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/is-alive answered %s", resp.Status)
	}
	return nil
}
