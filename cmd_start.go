package main

import (
	"log/slog"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shardeum/distributor/config"
	"github.com/shardeum/distributor/parent"
)

// startCommand runs the distributor: the parent process (package parent), which spawns
// child processes (`distributor child`) for WebSocket subscribers as they come.
func startCommand() *cli.Command {
	return &cli.Command{
		Name:  "start",
		Usage: "serve the firehose and the query API",
		Description: "Listens on DISTRIBUTOR_IP:DISTRIBUTOR_PORT (REST and WebSocket on one port) and logs\n" +
			"`listening addr=HOST:PORT` once bound (DISTRIBUTOR_PORT 0 picks a free port).\n" +
			"SIGUSR1 reloads the configuration (file, environment, flags) in the parent and every child.\n" +
			"SIGTERM or SIGINT stops gracefully: subscribers are closed with 1001 and every child exits\n" +
			"within --grace; a second signal exits at once (children are killed with the parent).",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "grace", Value: 5 * time.Second,
				Usage: "how long a graceful stop may take before children are killed"},
		},
		Action: func(c *cli.Context) error {
			if err := requireNoArgs(c); err != nil {
				return err
			}
			cfg, err := loadConfig(c)
			if err != nil {
				return err
			}
			if g := c.Duration("grace"); g <= 0 {
				return usageErrorf("--grace must be positive, got %s", g)
			}
			ctx, stop := signal.NotifyContext(c.Context, syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			go func() {
				<-ctx.Done()
				stop() // a second SIGTERM/SIGINT now ends the process at once
			}()
			return parent.Run(ctx, cfg, parent.Options{
				Grace:  c.Duration("grace"),
				Logger: slog.Default(),
				ConfigLoader: func() (*config.Config, error) {
					return loadConfig(c)
				},
			})
		},
	}
}
