package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/shardeum/distributor/protocol"
)

// state accumulates the layers: one setting per top-level key, plus one per ARCHIVER_DATA sub-key.
type state struct {
	dir      string // working directory
	baseDir  string // the file's folder, or dir when there is no file
	log      *slog.Logger
	vals     map[string]setting
	warnings []string
}

type setting struct {
	v   any // string, int64, bool, []protocol.Subscriber; any JSON value for ignored keys
	src Source
}

func newState(dir string, log *slog.Logger) *state {
	st := &state{dir: dir, baseDir: dir, log: log, vals: map[string]setting{}}
	def := Source{Kind: FromDefault}
	for k, v := range map[string]any{
		KeyIP:                     DefaultIP,
		KeyPort:                   int64(DefaultPort),
		KeyHashKey:                DefaultHashKey,
		KeyPublicKey:              DefaultPublicKey,
		KeySecretKey:              DefaultSecretKey,
		KeyArchiverDBDir:          DefaultArchiverDBDir,
		KeyLogs:                   DefaultLogs,
		KeyRateLimit:              int64(DefaultRateLimit),
		KeyDataLogDir:             DefaultDataLogDir,
		KeyFileStreamIntervalMS:   int64(DefaultFileStreamIntervalMS),
		KeyNumberOfWorkers:        int64(DefaultNumberOfWorkers),
		KeyMaxClientsPerChild:     int64(DefaultMaxClientsPerChild),
		KeyVerbose:                false,
		KeyLimitToSubscribersOnly: false,
		KeySubscribers:            []protocol.Subscriber{},
		KeyDistributorMode:        DefaultDistributorMode,
		KeyMQServerPort:           int64(DefaultMQServerPort),
		KeyClientQueueFrames:      int64(DefaultClientQueueFrames),
		KeyClientStallTimeoutMS:   int64(DefaultClientStallTimeoutMS),
		KeyHealthReaderProblemMS:  int64(DefaultHealthReaderProblemMS),
		KeyFirehoseSource:         DefaultFirehoseSource,
		KeyRedisURL:               DefaultRedisURL,
		KeyRedisStreamPrefix:      DefaultRedisStreamPrefix,
		KeyRedisStreamMaxLen:      int64(DefaultRedisStreamMaxLen),
		KeyRESTForwardURL:         "",
	} {
		st.vals[k] = setting{v, def}
	}
	for _, sub := range archiverDataKeys {
		name, _ := DefaultArchiverData.Get(sub)
		st.vals[KeyArchiverData+"."+sub] = setting{name, def}
	}
	return st
}

// warned makes each warning appear in the log once per process, however often Load runs.
var warned sync.Map

func (st *state) warn(msg string) {
	st.warnings = append(st.warnings, msg)
	if _, dup := warned.LoadOrStore(msg, true); !dup {
		st.log.Warn(msg)
	}
}

// applyObject applies a parsed JSON object (the file, or Config.JSON): known keys in Keys order,
// then a warning for each unknown key.
func (st *state) applyObject(obj map[string]any, src Source) error {
	for _, k := range Keys {
		if v, ok := obj[k.Name]; ok {
			if err := st.applyJSON(k, v, src); err != nil {
				return err
			}
		}
	}
	var unknown []string
	for name := range obj {
		if _, ok := keyInfo(name); !ok {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		msg := fmt.Sprintf("config: unknown key %q in %s is ignored", name, src)
		if hint, ok := staleKeys[name]; ok {
			msg += " (" + hint + ")"
		}
		st.warn(msg)
	}
	return nil
}

// staleKeys are names people copy from old documentation.
var staleKeys = map[string]string{
	"ARCHIVER_DB_PATH": "the reference README's key does not exist; set ARCHIVER_DB_DIR to the folder of the archiver's .sqlite3 files",
}

// applyString applies a value given as text (environment or flag).
func (st *state) applyString(k KeyInfo, s string, src Source) error {
	if k.Ignored {
		st.vals[k.Name] = setting{s, src}
		return nil
	}
	switch k.Kind {
	case String:
		st.vals[k.Name] = setting{s, src}
	case Int:
		n, problem := parseInt(strings.TrimSpace(s))
		if problem != "" {
			return keyError(k.Name, src, quote(s), problem)
		}
		st.vals[k.Name] = setting{n, src}
	case Bool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			st.vals[k.Name] = setting{true, src}
		case "false":
			st.vals[k.Name] = setting{false, src}
		default:
			return keyError(k.Name, src, quote(s), `is not "true" or "false"`)
		}
	case Object, Array:
		v, err := decodeValue([]byte(s))
		if err != nil {
			return keyError(k.Name, src, "", "is not valid JSON: "+describeJSONError([]byte(s), err))
		}
		return st.applyJSON(k, v, src)
	}
	return nil
}

// applyJSON applies a decoded JSON value (numbers as json.Number).
func (st *state) applyJSON(k KeyInfo, v any, src Source) error {
	if k.Ignored {
		st.vals[k.Name] = setting{plain(v), src}
		return nil
	}
	switch k.Kind {
	case String:
		s, ok := v.(string)
		if !ok {
			return wrongType(k.Name, src, v, "a string")
		}
		st.vals[k.Name] = setting{s, src}
	case Int:
		num, ok := v.(json.Number)
		if !ok {
			return wrongType(k.Name, src, v, "a number")
		}
		n, problem := parseInt(num.String())
		if problem != "" {
			return keyError(k.Name, src, num.String(), problem)
		}
		st.vals[k.Name] = setting{n, src}
	case Bool:
		b, ok := v.(bool)
		if !ok {
			return wrongType(k.Name, src, v, "true or false")
		}
		st.vals[k.Name] = setting{b, src}
	case Object:
		return st.applyArchiverData(v, src)
	case Array:
		subs, err := st.parseSubscribers(v, src)
		if err != nil {
			return err
		}
		st.vals[k.Name] = setting{subs, src}
	}
	return nil
}

// applyArchiverData merges the object key by key, as the reference's deep merge does.
func (st *state) applyArchiverData(v any, src Source) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return wrongType(KeyArchiverData, src, v, "an object")
	}
	for _, sub := range archiverDataKeys {
		if sv, ok := obj[sub]; ok {
			s, ok := sv.(string)
			if !ok {
				return wrongType(KeyArchiverData+"."+sub, src, sv, "a string")
			}
			st.vals[KeyArchiverData+"."+sub] = setting{s, src}
		}
	}
	var unknown []string
	for name := range obj {
		if _, ok := DefaultArchiverData.Get(name); !ok {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		st.warn(fmt.Sprintf("config: unknown key %q in %s from %s is ignored", name, KeyArchiverData, src))
	}
	return nil
}

// parseSubscribers checks the shape of the subscribers array; build checks the values.
func (st *state) parseSubscribers(v any, src Source) ([]protocol.Subscriber, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, wrongType(KeySubscribers, src, v, "an array")
	}
	subs := make([]protocol.Subscriber, 0, len(arr))
	for i, e := range arr {
		at := fmt.Sprintf("%s[%d]", KeySubscribers, i)
		obj, ok := e.(map[string]any)
		if !ok {
			return nil, wrongType(at, src, e, "an object")
		}
		var s protocol.Subscriber
		pk, ok := obj["publicKey"]
		if !ok {
			return nil, keyError(at+".publicKey", src, "", "is missing")
		}
		if s.PublicKey, ok = pk.(string); !ok {
			return nil, wrongType(at+".publicKey", src, pk, "a string")
		}
		if et, ok := obj["expirationTimestamp"]; ok { // absent means never, as in the reference
			num, ok := et.(json.Number)
			if !ok {
				return nil, wrongType(at+".expirationTimestamp", src, et, "a number")
			}
			n, problem := parseInt(num.String())
			if problem != "" {
				return nil, keyError(at+".expirationTimestamp", src, num.String(), problem)
			}
			s.ExpirationTimestamp = n
		}
		typ, ok := obj["subscriptionType"]
		if !ok {
			return nil, keyError(at+".subscriptionType", src, "", "is missing")
		}
		if s.SubscriptionType, ok = typ.(string); !ok {
			return nil, wrongType(at+".subscriptionType", src, typ, "a string")
		}
		var unknown []string
		for name := range obj {
			switch name {
			case "publicKey", "expirationTimestamp", "subscriptionType":
			default:
				unknown = append(unknown, name)
			}
		}
		sort.Strings(unknown)
		for _, name := range unknown {
			st.warn(fmt.Sprintf("config: unknown key %q in %s from %s is ignored", name, at, src))
		}
		subs = append(subs, s)
	}
	return subs, nil
}

// parseInt accepts a JSON-style number with an integral value ("6100", "1e3", "100.0").
func parseInt(s string) (int64, string) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, ""
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(s, "xX_") {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return 0, "is out of range"
		}
		return 0, "is not a number"
	}
	if f != math.Trunc(f) {
		return 0, "is not a whole number"
	}
	if math.Abs(f) > 1<<53 {
		return 0, "is out of range"
	}
	return int64(f), ""
}

func wrongType(key string, src Source, v any, want string) *Error {
	return keyError(key, src, show(v), fmt.Sprintf("must be %s, not %s", want, jsonType(v)))
}

// show renders a decoded JSON value for an error message.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := string(b)
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// plain converts json.Number to float64 (or int64 when integral) so the value prints naturally.
func plain(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	}
	return v
}
