package main

import (
	"bufio"
	"fmt"

	"github.com/urfave/cli/v2"
)

func signCommand() *cli.Command {
	return &cli.Command{
		Name:      "sign",
		Usage:     "sign JSON objects read one per line on stdin",
		UsageText: "distributor sign [--secret-key HEX --public-key HEX] < objects.jsonl > signed.jsonl",
		Description: `Reads one JSON object per line and writes each one signed with the configured hash key and
key pair, as one canonical line (keys sorted, "sign":{"owner","sig"} added), as the reference
signs frames and responses. An object the reference revives as a Buffer or Uint8Array
({"type":"Buffer","data":…}, or a bb or u8ab value) comes out as the reference writes it:
its bytes, without "sign". Output follows input line by line, so it can sit in a pipe.
A line that cannot be signed is reported on stderr as "error: line N: <reason>" and skipped;
the exit status is then 1. Blank lines are skipped. --secret-key and --public-key are the
DISTRIBUTOR_SECRET_KEY and DISTRIBUTOR_PUBLIC_KEY flags; they must match (else exit status 2).`,
		Action: func(c *cli.Context) error {
			if err := requireNoArgs(c); err != nil {
				return err
			}
			cfg, err := loadConfig(c)
			if err != nil {
				return err
			}
			signer := cfg.Signer()
			failed := 0
			err = eachLine(c.App.Reader, c.App.Writer, func(n int, line []byte, tooLong bool, w *bufio.Writer) error {
				var signed []byte
				err := errLineTooLong
				if !tooLong {
					signed, err = signer.SignJSON(line)
				}
				if err != nil {
					failed++
					fmt.Fprintf(c.App.ErrWriter, "error: line %d: %s\n", n, oneLine(err.Error()))
					return nil
				}
				if _, err := w.Write(signed); err != nil {
					return err
				}
				return w.WriteByte('\n')
			})
			if err != nil {
				return fmt.Errorf("sign: %w", err)
			}
			if failed > 0 {
				return &exitStatus{code: 1}
			}
			return nil
		},
	}
}
