// Package promexport exposes the distributor's numbers in Prometheus's formats (text 0.0.4 and 1.0.0,
// OpenMetrics, protobuf: promhttp negotiates), beside the reference's JSON /metrics, which stays the
// answer to every request that does not ask for one of them (Wants).
//
// The parent owns one Exporter. The numbers of its children arrive with each scrape through
// Options.Snapshot (the parent gathers them over RPC then, as it does for the JSON); the parent's own
// events are counted as they happen (Handshake, ClientClosed, the HTTP middleware).
//
// Redis mode: an edge's children report the Redis streams they read, and the Snapshot carries
// them as distributor_source_lag_seconds{stream}. The ingress is another process: it serves its
// own families (distributor_ingress_published_total{stream}, its lease state) with Handler.
// Register adds collectors that belong to the code that knows their numbers.
package promexport

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shardeum/distributor/child"
)

// Handshake results (distributor_handshakes_total{result}) of WebSocket upgrades at the parent.
const (
	HandshakeAccepted     = "accepted"     // authenticated and handed to a child
	HandshakeBadRequest   = "bad_request"  // not a WebSocket handshake (400)
	HandshakeUnauthorized = "unauthorized" // authentication failed (401)
	HandshakeUnavailable  = "unavailable"  // shutting down, or no child could take it (503)
)

// Snapshot is what the parent knows of its children at a scrape.
type Snapshot struct {
	Children int
	// Subscribers counts the connected clients by state (child.StateLive, child.StateLagging, child.StateStalled).
	Subscribers map[string]int
	// FramesSent and BytesSent are running totals over every child the process has had: the caller
	// keeps them so they never decrease when a child exits.
	FramesSent, BytesSent uint64
	Streams               []Stream
	// Sources are the Redis streams an edge's children read (none on a node that reads files).
	Sources []Source
}

// Source is one Redis stream as an edge's readers see it.
type Source struct {
	Name string // the stream's kind: cycle, receipt, originalTx
	// LagSeconds is now minus the newest entry read, for the reader furthest behind.
	LagSeconds float64
}

// Stream is one data-log stream as the readers see it.
type Stream struct {
	Name string
	// LinesRead is a running total (never decreasing) of the lines the readers read.
	LinesRead uint64
	// LagSeconds is the age of the newest line read.
	LagSeconds float64
}

// Options configure New.
type Options struct {
	// Snapshot is called once per scrape. It may take a while (RPCs to children): scrapes wait for it.
	Snapshot func() Snapshot
	// CloseCodes are the WebSocket close codes exposed at 0 before any client closed with them, so
	// that rate() sees a series from the start. Other codes appear when they first happen.
	CloseCodes []int
}

// Exporter holds the registry and the parent-side counters.
type Exporter struct {
	reg        *prometheus.Registry
	handler    http.Handler
	handshakes *prometheus.CounterVec
	closed     *prometheus.CounterVec
	requests   *prometheus.CounterVec
	durations  *prometheus.HistogramVec
	routes     sync.Map // route -> *routeMetrics
}

// New builds an Exporter with the distributor's families and the process_* and go_* collectors.
func New(o Options) *Exporter {
	e := &Exporter{reg: prometheus.NewRegistry()}
	e.handshakes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "distributor_handshakes_total",
		Help: "WebSocket upgrades at the parent, by result (accepted, bad_request, unauthorized, unavailable).",
	}, []string{"result"})
	e.closed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "distributor_clients_closed_total",
		Help: "Subscriber connections closed, by WebSocket close code as the children report them.",
	}, []string{"code"})
	e.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "distributor_http_requests_total",
		Help: "HTTP requests answered (WebSocket upgrades excluded), by route and status code.",
	}, []string{"route", "code"})
	e.durations = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "distributor_http_request_duration_seconds",
		Help: "Time from a request's headers to the end of its reply, by route.",
		// Cached replies take tens of microseconds, a cold page of receipts milliseconds.
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route"})
	for _, r := range []string{HandshakeAccepted, HandshakeBadRequest, HandshakeUnauthorized, HandshakeUnavailable} {
		e.handshakes.WithLabelValues(r)
	}
	for _, c := range o.CloseCodes {
		e.closed.WithLabelValues(strconv.Itoa(c))
	}
	e.reg.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
		e.handshakes, e.closed, e.requests, e.durations,
	)
	if o.Snapshot != nil {
		e.reg.MustRegister(&snapshotCollector{snapshot: o.Snapshot})
	}
	e.handler = promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		// A failing collector must not cost the whole scrape: what could be gathered is served.
		ErrorHandling: promhttp.ContinueOnError,
	})
	return e
}

// Register adds collectors to the exposition (Redis mode's families; see the package comment).
func (e *Exporter) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := e.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Handler serves, in the format the request negotiates, the families of cs with the process_*
// and go_* collectors: the exposition of a process that is not the parent (the ingress).
func Handler(cs ...prometheus.Collector) (http.Handler, error) {
	reg := prometheus.NewRegistry()
	for _, c := range append([]prometheus.Collector{
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector()}, cs...) {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true, ErrorHandling: promhttp.ContinueOnError}), nil
}

// Gatherer is the registry, for tests and for pushing elsewhere.
func (e *Exporter) Gatherer() prometheus.Gatherer { return e.reg }

// Handshake counts one WebSocket upgrade with result (one of the Handshake constants).
func (e *Exporter) Handshake(result string) { e.handshakes.WithLabelValues(result).Inc() }

// ClientClosed counts one subscriber connection closed with code.
func (e *Exporter) ClientClosed(code int) { e.closed.WithLabelValues(strconv.Itoa(code)).Inc() }

// ServeHTTP serves the exposition in the format the request's Accept header negotiates.
func (e *Exporter) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.handler.ServeHTTP(w, r) }

// Wants reports whether r asks for a Prometheus format: an Accept media range of
// application/openmetrics-text, text/plain with a version parameter (Prometheus's 0.0.4 or 1.0.0),
// or Prometheus's protobuf. A plain GET, */*, text/plain without a version or application/json do
// not: they get the reference's JSON.
func Wants(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			if q, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(q, 64); err == nil && f <= 0 {
					continue
				}
			}
			switch mt {
			case "application/openmetrics-text":
				return true
			case "text/plain":
				if params["version"] != "" {
					return true
				}
			case "application/vnd.google.protobuf":
				if params["proto"] == "io.prometheus.client.MetricFamily" {
					return true
				}
			}
		}
	}
	return false
}

// snapshotCollector turns a Snapshot into the families that come from the children.
type snapshotCollector struct {
	snapshot func() Snapshot
}

var (
	descSubscribers = prometheus.NewDesc("distributor_subscribers",
		"Connected subscribers, by state: live (fed from the shared stream), lagging (catching up on a reader of its own), stalled (taking no bytes).",
		[]string{"state"}, nil)
	descChildren = prometheus.NewDesc("distributor_children",
		"Child processes serving subscribers (starting, running or retiring).", nil, nil)
	descFrames = prometheus.NewDesc("distributor_frames_sent_total",
		"Frames sent to subscribers, over every child the process has had.", nil, nil)
	descBytes = prometheus.NewDesc("distributor_bytes_sent_total",
		"Bytes written to subscribers' sockets (WebSocket framing included), over every child the process has had.", nil, nil)
	descLines = prometheus.NewDesc("distributor_lines_read_total",
		"Data-log lines read, by stream (each line once, however many children read it).", []string{"stream"}, nil)
	descLag = prometheus.NewDesc("distributor_reader_lag_seconds",
		"Age of the newest data-log line read, by stream.", []string{"stream"}, nil)
	descSourceLag = prometheus.NewDesc("distributor_source_lag_seconds",
		"On an edge (FIREHOSE_SOURCE=redis): now minus the newest Redis stream entry read, by stream, for the child furthest behind.",
		[]string{"stream"}, nil)
)

func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSubscribers, descChildren, descFrames, descBytes, descLines, descLag, descSourceLag} {
		ch <- d
	}
}

func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.snapshot()
	for _, st := range []string{child.StateLive, child.StateLagging, child.StateStalled} {
		ch <- prometheus.MustNewConstMetric(descSubscribers, prometheus.GaugeValue, float64(s.Subscribers[st]), st)
	}
	ch <- prometheus.MustNewConstMetric(descChildren, prometheus.GaugeValue, float64(s.Children))
	ch <- prometheus.MustNewConstMetric(descFrames, prometheus.CounterValue, float64(s.FramesSent))
	ch <- prometheus.MustNewConstMetric(descBytes, prometheus.CounterValue, float64(s.BytesSent))
	for _, st := range s.Streams {
		ch <- prometheus.MustNewConstMetric(descLines, prometheus.CounterValue, float64(st.LinesRead), st.Name)
		ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, st.LagSeconds, st.Name)
	}
	for _, src := range s.Sources {
		ch <- prometheus.MustNewConstMetric(descSourceLag, prometheus.GaugeValue, src.LagSeconds, src.Name)
	}
}

// routeMetrics are one route's series, resolved once: a request then costs no label hashing.
type routeMetrics struct {
	duration prometheus.Observer
	mu       sync.Mutex
	byCode   map[int]prometheus.Counter
}

func (e *Exporter) route(name string) *routeMetrics {
	if m, ok := e.routes.Load(name); ok {
		return m.(*routeMetrics)
	}
	m, _ := e.routes.LoadOrStore(name, &routeMetrics{duration: e.durations.WithLabelValues(name), byCode: map[int]prometheus.Counter{}})
	return m.(*routeMetrics)
}

// ObserveRequest counts one HTTP request of route answered with code after d.
func (e *Exporter) ObserveRequest(route string, code int, d time.Duration) {
	m := e.route(route)
	m.duration.Observe(d.Seconds())
	m.mu.Lock()
	c := m.byCode[code]
	if c == nil {
		c = e.requests.WithLabelValues(route, strconv.Itoa(code))
		m.byCode[code] = c
	}
	m.mu.Unlock()
	c.Inc()
}
