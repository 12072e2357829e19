package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/shardeum/distributor/protocol"
)

func keygenCommand() *cli.Command {
	return &cli.Command{
		Name:  "keygen",
		Usage: "generate an Ed25519 key pair",
		Description: `Prints {"publicKey":…,"secretKey":…} as one JSON line: hex, the secret in the 64-byte
libsodium layout (seed || public) that DISTRIBUTOR_SECRET_KEY takes.`,
		Action: func(c *cli.Context) error {
			if err := requireNoArgs(c); err != nil {
				return err
			}
			kp, err := protocol.GenerateKeyPair()
			if err != nil {
				return fmt.Errorf("keygen: %w", err)
			}
			out, err := json.Marshal(struct {
				PublicKey string `json:"publicKey"`
				SecretKey string `json:"secretKey"`
			}{hex.EncodeToString(kp.Public), hex.EncodeToString(kp.Secret)})
			if err != nil {
				return fmt.Errorf("keygen: %w", err)
			}
			_, err = fmt.Fprintf(c.App.Writer, "%s\n", out)
			return err
		},
	}
}
