package main

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
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/urfave/cli/v2"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardeum/distributor/config"
	"github.com/shardeum/distributor/promexport"
	"github.com/shardeum/distributor/redisstream"
)

// ingressCommand runs `distributor ingress`: the one process that follows DATA_LOG_DIR, signs
// each line once and appends it to the Redis streams the edges read (package redisstream).
func ingressCommand() *cli.Command {
	return &cli.Command{
		Name:  "ingress",
		Usage: "sign the data logs once into Redis streams for edges (FIREHOSE_SOURCE=redis)",
		Description: "Follows DATA_LOG_DIR and appends every line, signed into the frame subscribers receive,\n" +
			"to the Redis streams REDIS_STREAM_PREFIX + cycle, receipt and originalTx at REDIS_URL\n" +
			"(XADD MAXLEN ~ REDIS_STREAM_MAXLEN). Several may run: one holds the lease in Redis and\n" +
			"publishes, the others stand by and take over when it dies. A restarted ingress continues\n" +
			"just after the last entry in Redis. Serves /is-alive, /is-healthy, /status and /metrics\n" +
			"(Prometheus) on DISTRIBUTOR_IP:DISTRIBUTOR_PORT and logs `listening addr=HOST:PORT` once bound.\n" +
			"SIGTERM or SIGINT stops it and releases the lease.",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "lease-ttl", Value: 3 * time.Second,
				Usage: "how long the lease outlives its holder's last renewal; a standby takes over within 7/6 of it"},
		},
		Action: func(c *cli.Context) error {
			if err := requireNoArgs(c); err != nil {
				return err
			}
			cfg, err := loadConfig(c)
			if err != nil {
				return err
			}
			ttl := c.Duration("lease-ttl")
			if ttl < 300*time.Millisecond {
				return usageErrorf("--lease-ttl must be at least 300ms, got %s", ttl)
			}
			client, err := redisClient(cfg)
			if err != nil {
				return err
			}
			defer client.Close()
			ctx, stop := signal.NotifyContext(c.Context, syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return runIngress(ctx, cfg, client, ttl)
		},
	}
}

// redisClient connects to REDIS_URL (checked by config.Load).
func redisClient(cfg *config.Config) (*redis.Client, error) {
	o, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, &config.Error{Msg: fmt.Sprintf("config: %s: %v", config.KeyRedisURL, err), Err: err}
	}
	// Our loops retry with backoff and report; a command fails after a bounded time so that a
	// paused Redis is noticed.
	o.MaxRetries = -1
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout = 2*time.Second, 2*time.Second, 2*time.Second
	return redis.NewClient(o), nil
}

func runIngress(ctx context.Context, cfg *config.Config, client *redis.Client, ttl time.Duration) error {
	log := slog.Default()
	g, err := redisstream.NewIngress(redisstream.IngressOptions{
		Client:   client,
		Prefix:   cfg.RedisStreamPrefix,
		MaxLen:   int64(cfg.RedisStreamMaxLen),
		Dir:      cfg.DataLogDir,
		Poll:     time.Duration(cfg.FileStreamIntervalMS) * time.Millisecond,
		Signer:   cfg.Signer(),
		Logger:   log,
		LeaseTTL: ttl,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.DistributorIP, strconv.Itoa(cfg.DistributorPort)))
	if err != nil {
		return fmt.Errorf("ingress: listen on %s:%d (DISTRIBUTOR_IP, DISTRIBUTOR_PORT): %w", cfg.DistributorIP, cfg.DistributorPort, err)
	}
	metrics, err := promexport.Handler(ingressCollector{g})
	if err != nil {
		return fmt.Errorf("ingress: metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.Handle("/", g.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "pid", os.Getpid(), "role", "ingress",
		"redis", redactedAddr(client), "dataLogDir", cfg.DataLogDir)
	runErr := g.Run(ctx)
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("ingress: HTTP server: %w", err)
	}
	return runErr
}

// redactedAddr names the Redis server without credentials.
func redactedAddr(c *redis.Client) string {
	o := c.Options()
	return o.Addr + "/" + strconv.Itoa(o.DB)
}

// ingressCollector exposes an ingress's Status as Prometheus families on its /metrics.
type ingressCollector struct{ g *redisstream.Ingress }

var (
	descIngressPublished = prometheus.NewDesc("distributor_ingress_published_total",
		"Entries this ingress process appended to Redis, by stream.", []string{"stream"}, nil)
	descIngressPending = prometheus.NewDesc("distributor_ingress_pending",
		"Lines read and signed, not yet appended to Redis, by stream.", []string{"stream"}, nil)
	descIngressLag = prometheus.NewDesc("distributor_ingress_lag_seconds",
		"Age of the oldest line not yet appended to Redis, by stream (0: none waiting).", []string{"stream"}, nil)
	descIngressLease = prometheus.NewDesc("distributor_ingress_lease_held",
		"1 while this ingress holds the lease and publishes, 0 while it stands by or has stopped.", nil, nil)
	descIngressRole = prometheus.NewDesc("distributor_ingress_role",
		"1 for this ingress's role: active, standby or stopped.", []string{"role"}, nil)
	descIngressRedis = prometheus.NewDesc("distributor_ingress_redis_up",
		"1 while Redis answers this ingress, 0 while it is unreachable.", nil, nil)
)

func (c ingressCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descIngressPublished, descIngressPending, descIngressLag, descIngressLease, descIngressRole, descIngressRedis} {
		ch <- d
	}
}

func (c ingressCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.g.Status()
	for _, s := range st.Streams {
		ch <- prometheus.MustNewConstMetric(descIngressPublished, prometheus.CounterValue, float64(s.Published), s.Stream)
		ch <- prometheus.MustNewConstMetric(descIngressPending, prometheus.GaugeValue, float64(s.Pending), s.Stream)
		ch <- prometheus.MustNewConstMetric(descIngressLag, prometheus.GaugeValue, float64(s.LagMS)/1000, s.Stream)
	}
	ch <- prometheus.MustNewConstMetric(descIngressLease, prometheus.GaugeValue, b2f(st.Lease.Held))
	for _, r := range []string{redisstream.RoleActive, redisstream.RoleStandby, redisstream.RoleStopped} {
		ch <- prometheus.MustNewConstMetric(descIngressRole, prometheus.GaugeValue, b2f(st.Role == r), r)
	}
	ch <- prometheus.MustNewConstMetric(descIngressRedis, prometheus.GaugeValue, b2f(st.Redis.Reachable))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
