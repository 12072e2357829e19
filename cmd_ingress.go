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

	"github.com/shardeum/distributor/config"
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
			"just after the last entry in Redis. Serves /is-alive, /is-healthy and /status on\n" +
			"DISTRIBUTOR_IP:DISTRIBUTOR_PORT and logs `listening addr=HOST:PORT` once bound.\n" +
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
	srv := &http.Server{Handler: g.Handler(), ReadHeaderTimeout: 10 * time.Second}
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
