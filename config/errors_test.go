package config_test

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardeum/distributor/config"
)

// Every configuration error is one line naming the key and where the bad value came from.
func TestErrors(t *testing.T) {
	const file = "distributor-config.json"
	for _, tc := range []struct {
		name  string
		file  string // body of ./distributor-config.json; "" for none
		env   env
		flags []config.FlagValue
		want  string // %s is the file's path
	}{
		{name: "port not a number in env", env: env{"DISTRIBUTOR_PORT": "abc"},
			want: `config: DISTRIBUTOR_PORT: "abc" from environment is not a number`},
		{name: "port string in file", file: `{"DISTRIBUTOR_PORT": "6100"}`,
			want: `config: DISTRIBUTOR_PORT: "6100" from %s must be a number, not a string`},
		{name: "port fraction in file", file: `{"DISTRIBUTOR_PORT": 61.5}`,
			want: `config: DISTRIBUTOR_PORT: 61.5 from %s is not a whole number`},
		{name: "port out of range from flag", flags: []config.FlagValue{{Key: "DISTRIBUTOR_PORT", Name: "port", Value: "70000"}},
			want: `config: DISTRIBUTOR_PORT: 70000 from flag --port is out of range (0 to 65535)`},
		{name: "port negative in file", file: `{"DISTRIBUTOR_PORT": -1}`,
			want: `config: DISTRIBUTOR_PORT: -1 from %s is out of range (0 to 65535)`},
		{name: "port null in file", file: `{"DISTRIBUTOR_PORT": null}`,
			want: `config: DISTRIBUTOR_PORT: null from %s must be a number, not null`},
		{name: "huge number", env: env{"RATE_LIMIT": "1e400"},
			want: `config: RATE_LIMIT: "1e400" from environment is out of range`},
		{name: "hex number is not accepted", env: env{"RATE_LIMIT": "0x10"},
			want: `config: RATE_LIMIT: "0x10" from environment is not a number`},
		{name: "max clients zero", file: `{"MAX_CLIENTS_PER_CHILD": 0}`,
			want: `config: MAX_CLIENTS_PER_CHILD: 0 from %s must be positive`},
		{name: "max clients negative from env", env: env{"MAX_CLIENTS_PER_CHILD": "-3"},
			want: `config: MAX_CLIENTS_PER_CHILD: -3 from environment must be positive`},
		{name: "queue frames zero", flags: []config.FlagValue{{Key: "CLIENT_QUEUE_FRAMES", Value: "0"}},
			want: `config: CLIENT_QUEUE_FRAMES: 0 from flag --CLIENT_QUEUE_FRAMES must be positive`},
		{name: "interval zero", env: env{"FILE_STREAM_INTERVAL_MS": "0"},
			want: `config: FILE_STREAM_INTERVAL_MS: 0 from environment must be positive`},
		{name: "bool from env", env: env{"VERBOSE": "yes"},
			want: `config: VERBOSE: "yes" from environment is not "true" or "false"`},
		{name: "bool as string in file", file: `{"limitToSubscribersOnly": "true"}`,
			want: `config: limitToSubscribersOnly: "true" from %s must be true or false, not a string`},
		{name: "string as number in file", file: `{"DISTRIBUTOR_IP": 127}`,
			want: `config: DISTRIBUTOR_IP: 127 from %s must be a string, not a number`},
		{name: "empty data log dir", env: env{}, file: `{"DATA_LOG_DIR": " "}`,
			want: `config: DATA_LOG_DIR: " " from %s is empty`},
		{name: "hash key bad hex", env: env{"DISTRIBUTOR_HASH_KEY": "zz"},
			want: `config: DISTRIBUTOR_HASH_KEY: "zz" from environment is not hex (want 64 hex characters)`},
		{name: "hash key not 32 bytes", file: `{"DISTRIBUTOR_HASH_KEY": "69fa4195"}`,
			want: `config: DISTRIBUTOR_HASH_KEY: "69fa4195" from %s is 4 bytes, want 32 (64 hex characters)`},
		{name: "public key short", flags: []config.FlagValue{{Key: "DISTRIBUTOR_PUBLIC_KEY", Value: "abcd"}},
			want: `config: DISTRIBUTOR_PUBLIC_KEY: "abcd" from flag --DISTRIBUTOR_PUBLIC_KEY is 2 bytes, want 32 (64 hex characters)`},
		{name: "secret key bad hex is not echoed", env: env{"DISTRIBUTOR_SECRET_KEY": "secret-not-hex"},
			want: `config: DISTRIBUTOR_SECRET_KEY from environment is not hex (want 128 hex characters)`},
		{name: "secret key of another pair in file", file: `{"DISTRIBUTOR_SECRET_KEY": "` + strangerSec + `"}`,
			want: `config: DISTRIBUTOR_SECRET_KEY from %s does not match DISTRIBUTOR_PUBLIC_KEY from default`},
		{name: "secret key not a key pair", env: env{"DISTRIBUTOR_SECRET_KEY": strangerSec[:64] + collectorPub},
			want: `config: DISTRIBUTOR_SECRET_KEY from environment is not an Ed25519 secret key (its second half is not the public key of its seed)`},
		{name: "both keys in file, mismatched", file: `{"DISTRIBUTOR_PUBLIC_KEY": "` + collectorPub + `", "DISTRIBUTOR_SECRET_KEY": "` + strangerSec + `"}`,
			want: `config: DISTRIBUTOR_SECRET_KEY from %s does not match DISTRIBUTOR_PUBLIC_KEY`},
		{name: "secret key flag vs public env", env: env{"DISTRIBUTOR_PUBLIC_KEY": collectorPub},
			flags: []config.FlagValue{{Key: "DISTRIBUTOR_SECRET_KEY", Name: "secret-key", Value: strangerSec}},
			want:  `config: DISTRIBUTOR_SECRET_KEY from flag --secret-key does not match DISTRIBUTOR_PUBLIC_KEY from environment`},
		{name: "subscribers not an array", file: `{"subscribers": {}}`,
			want: `config: subscribers: {} from %s must be an array, not an object`},
		{name: "subscriber not an object", file: `{"subscribers": ["` + collectorPub + `"]}`,
			want: `config: subscribers[0]: "` + collectorPub + `" from %s must be an object, not a string`},
		{name: "subscriber bad key", file: `{"subscribers": [{"publicKey":"` + collectorPub + `","subscriptionType":"FIREHOSE"},{"publicKey":"nothex","subscriptionType":"FIREHOSE"}]}`,
			want: `config: subscribers[1].publicKey: "nothex" from %s is not hex (want 64 hex characters)`},
		{name: "subscriber key missing", file: `{"subscribers": [{"subscriptionType":"FIREHOSE"}]}`,
			want: `config: subscribers[0].publicKey from %s is missing`},
		{name: "subscriber bad type", env: env{"subscribers": `[{"publicKey":"` + collectorPub + `","expirationTimestamp":0,"subscriptionType":"firehose"}]`},
			want: `config: subscribers[0].subscriptionType: "firehose" from environment is not one of FIREHOSE, ACCOUNTS`},
		{name: "subscriber type missing", file: `{"subscribers": [{"publicKey":"` + collectorPub + `"}]}`,
			want: `config: subscribers[0].subscriptionType from %s is missing`},
		{name: "subscriber expiry a string", file: `{"subscribers": [{"publicKey":"` + collectorPub + `","expirationTimestamp":"0","subscriptionType":"FIREHOSE"}]}`,
			want: `config: subscribers[0].expirationTimestamp: "0" from %s must be a number, not a string`},
		{name: "subscriber expiry negative", file: `{"subscribers": [{"publicKey":"` + collectorPub + `","expirationTimestamp":-1,"subscriptionType":"FIREHOSE"}]}`,
			want: `config: subscribers[0].expirationTimestamp: -1 from %s is negative (0 means never; otherwise Unix milliseconds)`},
		{name: "subscribers env not JSON", env: env{"subscribers": `[{"publicKey":`},
			want: `config: subscribers from environment is not valid JSON: line 1, column 14: unexpected end of JSON input`},
		{name: "archiver data entry not a string", file: `{"ARCHIVER_DATA": {"cycleDB": 1}}`,
			want: `config: ARCHIVER_DATA.cycleDB: 1 from %s must be a string, not a number`},
		{name: "archiver data not an object from flag", flags: []config.FlagValue{{Key: "ARCHIVER_DATA", Value: `[]`}},
			want: `config: ARCHIVER_DATA: [] from flag --ARCHIVER_DATA must be an object, not an array`},
		{name: "invalid JSON names line and column", file: "{\n  \"DISTRIBUTOR_PORT\": 6100,\n}\n",
			want: `config: %s: line 3, column 1: invalid character '}' looking for beginning of object key string`},
		{name: "truncated JSON", file: "{\n  \"DISTRIBUTOR_PORT\": 61",
			want: `config: %s: line 2, column 24: unexpected end of JSON input`},
		{name: "empty file", file: " \n",
			want: `config: %s: empty file, want a JSON object`},
		{name: "top level array", file: `[1]`,
			want: `config: %s: not a JSON object: the top level is an array`},
		{name: "trailing garbage", file: "{}\n{}",
			want: `config: %s: line 2, column 1: unexpected data after the JSON value`},
		{name: "trailing garbage that is not JSON", file: "{}\n  xyz",
			want: `config: %s: line 2, column 3: unexpected data after the JSON value`},
		{name: "value with newline stays one line", env: env{"DISTRIBUTOR_PORT": "1\n2"},
			want: `config: DISTRIBUTOR_PORT: "1\n2" from environment is not a number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			want := tc.want
			if tc.file != "" {
				p := writeFile(t, dir, file, tc.file)
				want = strings.ReplaceAll(want, "%s", p)
			}
			_, err := load(t, config.LoadOptions{Dir: dir, Flags: tc.flags}, tc.env)
			wantError(t, err, want)
		})
	}
}

func TestNamedFileMustExist(t *testing.T) {
	dir := t.TempDir()
	_, err := load(t, config.LoadOptions{Dir: dir, Path: "missing.json"}, nil)
	wantError(t, err, "config: cannot read "+filepath.Join(dir, "missing.json")+": no such file or directory")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error does not wrap fs.ErrNotExist: %v", err)
	}
	// Without --config a missing default file means the defaults.
	if _, err := load(t, config.LoadOptions{Dir: dir}, nil); err != nil {
		t.Errorf("no default file: %v", err)
	}
}

func TestUnknownFlagKey(t *testing.T) {
	_, err := load(t, config.LoadOptions{Flags: []config.FlagValue{{Key: "NOPE", Value: "1"}}}, nil)
	wantError(t, err, "config: --NOPE is not a configuration key")
}
