package main

import (
	"bufio"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/shardeum/distributor/protocol"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "verify signed JSON objects read one per line on stdin",
		UsageText: "distributor verify [--hash-key HEX] < signed.jsonl",
		Description: `Reads one signed object per line and writes "ok" or "invalid: <reason>" for each, in order
(a line that is not JSON gives "invalid: <parse error>"). The signature must be by the object's
sign.owner over the object without "sign", hashed with the configured DISTRIBUTOR_HASH_KEY.
Blank lines are skipped. The exit status is 1 if any line is invalid.`,
		Action: func(c *cli.Context) error {
			if err := requireNoArgs(c); err != nil {
				return err
			}
			cfg, err := loadConfig(c)
			if err != nil {
				return err
			}
			invalid := 0
			err = eachLine(c.App.Reader, c.App.Writer, func(n int, line []byte, tooLong bool, w *bufio.Writer) error {
				err := errLineTooLong
				if !tooLong {
					err = protocol.VerifyJSON(cfg.HashKey, line)
				}
				if err != nil {
					invalid++
					_, err = fmt.Fprintf(w, "invalid: %s\n", oneLine(err.Error()))
					return err
				}
				_, err = w.WriteString("ok\n")
				return err
			})
			if err != nil {
				return fmt.Errorf("verify: %w", err)
			}
			if invalid > 0 {
				return &exitStatus{code: 1}
			}
			return nil
		},
	}
}
