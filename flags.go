package main

import (
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shardeum/distributor/config"
)

const configCategory = "Configuration (override distributor-config.json and the environment)"

// flagAliases are the friendlier spellings of the per-key flags.
var flagAliases = map[string][]string{
	config.KeyIP:                     {"ip"},
	config.KeyPort:                   {"port"},
	config.KeyHashKey:                {"hash-key"},
	config.KeyPublicKey:              {"public-key"},
	config.KeySecretKey:              {"secret-key"},
	config.KeyArchiverDBDir:          {"db-dir"},
	config.KeyArchiverData:           {"archiver-data"},
	config.KeyRateLimit:              {"rate-limit"},
	config.KeyDataLogDir:             {"data-log-dir"},
	config.KeyFileStreamIntervalMS:   {"file-stream-interval-ms"},
	config.KeyMaxClientsPerChild:     {"max-clients-per-child"},
	config.KeyVerbose:                {"verbose"},
	config.KeyLimitToSubscribersOnly: {"limit-to-subscribers-only"},
	config.KeyClientQueueFrames:      {"client-queue-frames"},
	config.KeyClientStallTimeoutMS:   {"client-stall-timeout-ms"},
	config.KeyHealthReaderProblemMS:  {"health-reader-problem-ms"},
	config.KeyFirehoseSource:         {"firehose-source"},
	config.KeyRedisURL:               {"redis-url"},
	config.KeyRedisStreamPrefix:      {"redis-stream-prefix"},
	config.KeyRedisStreamMaxLen:      {"redis-stream-maxlen"},
	config.KeyRESTForwardURL:         {"rest-forward-url"},
}

// configFlags returns new instances of --config and one flag per configuration key, named
// exactly as the key. Every command gets its own set, so they work before or after the
// command name (`distributor start --DISTRIBUTOR_PORT 7000`). Aliases are separate hidden flags
// (not urfave aliases, which cannot tell which spelling was typed) so errors name the flag used.
func configFlags() []cli.Flag {
	flags := []cli.Flag{&cli.StringFlag{
		Name:     "config",
		Usage:    "configuration file (default ./" + config.DefaultFile + ", optional; a named file must exist)",
		Category: configCategory,
	}}
	for _, k := range config.Keys {
		usage := k.Help
		if as := flagAliases[k.Name]; len(as) > 0 {
			usage += " (alias --" + strings.Join(as, ", --") + ")"
		}
		flags = append(flags, keyFlag(k, k.Name, usage, k.Ignored))
		for _, a := range flagAliases[k.Name] {
			flags = append(flags, keyFlag(k, a, usage, true))
		}
	}
	return flags
}

func keyFlag(k config.KeyInfo, name, usage string, hidden bool) cli.Flag {
	if k.Kind == config.Bool {
		return &cli.BoolFlag{Name: name, Usage: usage, Category: configCategory, Hidden: hidden}
	}
	return &cli.StringFlag{Name: name, Usage: usage, Category: configCategory, Hidden: hidden}
}

// configFlagsExcept is configFlags without the names a command already defines for itself
// (a command's own flag wins; a duplicate name would make the flag package panic).
func configFlagsExcept(own []cli.Flag) []cli.Flag {
	taken := map[string]bool{}
	for _, f := range own {
		for _, n := range f.Names() {
			taken[n] = true
		}
	}
	var out []cli.Flag
	for _, f := range configFlags() {
		if !taken[f.Names()[0]] {
			out = append(out, f)
		}
	}
	return out
}

// flagKeys maps every per-key flag name and alias to its key.
func flagKeys() map[string]config.KeyInfo {
	m := map[string]config.KeyInfo{}
	for _, k := range config.Keys {
		m[k.Name] = k
		for _, a := range flagAliases[k.Name] {
			m[a] = k
		}
	}
	return m
}

// loadOptions collects --config and the per-key flags from the whole command line, the global
// position first, so a flag after the command name wins over the same flag before it.
func loadOptions(c *cli.Context) (config.LoadOptions, error) {
	o := config.LoadOptions{Logger: slog.Default()}
	keys := flagKeys()
	lineage := c.Lineage()
	for i := len(lineage) - 1; i >= 0; i-- {
		ctx := lineage[i]
		typed := map[string]string{} // key -> flag name, to refuse two spellings in one place
		for _, name := range ctx.LocalFlagNames() {
			if name == "config" && isConfigFlag(ctx, name) {
				o.Path = ctx.String(name)
				continue
			}
			k, ok := keys[name]
			if !ok || !isConfigFlag(ctx, name) {
				continue
			}
			if other, dup := typed[k.Name]; dup {
				return o, usageErrorf("--%s and --%s set the same key %s; use one", other, name, k.Name)
			}
			typed[k.Name] = name
			v := ctx.String(name)
			if k.Kind == config.Bool {
				v = strconv.FormatBool(ctx.Bool(name))
			}
			o.Flags = append(o.Flags, config.FlagValue{Key: k.Name, Name: name, Value: v})
		}
	}
	return o, nil
}

// isConfigFlag tells a per-key flag from a command's own flag of the same name.
func isConfigFlag(ctx *cli.Context, name string) bool {
	if ctx.Command == nil {
		return true
	}
	for _, f := range ctx.Command.Flags {
		if slices.Contains(f.Names(), name) {
			cf, ok := f.(cli.CategorizableFlag)
			return ok && cf.GetCategory() == configCategory
		}
	}
	return true // the root context: the app's flags are all per-key flags
}

// loadConfig loads the configuration for a command: defaults < file < environment < flags.
// It also sets the log level (VERBOSE means debug). Errors are *config.Error (exit status 2).
func loadConfig(c *cli.Context) (*config.Config, error) {
	o, err := loadOptions(c)
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(o)
	if err != nil {
		return nil, err
	}
	if cfg.Verbose {
		logLevel.Set(slog.LevelDebug)
	} else {
		logLevel.Set(slog.LevelInfo)
	}
	slog.Debug("configuration loaded", "file", cfg.Path, "port", cfg.DistributorPort, "dataLogDir", cfg.DataLogDir)
	return cfg, nil
}
