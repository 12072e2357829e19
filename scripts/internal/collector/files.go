package collector

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/shardeum/distributor/protocol"
)

// LoadCursorFile reads a cursor file: a JSON object of stream name -> frame cursor, as
// SaveCursorFile writes it.
func LoadCursorFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cursor file: %w", err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("cursor file %s: want {\"receipt\":\"<cursor>\",…}: %w", path, err)
	}
	for k := range m {
		if !isStream(k) {
			return nil, fmt.Errorf("cursor file %s: unknown stream %q (want cycle, receipt or originalTx)", path, k)
		}
	}
	return m, nil
}

// SaveCursorFile writes cursors so that a later run can resume from them; it replaces the file
// atomically (write then rename) so an interrupted save never leaves half a file.
func SaveCursorFile(path string, cursors map[string]string) error {
	b, err := json.MarshalIndent(cursors, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("save cursor: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save cursor: %w", err)
	}
	return nil
}

func isStream(s string) bool {
	for _, k := range Streams {
		if k == s {
			return true
		}
	}
	return false
}

// KeyFileEntry is one key pair in a keys file.
type KeyFileEntry struct {
	PublicKey string `json:"publicKey"`
	SecretKey string `json:"secretKey"`
}

// LoadKeys reads a keys file: a JSON array of {"publicKey","secretKey"} (hex), or such objects
// one after another (the output of repeated `distributor keygen`, one JSON line each).
func LoadKeys(path string) ([]protocol.KeyPair, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keys file: %w", err)
	}
	var list []KeyFileEntry
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("keys file %s: want [{\"publicKey\":…,\"secretKey\":…}] or one such object a line: %w", path, err)
		}
		var many []KeyFileEntry
		var one KeyFileEntry
		if err := json.Unmarshal(raw, &many); err == nil {
			list = append(list, many...)
		} else if err := json.Unmarshal(raw, &one); err == nil {
			list = append(list, one)
		} else {
			return nil, fmt.Errorf("keys file %s: %.40s…: want {\"publicKey\":…,\"secretKey\":…}", path, raw)
		}
	}
	if len(list) == 0 {
		return nil, errors.New("keys file " + path + ": no keys")
	}
	keys := make([]protocol.KeyPair, 0, len(list))
	for i, e := range list {
		kp, err := protocol.ParseKeyPair(e.PublicKey, e.SecretKey)
		if err != nil {
			return nil, fmt.Errorf("keys file %s, entry %d: %w", path, i, err)
		}
		keys = append(keys, kp)
	}
	return keys, nil
}
