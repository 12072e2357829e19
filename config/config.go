package config

import (
	"path/filepath"
	"time"

	"github.com/shardeum/distributor/protocol"
)

// Config is the validated, effective configuration. Paths are absolute; keys are parsed.
// Treat a *Config as immutable once Load returns it: a reload builds a new one.
type Config struct {
	DistributorIP   string
	DistributorPort int // 0 means any free port (useful in tests)

	HashKeyHex string // lower-case hex of HashKey
	HashKey    protocol.HashKey

	PublicKey, SecretKey string // lower-case hex
	Keys                 protocol.KeyPair

	ArchiverDBDir string // absolute
	ArchiverData  ArchiverData
	DataLogDir    string // absolute

	FileStreamIntervalMS   int
	MaxClientsPerChild     int
	RateLimit              int
	Verbose                bool
	LimitToSubscribersOnly bool
	Subscribers            []protocol.Subscriber // never nil

	ClientQueueFrames    int // ours: frames queued in memory per client before it reads the log, default 16384
	ClientStallTimeoutMS int // ours: a client taking no bytes this long is closed, default 120000
	// HealthReaderProblemMS is how long a reader's problem may stand (reported, and no line read
	// since) before /is-healthy answers 503. Ours; default 60000.
	HealthReaderProblemMS int

	FirehoseSource    string // FirehoseFiles or FirehoseRedis
	RedisURL          string // redis:// or rediss:// URL, checked by Load
	RedisStreamPrefix string // stream keys are this plus cycle, receipt, originalTx
	RedisStreamMaxLen int    // XADD MAXLEN ~ of each stream

	// RESTForwardURL is an http(s) URL of a distributor that has the archive ("" = none): while
	// ARCHIVER_DB_DIR cannot be opened, every REST route is forwarded there. Ours.
	RESTForwardURL string

	Path string // the file it came from, "" if none was read

	// Ignored holds the values of keys the reference has and we accept without using
	// (DISTRIBUTOR_LOGS, NUMBER_OF_WORKERS, distributorMode, MQ_DISTRIBUTOR_SERVER_PORT).
	Ignored map[string]any
	// Warnings are the non-fatal problems met while loading (unknown keys and the like).
	Warnings []string

	sources map[string]Source
}

// ArchiverData names the archiver's SQLite files inside ArchiverDBDir.
type ArchiverData struct {
	CycleDB          string `json:"cycleDB"`
	AccountDB        string `json:"accountDB"`
	TransactionDB    string `json:"transactionDB"`
	ReceiptDB        string `json:"receiptDB"`
	OriginalTxDataDB string `json:"originalTxDataDB"`
}

// Get returns the file name of an ARCHIVER_DATA sub-key such as "cycleDB".
func (a ArchiverData) Get(sub string) (string, bool) {
	switch sub {
	case SubCycleDB:
		return a.CycleDB, true
	case SubAccountDB:
		return a.AccountDB, true
	case SubTransactionDB:
		return a.TransactionDB, true
	case SubReceiptDB:
		return a.ReceiptDB, true
	case SubOriginalTxDataDB:
		return a.OriginalTxDataDB, true
	}
	return "", false
}

func (a *ArchiverData) set(sub, v string) {
	switch sub {
	case SubCycleDB:
		a.CycleDB = v
	case SubAccountDB:
		a.AccountDB = v
	case SubTransactionDB:
		a.TransactionDB = v
	case SubReceiptDB:
		a.ReceiptDB = v
	case SubOriginalTxDataDB:
		a.OriginalTxDataDB = v
	}
}

// Signer signs with the configured hash key and key pair.
func (c *Config) Signer() protocol.Signer {
	return protocol.Signer{HashKey: c.HashKey, Keys: c.Keys}
}

// Auth is the request authenticator for the configured hash key and subscribers. With duplicate
// subscriber keys the last entry wins, as in the reference.
func (c *Config) Auth() protocol.Auth {
	subs := make(map[string]protocol.Subscriber, len(c.Subscribers))
	for _, s := range c.Subscribers {
		subs[s.PublicKey] = s
	}
	return protocol.Auth{
		HashKey:                c.HashKey,
		LimitToSubscribersOnly: c.LimitToSubscribersOnly,
		Subscribers:            subs,
		Now:                    time.Now,
	}
}

// DBPath is the absolute path of an archiver DB. name is either an ARCHIVER_DATA sub-key
// ("cycleDB", "receiptDB", ...), which maps to the configured file name, or a file name, which
// is joined to ArchiverDBDir. An absolute file name is returned as it is.
func (c *Config) DBPath(name string) string {
	if file, ok := c.ArchiverData.Get(name); ok {
		name = file
	}
	if filepath.IsAbs(name) {
		return filepath.Clean(name)
	}
	return filepath.Join(c.ArchiverDBDir, name)
}

// Source reports which layer set a key. Keys are the top-level names plus
// "ARCHIVER_DATA.<sub>" for the file names, which merge one by one.
func (c *Config) Source(key string) Source {
	return c.sources[key]
}
