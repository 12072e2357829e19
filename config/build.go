package config

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/shardeum/distributor/protocol"
)

// build validates the merged settings and assembles the Config.
func (st *state) build() (*Config, error) {
	c := &Config{Ignored: map[string]any{}, sources: map[string]Source{}}
	for k, s := range st.vals {
		c.sources[k] = s.src
	}
	var err error
	c.DistributorIP = st.str(KeyIP)
	if c.DistributorPort, err = st.intIn(KeyPort, 0, 65535); err != nil {
		return nil, err
	}
	if err := st.keys(c); err != nil {
		return nil, err
	}
	if c.ArchiverDBDir, err = st.path(KeyArchiverDBDir); err != nil {
		return nil, err
	}
	for _, sub := range archiverDataKeys {
		name, err := st.nonEmpty(KeyArchiverData + "." + sub)
		if err != nil {
			return nil, err
		}
		c.ArchiverData.set(sub, name)
	}
	if c.DataLogDir, err = st.path(KeyDataLogDir); err != nil {
		return nil, err
	}
	if c.FileStreamIntervalMS, err = st.intIn(KeyFileStreamIntervalMS, 1, 3_600_000); err != nil {
		return nil, err
	}
	if c.MaxClientsPerChild, err = st.intIn(KeyMaxClientsPerChild, 1, 1_000_000); err != nil {
		return nil, err
	}
	if c.RateLimit, err = st.intIn(KeyRateLimit, 1, math.MaxInt32); err != nil {
		return nil, err
	}
	if c.ClientQueueFrames, err = st.intIn(KeyClientQueueFrames, 1, 1<<24); err != nil {
		return nil, err
	}
	if c.ClientStallTimeoutMS, err = st.intIn(KeyClientStallTimeoutMS, 1, 86_400_000); err != nil {
		return nil, err
	}
	if c.HealthReaderProblemMS, err = st.intIn(KeyHealthReaderProblemMS, 0, 86_400_000); err != nil {
		return nil, err
	}
	if err := st.redis(c); err != nil {
		return nil, err
	}
	if err := st.restForward(c); err != nil {
		return nil, err
	}
	c.Verbose = st.vals[KeyVerbose].v.(bool)
	c.LimitToSubscribersOnly = st.vals[KeyLimitToSubscribersOnly].v.(bool)
	if c.Subscribers, err = st.subscribers(); err != nil {
		return nil, err
	}
	for _, k := range Keys {
		if k.Ignored {
			c.Ignored[k.Name] = st.vals[k.Name].v
		}
	}
	c.Warnings = st.warnings
	return c, nil
}

func (st *state) str(key string) string { return st.vals[key].v.(string) }

func (st *state) nonEmpty(key string) (string, error) {
	s := st.vals[key]
	if strings.TrimSpace(s.v.(string)) == "" {
		return "", keyError(key, s.src, quote(s.v.(string)), "is empty")
	}
	return s.v.(string), nil
}

func (st *state) intIn(key string, lo, hi int64) (int, error) {
	s := st.vals[key]
	n := s.v.(int64)
	if n < lo || n > hi {
		problem := fmt.Sprintf("is out of range (%d to %d)", lo, hi)
		if lo == 1 && n <= 0 {
			problem = "must be positive"
		}
		return 0, keyError(key, s.src, fmt.Sprint(n), problem)
	}
	return int(n), nil
}

// path resolves a relative directory: against the file's folder when the file (or the default)
// set it, against the working directory when the environment or a flag did.
func (st *state) path(key string) (string, error) {
	p, err := st.nonEmpty(key)
	if err != nil {
		return "", err
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p), nil
	}
	base := st.baseDir
	switch st.vals[key].src.Kind {
	case FromEnv, FromFlag, FromParent:
		base = st.dir
	}
	return filepath.Join(base, p), nil
}

// keys parses the hash key and the key pair.
func (st *state) keys(c *Config) error {
	hk := st.vals[KeyHashKey]
	b, problem := decodeHex(hk.v.(string), 32)
	if problem != "" {
		return keyError(KeyHashKey, hk.src, quote(hk.v.(string)), problem)
	}
	c.HashKeyHex = hex.EncodeToString(b)
	var err error
	if c.HashKey, err = protocol.ParseHashKey(c.HashKeyHex); err != nil {
		return keyError(KeyHashKey, hk.src, quote(hk.v.(string)), "is not a valid hash key: "+err.Error())
	}

	pub := st.vals[KeyPublicKey]
	b, problem = decodeHex(pub.v.(string), 32)
	if problem != "" {
		return keyError(KeyPublicKey, pub.src, quote(pub.v.(string)), problem)
	}
	c.PublicKey = hex.EncodeToString(b)

	sec := st.vals[KeySecretKey]
	b, problem = decodeHex(sec.v.(string), 64) // the secret is never echoed
	if problem != "" {
		return keyError(KeySecretKey, sec.src, "", problem)
	}
	c.SecretKey = hex.EncodeToString(b)
	if derived := ed25519.NewKeyFromSeed(b[:32]); !bytes.Equal(derived[32:], b[32:]) {
		return keyError(KeySecretKey, sec.src, "", "is not an Ed25519 secret key (its second half is not the public key of its seed)")
	}

	if c.Keys, err = protocol.ParseKeyPair(c.PublicKey, c.SecretKey); err != nil {
		other := KeyPublicKey
		if pub.src != sec.src {
			other += " from " + pub.src.String()
		}
		e := keyError(KeySecretKey, sec.src, "", "does not match "+other)
		e.Err = err
		return e
	}
	return nil
}

// decodeHex decodes hex of exactly want bytes, or says what is wrong with it.
func decodeHex(s string, want int) ([]byte, string) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Sprintf("is not hex (want %d hex characters)", 2*want)
	}
	if len(b) != want {
		return nil, fmt.Sprintf("is %d bytes, want %d (%d hex characters)", len(b), want, 2*want)
	}
	return b, ""
}

func (st *state) subscribers() ([]protocol.Subscriber, error) {
	s := st.vals[KeySubscribers]
	in := s.v.([]protocol.Subscriber)
	out := make([]protocol.Subscriber, 0, len(in))
	seen := map[string]int{}
	for i, sub := range in {
		at := fmt.Sprintf("%s[%d]", KeySubscribers, i)
		b, problem := decodeHex(sub.PublicKey, 32)
		if problem != "" {
			return nil, keyError(at+".publicKey", s.src, quote(sub.PublicKey), problem)
		}
		if !slices.Contains(SubscriptionTypes, sub.SubscriptionType) {
			return nil, keyError(at+".subscriptionType", s.src, quote(sub.SubscriptionType),
				"is not one of "+strings.Join(SubscriptionTypes, ", "))
		}
		if sub.ExpirationTimestamp < 0 {
			return nil, keyError(at+".expirationTimestamp", s.src, fmt.Sprint(sub.ExpirationTimestamp),
				"is negative (0 means never; otherwise Unix milliseconds)")
		}
		sub.PublicKey = hex.EncodeToString(b) // collectors send lower-case hex
		if j, dup := seen[sub.PublicKey]; dup {
			st.warn(fmt.Sprintf("config: %s from %s repeats the publicKey of %s[%d]; the later entry wins",
				at, s.src, KeySubscribers, j))
		}
		seen[sub.PublicKey] = i
		out = append(out, sub)
	}
	return out, nil
}

// redis checks FIREHOSE_SOURCE and the Redis keys. REDIS_URL is checked whatever the source: the
// ingress uses it with FIREHOSE_SOURCE=files, and a mistake is better reported at load time.
func (st *state) redis(c *Config) error {
	src := st.vals[KeyFirehoseSource]
	switch v := strings.TrimSpace(src.v.(string)); v {
	case FirehoseFiles, FirehoseRedis:
		c.FirehoseSource = v
	default:
		return keyError(KeyFirehoseSource, src.src, quote(src.v.(string)), `is not "files" or "redis"`)
	}
	u := st.vals[KeyRedisURL]
	raw := strings.TrimSpace(u.v.(string))
	if problem := checkRedisURL(raw); problem != "" {
		return keyError(KeyRedisURL, u.src, quote(redactURL(raw, Redacted)), problem)
	}
	c.RedisURL = raw
	var err error
	if c.RedisStreamPrefix, err = st.nonEmpty(KeyRedisStreamPrefix); err != nil {
		return err
	}
	if c.RedisStreamMaxLen, err = st.intIn(KeyRedisStreamMaxLen, 1, 1<<40); err != nil {
		return err
	}
	return nil
}

// checkRedisURL says what is wrong with a Redis URL, or "". It accepts what go-redis's ParseURL
// accepts: redis:// or rediss://, an optional user and password, host[:port] and a db number.
func checkRedisURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "is not a URL"
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return "must start with redis:// or rediss://"
	}
	if u.Host == "" {
		return "names no host (want redis://host:port/db)"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "has a bad port (1 to 65535)"
		}
	}
	if db := strings.Trim(u.Path, "/"); db != "" {
		if n, err := strconv.Atoi(db); err != nil || n < 0 {
			return "has a bad db number (the path must be a non-negative integer, e.g. /0)"
		}
	}
	return ""
}

// redactURL replaces a URL's password with mark (the value of DISTRIBUTOR_SECRET_KEY in the
// same output: the real one in the parent's handoff, Redacted for people).
func redactURL(raw, mark string) string {
	if mark != Redacted {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); !has {
		return raw
	}
	u.User = url.UserPassword(u.User.Username(), "xxxxx")
	return strings.Replace(u.String(), "xxxxx", Redacted, 1)
}

// restForward checks REST_FORWARD_URL: empty, or the http(s) base URL of another distributor.
func (st *state) restForward(c *Config) error {
	s := st.vals[KeyRESTForwardURL]
	raw := strings.TrimSpace(s.v.(string))
	if raw == "" {
		return nil
	}
	if problem := checkForwardURL(raw); problem != "" {
		return keyError(KeyRESTForwardURL, s.src, quote(redactURL(raw, Redacted)), problem)
	}
	c.RESTForwardURL = strings.TrimRight(raw, "/")
	return nil
}

// checkForwardURL says what is wrong with a REST_FORWARD_URL, or "".
func checkForwardURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "is not a URL"
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "must start with http:// or https:// (want the base URL of a distributor with the archive, e.g. http://archive-node:6100)"
	}
	if u.Host == "" || u.Hostname() == "" {
		return "names no host (want http://host:port)"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "has a bad port (1 to 65535)"
		}
	}
	if u.User != nil {
		return "must not hold credentials (requests are forwarded with their own signatures)"
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "must not have a query or fragment (the request's own path and query are appended)"
	}
	return ""
}
