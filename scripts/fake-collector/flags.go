package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/shardeum/distributor/protocol"
	"github.com/shardeum/distributor/scripts/internal/collector"
)

var errHelp = errors.New("help")

// settings are the parsed flags.
type settings struct {
	addr        string
	clients     int
	duration    time.Duration
	expect      int64
	stream      string
	cursor      map[string]string
	cursorFile  string
	saveCursor  string
	keysFile    string
	publicKey   string
	secretKey   string
	hashKey     protocol.HashKey
	expectOwner string
	verifyEvery int
	maxFiles    int
	maxEntries  int
	json        bool
	interval    time.Duration
	keys        []protocol.KeyPair // one per client
}

// cursorFlag collects repeatable --cursor stream=position.
type cursorFlag map[string]string

func (c cursorFlag) String() string {
	var parts []string
	for k, v := range c {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func (c cursorFlag) Set(s string) error {
	stream, pos, ok := strings.Cut(s, "=")
	if !ok || pos == "" {
		return fmt.Errorf("want stream=position, got %q", s)
	}
	switch stream {
	case "cycle", "receipt", "originalTx":
	default:
		return fmt.Errorf("unknown stream %q (want cycle, receipt or originalTx)", stream)
	}
	c[stream] = pos
	return nil
}

func parseFlags(args []string, stderr io.Writer) (*settings, error) {
	s := &settings{cursor: map[string]string{}}
	fs := flag.NewFlagSet("fake-collector", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var hashKey string
	fs.StringVar(&s.addr, "addr", "127.0.0.1:6100", "distributor `host:port` (or ws:// URL)")
	fs.IntVar(&s.clients, "clients", 1, "concurrent subscribers; with more than one, each gets a generated key pair unless --keys")
	fs.DurationVar(&s.duration, "duration", 0, "stop after this long (0 = until the server closes or a signal)")
	fs.Int64Var(&s.expect, "expect", 0, "exit once every client received this many frames of --stream (0 = off)")
	fs.StringVar(&s.stream, "stream", "receipt", "stream counted by --expect")
	fs.Var(cursorFlag(s.cursor), "cursor", "resume `stream=position` (repeatable); overrides --cursor-file")
	fs.StringVar(&s.cursorFile, "cursor-file", "", "resume from the cursors in this JSON `file` ({\"receipt\":\"…\"})")
	fs.StringVar(&s.saveCursor, "save-cursor", "", "write the last cursor of each stream to this `file` at exit (one client only)")
	fs.StringVar(&s.keysFile, "keys", "", "JSON `file` of key pairs [{\"publicKey\",\"secretKey\"}], one per client (for limitToSubscribersOnly)")
	fs.StringVar(&s.publicKey, "public-key", collector.CollectorPublicKey, "collector public key (hex), with --clients 1")
	fs.StringVar(&s.secretKey, "secret-key", collector.CollectorSecretKey, "collector secret key (hex, 64 bytes), with --clients 1")
	fs.StringVar(&hashKey, "hash-key", collector.DefaultHashKey, "DISTRIBUTOR_HASH_KEY (hex)")
	fs.StringVar(&s.expectOwner, "expect-owner", collector.DistributorPublicKey, "public key frames must be signed by (\"any\" = any valid signer)")
	fs.IntVar(&s.verifyEvery, "verify-every", 1, "verify the signature of every `N`th frame per stream (owner and order are checked on all)")
	fs.IntVar(&s.maxFiles, "max-files", 10, "the writer's maxLogFiles, to check file succession for frames without a seq")
	fs.IntVar(&s.maxEntries, "max-entries", 0, "the writer's entries per file, to check that each file was received to its end (0 = unknown)")
	fs.BoolVar(&s.json, "json", false, "print the summary as JSON")
	fs.DurationVar(&s.interval, "interval", time.Second, "live count line interval on stderr (0 = none)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if s.expectOwner == "any" {
		s.expectOwner = ""
	}
	var err error
	if s.hashKey, err = protocol.ParseHashKey(hashKey); err != nil {
		return nil, fmt.Errorf("--hash-key: %w", err)
	}
	if s.clients < 1 {
		return nil, fmt.Errorf("--clients must be at least 1")
	}
	if s.verifyEvery < 1 {
		return nil, fmt.Errorf("--verify-every must be at least 1")
	}
	switch s.stream {
	case "cycle", "receipt", "originalTx":
	default:
		return nil, fmt.Errorf("--stream %q: want cycle, receipt or originalTx", s.stream)
	}
	if s.saveCursor != "" && s.clients != 1 {
		return nil, fmt.Errorf("--save-cursor needs --clients 1")
	}
	if s.cursorFile != "" {
		fromFile, err := collector.LoadCursorFile(s.cursorFile)
		if err != nil {
			return nil, err
		}
		for k, v := range fromFile {
			if _, set := s.cursor[k]; !set {
				s.cursor[k] = v
			}
		}
	}
	if err := s.loadKeys(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *settings) loadKeys() error {
	switch {
	case s.keysFile != "":
		keys, err := collector.LoadKeys(s.keysFile)
		if err != nil {
			return err
		}
		if len(keys) < s.clients {
			return fmt.Errorf("--keys %s has %d key pairs for %d clients (one connection per key: a second one replaces the first)",
				s.keysFile, len(keys), s.clients)
		}
		s.keys = keys[:s.clients]
	case s.clients == 1:
		kp, err := protocol.ParseKeyPair(s.publicKey, s.secretKey)
		if err != nil {
			return fmt.Errorf("--public-key/--secret-key: %w", err)
		}
		s.keys = []protocol.KeyPair{kp}
	default:
		for range s.clients {
			kp, err := protocol.GenerateKeyPair()
			if err != nil {
				return fmt.Errorf("generate key pair: %w", err)
			}
			s.keys = append(s.keys, kp)
		}
	}
	return nil
}
