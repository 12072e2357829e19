package config

// The keys, in the order the reference declares them (and `distributor config` prints them).
const (
	KeyIP                     = "DISTRIBUTOR_IP"
	KeyPort                   = "DISTRIBUTOR_PORT"
	KeyHashKey                = "DISTRIBUTOR_HASH_KEY"
	KeyPublicKey              = "DISTRIBUTOR_PUBLIC_KEY"
	KeySecretKey              = "DISTRIBUTOR_SECRET_KEY"
	KeyArchiverDBDir          = "ARCHIVER_DB_DIR"
	KeyArchiverData           = "ARCHIVER_DATA"
	KeyLogs                   = "DISTRIBUTOR_LOGS"
	KeyRateLimit              = "RATE_LIMIT"
	KeyDataLogDir             = "DATA_LOG_DIR"
	KeyFileStreamIntervalMS   = "FILE_STREAM_INTERVAL_MS"
	KeyNumberOfWorkers        = "NUMBER_OF_WORKERS"
	KeyMaxClientsPerChild     = "MAX_CLIENTS_PER_CHILD"
	KeyVerbose                = "VERBOSE"
	KeyLimitToSubscribersOnly = "limitToSubscribersOnly"
	KeySubscribers            = "subscribers"
	KeyDistributorMode        = "distributorMode"
	KeyMQServerPort           = "MQ_DISTRIBUTOR_SERVER_PORT"
	KeyClientQueueFrames      = "CLIENT_QUEUE_FRAMES"
	KeyClientStallTimeoutMS   = "CLIENT_STALL_TIMEOUT_MS"
	KeyHealthReaderProblemMS  = "HEALTH_READER_PROBLEM_MS"
	KeyFirehoseSource         = "FIREHOSE_SOURCE"
	KeyRedisURL               = "REDIS_URL"
	KeyRedisStreamPrefix      = "REDIS_STREAM_PREFIX"
	KeyRedisStreamMaxLen      = "REDIS_STREAM_MAXLEN"
	KeyRESTForwardURL         = "REST_FORWARD_URL"
)

// Kind is the JSON type a key takes.
type Kind int

const (
	String Kind = iota
	Int
	Bool
	Object // ARCHIVER_DATA: merged key by key
	Array  // subscribers: replaced whole
)

// KeyInfo describes one top-level key.
type KeyInfo struct {
	Name    string
	Kind    Kind
	Ignored bool   // accepted for compatibility with the reference, not used
	Help    string // one line, for flags and documentation
}

// Keys lists every top-level key this package accepts.
var Keys = []KeyInfo{
	{KeyIP, String, false, "listen address of the HTTP/WebSocket server, also reported by /config"},
	{KeyPort, Int, false, "HTTP and WebSocket port (0 picks a free port)"},
	{KeyHashKey, String, false, "32-byte hex key of the keyed BLAKE2b hash that is signed"},
	{KeyPublicKey, String, false, "Ed25519 public key, 64 hex characters (sign.owner)"},
	{KeySecretKey, String, false, "Ed25519 secret key, 128 hex characters (seed || public)"},
	{KeyArchiverDBDir, String, false, "directory of the archiver's SQLite files"},
	{KeyArchiverData, Object, false, "JSON object of DB file names: cycleDB, accountDB, transactionDB, receiptDB, originalTxDataDB"},
	{KeyLogs, String, true, "ignored (reference log4js directory; we log to stderr)"},
	{KeyRateLimit, Int, false, "HTTP requests per rate-limit window per client IP"},
	{KeyDataLogDir, String, false, "directory of the data-log files streamed to subscribers"},
	{KeyFileStreamIntervalMS, Int, false, "data-log polling interval in milliseconds"},
	{KeyNumberOfWorkers, Int, true, "ignored (reference cluster workers; we spawn children on demand)"},
	{KeyMaxClientsPerChild, Int, false, "WebSocket clients served by one child process"},
	{KeyVerbose, Bool, false, "debug logging"},
	{KeyLimitToSubscribersOnly, Bool, false, "accept only listed, unexpired subscribers"},
	{KeySubscribers, Array, false, "JSON array of {publicKey, expirationTimestamp, subscriptionType}"},
	{KeyDistributorMode, String, true, "ignored (reference WS/MQ switch; we serve WS mode)"},
	{KeyMQServerPort, Int, true, "ignored (reference MQ-mode health port)"},
	{KeyClientQueueFrames, Int, false, "frames queued in memory per client; past it the client reads the data log at its own position"},
	{KeyClientStallTimeoutMS, Int, false, "a client that takes no bytes for this many milliseconds is closed (1008)"},
	{KeyHealthReaderProblemMS, Int, false, "milliseconds a data-log reader's problem may stand before /is-healthy answers 503"},
	{KeyFirehoseSource, String, false, `where children read the firehose: "files" (DATA_LOG_DIR) or "redis" (streams an ingress fills)`},
	{KeyRedisURL, String, false, "Redis for the ingress and FIREHOSE_SOURCE=redis: redis:// or rediss://[user:password@]host:port[/db]"},
	{KeyRedisStreamPrefix, String, false, "prefix of the Redis stream keys (then cycle, receipt, originalTx)"},
	{KeyRedisStreamMaxLen, Int, false, "entries each Redis stream keeps (XADD MAXLEN ~)"},
	{KeyRESTForwardURL, String, false, "http(s) URL of a distributor with the archive; REST is forwarded there while ARCHIVER_DB_DIR cannot be opened (\"\": none)"},
}

// Sub-keys of ARCHIVER_DATA.
const (
	SubCycleDB          = "cycleDB"
	SubAccountDB        = "accountDB"
	SubTransactionDB    = "transactionDB"
	SubReceiptDB        = "receiptDB"
	SubOriginalTxDataDB = "originalTxDataDB"
)

var archiverDataKeys = []string{SubCycleDB, SubAccountDB, SubTransactionDB, SubReceiptDB, SubOriginalTxDataDB}

// Defaults: the reference's built-in values (not the values of its shipped file), except
// MAX_CLIENTS_PER_CHILD (the reference's 2 is unused by it) and our own keys.
const (
	DefaultIP                   = "localhost"
	DefaultPort                 = 6100
	DefaultHashKey              = "69fa4195670576c0160d660c3be36556ff8d504725be8a59b5a96509e0c994bc"
	DefaultPublicKey            = "758b1c119412298802cd28dbfa394cdfeecc4074492d60844cc192d632d84de3"
	DefaultSecretKey            = "3be00019f23847529bd63e41124864983175063bb524bd54ea3c155f2fa12969758b1c119412298802cd28dbfa394cdfeecc4074492d60844cc192d632d84de3"
	DefaultArchiverDBDir        = "archiverdb.sqlite3"
	DefaultLogs                 = "distributor-logs"
	DefaultRateLimit            = 100
	DefaultDataLogDir           = "../../../collector/data-logs"
	DefaultFileStreamIntervalMS = 100
	DefaultNumberOfWorkers      = 5
	DefaultMaxClientsPerChild   = 50
	DefaultDistributorMode      = "WS"
	DefaultMQServerPort         = 6101
	DefaultClientQueueFrames    = 16384
	DefaultClientStallTimeoutMS = 120000
	DefaultFirehoseSource       = FirehoseFiles
	DefaultRedisURL             = "redis://127.0.0.1:6379/0"
	DefaultRedisStreamPrefix    = "distributor:"
	DefaultRedisStreamMaxLen    = 100000
	// DefaultFile is looked up in the working directory when no file is named.
	DefaultFile = "distributor-config.json"
)

// DefaultHealthReaderProblemMS is how long (ms) a reader's problem may stand before /is-healthy
// answers 503: a minute, about one cycle, so one bad line in a quiet stream is not an outage.
const DefaultHealthReaderProblemMS = 60000

// FIREHOSE_SOURCE values.
const (
	FirehoseFiles = "files" // children follow DATA_LOG_DIR and sign each line
	FirehoseRedis = "redis" // children read the streams `distributor ingress` signed into Redis
)

// DefaultArchiverData are the archiver's file names.
var DefaultArchiverData = ArchiverData{
	CycleDB:          "cycles.sqlite3",
	AccountDB:        "accounts.sqlite3",
	TransactionDB:    "transactions.sqlite3",
	ReceiptDB:        "receipts.sqlite3",
	OriginalTxDataDB: "originalTxsData.sqlite3",
}

// SubscriptionTypes are the subscriptionType values the reference knows.
var SubscriptionTypes = []string{"FIREHOSE", "ACCOUNTS"}

func keyInfo(name string) (KeyInfo, bool) {
	for _, k := range Keys {
		if k.Name == name {
			return k, true
		}
	}
	return KeyInfo{}, false
}
