package main

import (
	"io"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/shardeum/distributor/config"
)

// A command's own flag that shares a name with a per-key alias stays the command's: it is
// neither redefined (which would panic) nor read as configuration.
func TestCommandOwnFlagWins(t *testing.T) {
	t.Chdir(t.TempDir()) // no distributor-config.json: defaults
	for _, k := range config.Keys {
		t.Setenv(k.Name, "") // empty counts as unset
	}
	var own string
	var cfg *config.Config
	cmd := &cli.Command{
		Name:  "probe",
		Flags: []cli.Flag{&cli.StringFlag{Name: "port"}},
		Action: func(c *cli.Context) error {
			own = c.String("port")
			var err error
			cfg, err = loadConfig(c)
			return err
		},
	}
	app := newApp([]*cli.Command{cmd}, strings.NewReader(""), io.Discard, io.Discard)
	if err := app.Run([]string{"distributor", "--port", "7001", "probe", "--port", "9", "--RATE_LIMIT", "3"}); err != nil {
		t.Fatal(err)
	}
	if own != "9" || cfg.DistributorPort != 7001 || cfg.RateLimit != 3 {
		t.Errorf("own --port %q, DISTRIBUTOR_PORT %d, RATE_LIMIT %d", own, cfg.DistributorPort, cfg.RateLimit)
	}
	if src := cfg.Source(config.KeyPort); src.Kind != config.FromFlag || src.Path != "port" {
		t.Errorf("DISTRIBUTOR_PORT from %v", src)
	}
}
