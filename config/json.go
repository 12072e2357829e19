package config

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"

	"github.com/shardeum/distributor/protocol"
)

// Redacted replaces the secret key wherever the configuration is shown.
const Redacted = "<redacted>"

// file is the JSON form: the reference's keys (a valid distributor-config.json) plus ours.
type file struct {
	DistributorIP          string                `json:"DISTRIBUTOR_IP"`
	DistributorPort        int                   `json:"DISTRIBUTOR_PORT"`
	HashKey                string                `json:"DISTRIBUTOR_HASH_KEY"`
	PublicKey              string                `json:"DISTRIBUTOR_PUBLIC_KEY"`
	SecretKey              string                `json:"DISTRIBUTOR_SECRET_KEY"`
	ArchiverDBDir          string                `json:"ARCHIVER_DB_DIR"`
	ArchiverData           ArchiverData          `json:"ARCHIVER_DATA"`
	RateLimit              int                   `json:"RATE_LIMIT"`
	DataLogDir             string                `json:"DATA_LOG_DIR"`
	FileStreamIntervalMS   int                   `json:"FILE_STREAM_INTERVAL_MS"`
	MaxClientsPerChild     int                   `json:"MAX_CLIENTS_PER_CHILD"`
	Verbose                bool                  `json:"VERBOSE"`
	LimitToSubscribersOnly bool                  `json:"limitToSubscribersOnly"`
	Subscribers            []protocol.Subscriber `json:"subscribers"`
	ClientQueueFrames      int                   `json:"CLIENT_QUEUE_FRAMES"`
	ClientStallTimeoutMS   int                   `json:"CLIENT_STALL_TIMEOUT_MS"`
	HealthReaderProblemMS  int                   `json:"HEALTH_READER_PROBLEM_MS"`
	FirehoseSource         string                `json:"FIREHOSE_SOURCE"`
	RedisURL               string                `json:"REDIS_URL"`
	RedisStreamPrefix      string                `json:"REDIS_STREAM_PREFIX"`
	RedisStreamMaxLen      int                   `json:"REDIS_STREAM_MAXLEN"`
	RESTForwardURL         string                `json:"REST_FORWARD_URL"`
}

func (c *Config) file(secret string) file {
	subs := c.Subscribers
	if subs == nil {
		subs = []protocol.Subscriber{}
	}
	return file{
		DistributorIP: c.DistributorIP, DistributorPort: c.DistributorPort,
		HashKey: c.HashKeyHex, PublicKey: c.PublicKey, SecretKey: secret,
		ArchiverDBDir: c.ArchiverDBDir, ArchiverData: c.ArchiverData,
		RateLimit: c.RateLimit, DataLogDir: c.DataLogDir,
		FileStreamIntervalMS: c.FileStreamIntervalMS, MaxClientsPerChild: c.MaxClientsPerChild,
		Verbose: c.Verbose, LimitToSubscribersOnly: c.LimitToSubscribersOnly,
		Subscribers: subs, ClientQueueFrames: c.ClientQueueFrames,
		ClientStallTimeoutMS:  c.ClientStallTimeoutMS,
		HealthReaderProblemMS: c.HealthReaderProblemMS,
		FirehoseSource:        c.FirehoseSource, RedisURL: redactURL(c.RedisURL, secret),
		RedisStreamPrefix: c.RedisStreamPrefix, RedisStreamMaxLen: c.RedisStreamMaxLen,
		RESTForwardURL: c.RESTForwardURL,
	}
}

// JSON is the full effective configuration, secret key included, as a valid configuration file
// with absolute paths: what a parent hands to its children. The ignored keys are left out.
func (c *Config) JSON() []byte {
	return marshal(c.file(c.SecretKey), "")
}

// RedactedJSON is JSON with DISTRIBUTOR_SECRET_KEY shown as "<redacted>", indented for people.
func (c *Config) RedactedJSON() []byte {
	return marshal(c.file(Redacted), "  ")
}

// marshal encodes without HTML escaping (so "<redacted>" stays readable) and without a newline.
func marshal(v any, indent string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		panic("config: marshal: " + err.Error()) // cannot happen: plain strings, ints, bools
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// FromJSON rebuilds a Config from Config.JSON output, validating it as Load does. Relative
// paths resolve against the working directory; keys absent from data take their defaults.
func FromJSON(data []byte) (*Config, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, &Error{Msg: "cannot determine the working directory: " + err.Error(), Err: err}
	}
	st := newState(wd, slog.Default())
	src := Source{Kind: FromParent}
	obj, err := decodeObject(data)
	if err != nil {
		return nil, &Error{Source: src, Msg: "configuration from the parent process: " + describeJSONError(data, err), Err: err}
	}
	if err := st.applyObject(obj, src); err != nil {
		return nil, err
	}
	return st.build()
}

// Setting is one row of the provenance table.
type Setting struct {
	Key     string // top-level key, or ARCHIVER_DATA.<sub>
	Value   any    // effective value; the secret key is Redacted
	Source  Source
	Ignored bool // accepted for compatibility, not used
}

// Settings lists every key with its effective value and the layer that set it, in Keys order.
func (c *Config) Settings() []Setting {
	f := c.file(Redacted)
	values := map[string]any{
		KeyIP: f.DistributorIP, KeyPort: f.DistributorPort, KeyHashKey: f.HashKey,
		KeyPublicKey: f.PublicKey, KeySecretKey: f.SecretKey, KeyArchiverDBDir: f.ArchiverDBDir,
		KeyRateLimit: f.RateLimit, KeyDataLogDir: f.DataLogDir,
		KeyFileStreamIntervalMS: f.FileStreamIntervalMS, KeyMaxClientsPerChild: f.MaxClientsPerChild,
		KeyVerbose: f.Verbose, KeyLimitToSubscribersOnly: f.LimitToSubscribersOnly,
		KeySubscribers: f.Subscribers, KeyClientQueueFrames: f.ClientQueueFrames,
		KeyClientStallTimeoutMS:  f.ClientStallTimeoutMS,
		KeyHealthReaderProblemMS: f.HealthReaderProblemMS,
		KeyFirehoseSource:        f.FirehoseSource, KeyRedisURL: f.RedisURL,
		KeyRedisStreamPrefix: f.RedisStreamPrefix, KeyRedisStreamMaxLen: f.RedisStreamMaxLen,
		KeyRESTForwardURL: f.RESTForwardURL,
	}
	var out []Setting
	for _, k := range Keys {
		switch {
		case k.Kind == Object:
			for _, sub := range archiverDataKeys {
				v, _ := c.ArchiverData.Get(sub)
				key := k.Name + "." + sub
				out = append(out, Setting{Key: key, Value: v, Source: c.sources[key]})
			}
		case k.Ignored:
			out = append(out, Setting{Key: k.Name, Value: c.Ignored[k.Name], Source: c.sources[k.Name], Ignored: true})
		default:
			out = append(out, Setting{Key: k.Name, Value: values[k.Name], Source: c.sources[k.Name]})
		}
	}
	return out
}
