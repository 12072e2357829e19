package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/shardeum/distributor/config"
)

func configCommand() *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "print the effective configuration and where each value came from",
		Description: `Loads the configuration exactly as start does (defaults < distributor-config.json <
environment < flags), validates it, and prints every key with its value and source: default,
file PATH, env, or flag --NAME. DISTRIBUTOR_SECRET_KEY is shown as "<redacted>". Keys marked
(ignored) are accepted for compatibility with the reference and not used.
With --json: {"file":…,"config":{…as a config file…},"sources":{KEY:source},"ignored":{…},"warnings":[…]}.`,
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print JSON instead of a table"}},
		Action: func(c *cli.Context) error {
			if err := requireNoArgs(c); err != nil {
				return err
			}
			cfg, err := loadConfig(c)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return printConfigJSON(c.App.Writer, cfg)
			}
			return printConfigTable(c.App.Writer, cfg)
		},
	}
}

func printConfigTable(out io.Writer, cfg *config.Config) error {
	file := cfg.Path
	if file == "" {
		file = "(none: ./" + config.DefaultFile + " not found, defaults apply)"
	}
	fmt.Fprintf(out, "config file: %s\n\n", file)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVALUE\tSOURCE")
	for _, s := range cfg.Settings() {
		src := s.Source.Label()
		if s.Ignored {
			src += " (ignored)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Key, displayValue(s.Value), src)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(out, "warning: %s\n", w)
	}
	return nil
}

// displayValue prints strings bare and everything else as compact JSON.
func displayValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func printConfigJSON(out io.Writer, cfg *config.Config) error {
	sources := map[string]string{}
	for _, s := range cfg.Settings() {
		sources[s.Key] = s.Source.Label()
	}
	var file any
	if cfg.Path != "" {
		file = cfg.Path
	}
	warnings := cfg.Warnings
	if warnings == nil {
		warnings = []string{}
	}
	doc := struct {
		File     any               `json:"file"`
		Config   json.RawMessage   `json:"config"`
		Sources  map[string]string `json:"sources"`
		Ignored  map[string]any    `json:"ignored"`
		Warnings []string          `json:"warnings"`
	}{file, cfg.RedactedJSON(), sources, cfg.Ignored, warnings}
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
