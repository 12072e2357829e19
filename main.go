// Command distributor streams a Shardeum archive's live data to subscribed collectors and answers
// their signed queries. See `distributor help`.
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shardeum/distributor/config"
)

// version is set at build time: go build -ldflags "-X main.version=1.2.3".
var version = "dev"

// logLevel is the level of the default logger; loadConfig lowers it to debug when VERBOSE is set.
var logLevel = new(slog.LevelVar)

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

// commands is the command list. To add one, write cmd_<name>.go with a <name>Command()
// constructor and list it here.
func commands() []*cli.Command {
	return []*cli.Command{
		startCommand(),
		keygenCommand(),
		signCommand(),
		verifyCommand(),
		configCommand(),
		versionCommand(),
		statusCommand(),
		childCommand(),
		replayCommand(),
		ingressCommand(),
	}
}

// run executes the command line and returns the process exit status:
// 0 success, 1 runtime failure, 2 bad configuration or usage.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel})))
	err := newApp(commands(), stdin, stdout, stderr).Run(args)
	code := exitCode(err)
	var quiet *exitStatus
	if err != nil && !errors.As(err, &quiet) {
		fmt.Fprintln(stderr, errorLine(err))
	}
	return code
}

// newApp builds the application around cmds, giving each the per-key configuration flags.
func newApp(cmds []*cli.Command, stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	for _, cmd := range cmds {
		if !cmd.SkipFlagParsing {
			cmd.Flags = append(cmd.Flags, configFlagsExcept(cmd.Flags)...)
		}
		cmd.OnUsageError = onUsageError
	}
	return &cli.App{
		Name:                 "distributor",
		Usage:                "stream a Shardeum archive's live data to collectors, and answer their signed queries",
		Version:              version,
		Commands:             cmds,
		Flags:                configFlags(),
		Reader:               stdin,
		Writer:               stdout,
		ErrWriter:            stderr,
		OnUsageError:         onUsageError,
		ExitErrHandler:       func(*cli.Context, error) {}, // run maps errors to statuses; never os.Exit inside
		EnableBashCompletion: false,
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageErrorf("unknown command %q (see 'distributor help')", c.Args().First())
			}
			_ = cli.ShowAppHelp(c)
			return usageErrorf("no command given")
		},
	}
}

// usageError is a command-line mistake: exit status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, a ...any) error {
	return &usageError{fmt.Errorf(format, a...)}
}

func onUsageError(c *cli.Context, err error, isSubcommand bool) error {
	where := "distributor"
	if isSubcommand && c.Command != nil && c.Command.Name != "" {
		where += " " + c.Command.Name
	}
	return usageErrorf("%v (see '%s --help')", err, where)
}

// exitStatus ends the process with a status and no further message: the command has already
// reported its problems (e.g. sign's per-line errors).
type exitStatus struct{ code int }

func (e *exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func exitCode(err error) int {
	var (
		ce *config.Error
		ue *usageError
		es *exitStatus
		ec cli.ExitCoder
	)
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ce), errors.As(err, &ue):
		return 2
	case errors.As(err, &es):
		return es.code
	case errors.As(err, &ec):
		if strings.HasPrefix(ec.Error(), "No help topic for") { // `distributor help bogus`
			return 2
		}
		return ec.ExitCode()
	}
	return 1
}

// errorLine is the one line printed for a failing command. Configuration errors already begin
// with "config:".
func errorLine(err error) string {
	msg := oneLine(err.Error())
	var ce *config.Error
	if errors.As(err, &ce) && strings.HasPrefix(msg, "config:") {
		return msg
	}
	return "distributor: " + msg
}

// requireNoArgs rejects positional arguments for commands that take none.
func requireNoArgs(c *cli.Context) error {
	if c.Args().Present() {
		return usageErrorf("%s takes no arguments, got %q (see 'distributor %s --help')",
			c.Command.Name, c.Args().First(), c.Command.Name)
	}
	return nil
}

// oneLine keeps a message on one line of output.
func oneLine(s string) string {
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
}
