package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version, the Go version and the module versions built in",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "deps", Usage: "also list every module dependency"}},
		Action: func(c *cli.Context) error {
			if err := requireNoArgs(c); err != nil {
				return err
			}
			w := c.App.Writer
			fmt.Fprintf(w, "distributor %s\n", version)
			fmt.Fprintf(w, "go %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			bi, ok := debug.ReadBuildInfo()
			if !ok {
				return nil
			}
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" || s.Key == "vcs.modified" {
					fmt.Fprintf(w, "%s %s\n", s.Key, s.Value)
				}
			}
			if c.Bool("deps") {
				fmt.Fprintf(w, "module %s %s\n", bi.Main.Path, bi.Main.Version)
				for _, d := range bi.Deps {
					v := d.Version
					if d.Replace != nil {
						v += " => " + d.Replace.Path + " " + d.Replace.Version
					}
					fmt.Fprintf(w, "dep %s %s\n", d.Path, v)
				}
			}
			return nil
		},
	}
}
